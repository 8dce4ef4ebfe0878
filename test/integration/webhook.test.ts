import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CancelledError } from '../../src/domain/errors.js';
import type { BuildNotification } from '../../src/domain/notification.js';
import { WebhookNotifier } from '../../src/notify/webhook.js';

interface Received {
  method: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A real receiver on loopback that answers with the scripted statuses, then 200. */
async function startReceiver(statuses: number[] = []): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ method: request.method ?? '', headers: request.headers, body: Buffer.concat(chunks) });
      response.statusCode = statuses.shift() ?? 200;
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/executor`, received, server };
}

const notification: BuildNotification = {
  deliveryId: 'build-13-analytics-engine-20260101-000000:build.completed',
  event: 'build.completed',
  buildId: 'build-13-analytics-engine-20260101-000000',
  dropletId: 13,
  dropletName: 'analytics-engine',
  deploymentUrl: 'http://127.0.0.1:41001',
  repositoryPath: '/data/repos/13-analytics-engine',
  summary: 'Droplet analytics-engine is live — “ünïcode” included.',
  intentCoverage: { covered: ['droplet metrics', 'performance'], not_covered: [] },
  completedAt: '2026-01-01T00:10:00.000Z',
};

const SECRET = 'whsec-test-3f9c1d';
const fast = { timeoutMs: 2_000, attempts: 3, baseDelayMs: 5, maxDelayMs: 20 };

describe('WebhookNotifier', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  async function receiver(statuses?: number[]) {
    const started = await startReceiver(statuses);
    servers.push(started.server);
    return started;
  }

  it('signs the exact raw body with HMAC-SHA256 and sends the delivery headers', async () => {
    const { url, received } = await receiver();
    const result = await new WebhookNotifier({ url, secret: SECRET, ...fast }).notify(notification, new AbortController().signal);

    expect(result).toEqual({ channel: 'webhook', delivered: true, detail: 'HTTP 200 after 1 attempt(s)' });
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request!.method).toBe('POST');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['x-executor-event']).toBe('build.completed');
    expect(request!.headers['x-executor-delivery']).toBe(notification.deliveryId);
    const expected = `sha256=${createHmac('sha256', SECRET).update(request!.body).digest('hex')}`;
    expect(request!.headers['x-executor-signature']).toBe(expected);
    expect(JSON.parse(request!.body.toString('utf8'))).toEqual(notification);
    // A different secret does not verify.
    expect(createHmac('sha256', 'other').update(request!.body).digest('hex')).not.toBe(expected.slice(7));
  });

  it('retries a 500 and delivers once when the receiver recovers', async () => {
    const { url, received } = await receiver([500]);
    const result = await new WebhookNotifier({ url, secret: SECRET, ...fast }).notify(notification, new AbortController().signal);
    expect(result.delivered).toBe(true);
    expect(result.detail).toBe('HTTP 200 after 2 attempt(s)');
    expect(received).toHaveLength(2);
    expect(new Set(received.map((request) => request.headers['x-executor-delivery']))).toEqual(
      new Set([notification.deliveryId]),
    );
  });

  it('retries 429 but gives up after the configured attempts', async () => {
    const { url, received } = await receiver([429, 503, 502, 500]);
    const result = await new WebhookNotifier({ url, ...fast }).notify(notification, new AbortController().signal);
    expect(result).toEqual({ channel: 'webhook', delivered: false, detail: 'HTTP 502' });
    expect(received).toHaveLength(3);
  });

  it('does not retry a 400', async () => {
    const { url, received } = await receiver([400]);
    const result = await new WebhookNotifier({ url, secret: SECRET, ...fast }).notify(notification, new AbortController().signal);
    expect(result).toEqual({ channel: 'webhook', delivered: false, detail: 'HTTP 400' });
    expect(received).toHaveLength(1);
  });

  it('sends no signature header without a secret', async () => {
    const { url, received } = await receiver();
    const result = await new WebhookNotifier({ url, ...fast }).notify(notification, new AbortController().signal);
    expect(result.delivered).toBe(true);
    expect(received[0]!.headers).not.toHaveProperty('x-executor-signature');
  });

  it('retries network errors and reports them', async () => {
    // A port that was listening and is now closed: connection refused on every attempt.
    const { url, server } = await startReceiver();
    await new Promise((resolve) => server.close(resolve));
    const result = await new WebhookNotifier({ url, ...fast, attempts: 2 }).notify(notification, new AbortController().signal);
    expect(result.delivered).toBe(false);
    expect(result.detail).toMatch(/^network error: .*ECONNREFUSED/);
  });

  it('stops when the caller aborts', async () => {
    const { url, received } = await receiver([500, 500, 500]);
    const controller = new AbortController();
    const notifier = new WebhookNotifier({ url, ...fast, baseDelayMs: 10_000, maxDelayMs: 10_000 });
    const delivery = notifier.notify(notification, controller.signal);
    while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    await expect(delivery).rejects.toBeInstanceOf(CancelledError);
    expect(received).toHaveLength(1);
  });

  it('logs attempts without the secret or the URL path', async () => {
    const { url } = await receiver([500]);
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = pino({ level: 'info' }, sink);
    await new WebhookNotifier({ url, secret: SECRET, ...fast, logger }).notify(notification, new AbortController().signal);
    expect(lines).toHaveLength(2);
    expect(lines.map((line) => (JSON.parse(line) as { outcome?: unknown }).outcome)).toEqual(['retry', 'delivered']);
    for (const line of lines) {
      expect(line).not.toContain(SECRET);
      expect(line).not.toContain('/hooks/executor');
    }
  });
});
