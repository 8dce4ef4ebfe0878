import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/composition/config.js';
import { createNotifiers } from '../../src/composition/notifiers.js';
import { startReceiver, type Receiver } from '../support/notify-receiver.js';
import { completedNotification } from '../support/notifications.js';

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

const SECRET = 'whsec-notifiers-test-secret';

describe('createNotifiers', () => {
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it('has only the log channel when nothing else is configured', () => {
    const notifiers = createNotifiers(loadConfig({}), capture().logger);
    expect(notifiers.map((notifier) => [notifier.channel, notifier.events])).toEqual([['log', ['completed', 'failed', 'waiting_approval']]]);
  });

  it('adds webhook, slack and email with the events configured for each', () => {
    const config = loadConfig({
      NOTIFY_WEBHOOK_URL: 'https://hooks.fleet.example/executor',
      NOTIFY_WEBHOOK_SECRET: SECRET,
      NOTIFY_WEBHOOK_EVENTS: 'completed,failed',
      SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/abcdef',
      NOTIFY_SLACK_EVENTS: 'waiting_approval',
      SMTP_URL: 'smtp://relay.fleet.example:587',
      NOTIFY_EMAIL_FROM: 'executor@fleet.example',
      NOTIFY_EMAIL_TO: 'a@fleet.example,b@fleet.example',
    });
    const { lines, logger } = capture();
    const notifiers = createNotifiers(config, logger, { approvalLinkBase: config.publicUrl });
    expect(notifiers.map((notifier) => [notifier.channel, notifier.events])).toEqual([
      ['log', ['completed', 'failed', 'waiting_approval']],
      ['webhook', ['completed', 'failed']],
      ['slack', ['waiting_approval']],
      ['email', ['completed', 'failed', 'waiting_approval']],
    ]);
    expect(lines).toEqual([]);
  });

  it('warns at start about a target the URL alone condemns, without the URL', () => {
    const config = loadConfig({ NOTIFY_WEBHOOK_URL: 'http://10.0.0.9/hooks/path-token-123', NOTIFY_WEBHOOK_SECRET: SECRET });
    const { lines, logger } = capture();
    expect(createNotifiers(config, logger).map((notifier) => notifier.channel)).toEqual(['log', 'webhook']);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 40,
      channel: 'webhook',
      reason: 'target refused: 10.0.0.9 is a private address (NOTIFY_ALLOW_PRIVATE=true allows it)',
      msg: 'the webhook notification target will be refused',
    });
    expect(lines[0]).not.toContain('path-token-123');
  });

  it.each([
    ['true', { outcome: 'delivered', detail: 'HTTP 200' }, 1],
    ['false', { outcome: 'rejected', detail: 'target refused: 127.0.0.1 is a loopback address (NOTIFY_ALLOW_PRIVATE=true allows it)' }, 0],
  ])('guards the webhook by NOTIFY_ALLOW_PRIVATE=%s', async (allow, attempt, received) => {
    receiver = await startReceiver();
    const config = loadConfig({ NOTIFY_WEBHOOK_URL: `${receiver.origin}/hook`, NOTIFY_WEBHOOK_SECRET: SECRET, NOTIFY_ALLOW_PRIVATE: allow, NOTIFY_TIMEOUT_SECONDS: '5' });
    const webhook = createNotifiers(config, capture().logger).find((notifier) => notifier.channel === 'webhook')!;
    expect(await webhook.deliver(completedNotification(), new AbortController().signal)).toEqual(attempt);
    expect(receiver.received).toHaveLength(received);
  });
});
