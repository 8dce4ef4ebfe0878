import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LogNotifier } from '../../src/notify/log.js';

describe('LogNotifier', () => {
  it('writes one structured line per notification, with what of the intent is not covered', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const notifier = new LogNotifier(pino({ level: 'info' }, sink));
    const result = await notifier.notify(
      {
        deliveryId: 'build-1-demo-20260101-000000:build.completed',
        event: 'build.completed',
        buildId: 'build-1-demo-20260101-000000',
        dropletId: 1,
        dropletName: 'demo',
        deploymentUrl: null,
        repositoryPath: '/data/repos/1-demo',
        summary: 'Droplet demo is built. Not covered: "fans out messages to email and slack".',
        intentCoverage: { covered: ['messages'], not_covered: ['fans out messages to email and slack'] },
        completedAt: '2026-01-01T00:00:00.000Z',
      },
      new AbortController().signal,
    );
    expect(result).toEqual({ channel: 'log', delivered: true, detail: 'logged' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 30,
      msg: 'Droplet demo is built. Not covered: "fans out messages to email and slack".',
      notification: {
        delivery_id: 'build-1-demo-20260101-000000:build.completed',
        droplet_name: 'demo',
        deployment_url: null,
        intent_coverage: { covered: ['messages'], not_covered: ['fans out messages to email and slack'] },
      },
    });
  });
});
