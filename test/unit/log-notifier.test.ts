import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ANNOUNCED_EVENTS } from '../../src/domain/notification.js';
import { LogNotifier } from '../../src/notify/log.js';
import { completedNotification, waitingNotification } from '../support/notifications.js';

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, sink) };
}

describe('LogNotifier', () => {
  it('writes one structured line per notification, announces every event and is always delivered', async () => {
    const { lines, logger } = capture();
    const notifier = new LogNotifier(logger);
    expect(notifier.channel).toBe('log');
    expect(notifier.events).toEqual(ANNOUNCED_EVENTS);
    const notification = completedNotification({
      summary: 'Droplet demo is built. Not covered: "fans out messages to email and slack".',
      intentCoverage: { covered: ['messages'], not_covered: ['fans out messages to email and slack'] },
    });
    expect(await notifier.deliver(notification, new AbortController().signal)).toEqual({ outcome: 'delivered', detail: 'logged' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 30,
      msg: 'analytics-engine: build completed: Droplet demo is built. Not covered: "fans out messages to email and slack".',
      notification: {
        delivery_id: notification.deliveryId,
        event: 'completed',
        droplet_name: 'analytics-engine',
        build_url: notification.buildUrl,
        deployment_url: 'http://droplets.example:41001',
        duration_seconds: 200,
        cost_usd: 0.042,
        intent_coverage: { covered: ['messages'], not_covered: ['fans out messages to email and slack'] },
      },
    });
  });

  it('logs what to review but keeps the signed approval links out of the log', async () => {
    const { lines, logger } = capture();
    const notification = waitingNotification();
    await new LogNotifier(logger).deliver(notification, new AbortController().signal);
    const line = JSON.parse(lines[0]!);
    expect(line.notification.approval).toEqual({ gate: 'after_spec', summary: notification.approval!.summary });
    expect(lines[0]).not.toContain('approve-token');
    expect(lines[0]).not.toContain('reject-token');
  });
});
