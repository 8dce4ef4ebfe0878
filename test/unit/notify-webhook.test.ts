import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ANNOUNCED_EVENTS } from '../../src/domain/notification.js';
import { CancelledError } from '../../src/domain/errors.js';
import { TargetGuard } from '../../src/notify/target-guard.js';
import { WebhookNotifier, type WebhookOptions } from '../../src/notify/webhook.js';
import { closedPort, startReceiver, type Received, type Receiver, type Reply } from '../support/notify-receiver.js';
import { completedNotification, failedNotification, waitingNotification } from '../support/notifications.js';

const SECRET = 'whsec-test-3f9c1d-long-enough';
const open = new TargetGuard({ allowPrivate: true });
const live = () => new AbortController().signal;

/** What a receiver does: recompute the HMAC over `<timestamp>.<raw body>` and compare in constant time. */
function verifies(request: Received, secret = SECRET): boolean {
  const timestamp = String(request.headers['x-executor-timestamp']);
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${request.body}`).digest('hex')}`);
  const given = Buffer.from(String(request.headers['x-executor-signature']));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe('WebhookNotifier', () => {
  let receiver: Receiver;
  afterEach(async () => {
    await receiver?.close();
  });

  async function notifierFor(replies: Reply[] = [], options: Partial<WebhookOptions> = {}) {
    receiver = await startReceiver(replies);
    return new WebhookNotifier({ url: `${receiver.origin}/hooks/executor?via=test`, secret: SECRET, events: ANNOUNCED_EVENTS, guard: open, timeoutMs: 2_000, ...options });
  }

  it('POSTs one signed JSON message per attempt, with timestamp, delivery id and event headers', async () => {
    const notifier = await notifierFor([], { now: () => 1_767_225_600_123 });
    const notification = completedNotification();
    expect(await notifier.deliver(notification, live())).toEqual({ outcome: 'delivered', detail: 'HTTP 200' });
    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received as [Received];
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/hooks/executor?via=test');
    expect(request.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'x-executor-timestamp': '1767225600',
      'x-executor-delivery': notification.deliveryId,
      'x-executor-event': 'completed',
    });
    expect(request.headers['x-executor-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifies(request)).toBe(true);
    expect(verifies(request, 'another-secret-value')).toBe(false);
    // The signature covers the timestamp: the same body under another timestamp does not verify.
    expect(verifies({ ...request, headers: { ...request.headers, 'x-executor-timestamp': '1767225601' } })).toBe(false);
    expect(JSON.parse(request.body)).toEqual({
      delivery_id: notification.deliveryId,
      event: 'completed',
      build_id: notification.buildId,
      droplet_id: 13,
      droplet_name: 'analytics-engine',
      build_url: notification.buildUrl,
      deployment_url: 'http://droplets.example:41001',
      repository_url: 'git@github.com:fleet/analytics-engine.git',
      summary: 'Droplet analytics-engine is live — “ünïcode” included.',
      duration_seconds: 200,
      cost_usd: 0.042,
      intent_coverage: { covered: ['droplet metrics'], not_covered: [] },
      failure: null,
      approval: null,
      at: '2026-01-01T00:10:00.000Z',
    });
    expect(JSON.stringify(request)).not.toContain(SECRET);
  });

  it('carries the failure reason and the approval links', async () => {
    const notifier = await notifierFor();
    await notifier.deliver(failedNotification(), live());
    await notifier.deliver(waitingNotification(), live());
    const [failed, waiting] = receiver.received.map((request) => JSON.parse(request.body) as Record<string, unknown>) as [Record<string, unknown>, Record<string, unknown>];
    expect(failed.failure).toEqual({ code: 'VERIFICATION_FAILED', message: '3 of 12 tests failed after 10 attempts', step: 'verifier' });
    expect(waiting.approval).toEqual({
      gate: 'after_spec',
      summary: 'Review SPEC.md: 4 resources, 18 acceptance criteria.',
      approve_url: 'http://executor.example:8400/executor/approvals/approve-token.sig',
      reject_url: 'http://executor.example:8400/executor/approvals/reject-token.sig',
      links_expire_at: '2026-01-02T00:10:00.000Z',
    });
    expect(receiver.received.map((request) => request.headers['x-executor-event'])).toEqual(['failed', 'waiting_approval']);
    expect(receiver.received.every((request) => verifies(request))).toBe(true);
  });

  it('signs each attempt with its own timestamp, keeping the delivery id', async () => {
    let now = 1_767_225_600_000;
    const notifier = await notifierFor([{ status: 503 }], { now: () => now });
    expect(await notifier.deliver(completedNotification(), live())).toEqual({ outcome: 'retry', detail: 'HTTP 503' });
    now += 30_000;
    expect(await notifier.deliver(completedNotification(), live())).toEqual({ outcome: 'delivered', detail: 'HTTP 200' });
    const [first, second] = receiver.received as [Received, Received];
    expect([first.headers['x-executor-timestamp'], second.headers['x-executor-timestamp']]).toEqual(['1767225600', '1767225630']);
    expect(first.headers['x-executor-delivery']).toBe(second.headers['x-executor-delivery']);
    expect(first.body).toBe(second.body);
    expect(first.headers['x-executor-signature']).not.toBe(second.headers['x-executor-signature']);
    expect(verifies(first) && verifies(second)).toBe(true);
  });

  it.each([
    [{ status: 500 }, { outcome: 'retry', detail: 'HTTP 500' }],
    [{ status: 502, body: 'Bad Gateway' }, { outcome: 'retry', detail: 'HTTP 502: Bad Gateway' }],
    [{ status: 429, body: 'slow down' }, { outcome: 'retry', detail: 'HTTP 429: slow down' }],
    [{ status: 400, body: '{"error":"bad"}' }, { outcome: 'rejected', detail: 'HTTP 400' }],
    [{ status: 401 }, { outcome: 'rejected', detail: 'HTTP 401' }],
    [{ status: 404, body: 'not found' }, { outcome: 'rejected', detail: 'HTTP 404: not found' }],
    [{ status: 410 }, { outcome: 'rejected', detail: 'HTTP 410' }],
    [{ status: 301, headers: { location: 'http://127.0.0.1:1/' } }, { outcome: 'rejected', detail: 'HTTP 301: redirects are not followed' }],
    [{ status: 202 }, { outcome: 'delivered', detail: 'HTTP 202' }],
    [{ status: 204 }, { outcome: 'delivered', detail: 'HTTP 204' }],
  ])('answers %j → %j, in one attempt', async (reply, attempt) => {
    const notifier = await notifierFor([reply]);
    expect(await notifier.deliver(completedNotification(), live())).toEqual(attempt);
    expect(receiver.received).toHaveLength(1);
  });

  it('gives up an attempt that gets no answer in time, as worth a retry', async () => {
    const notifier = await notifierFor([{ status: 200, hang: true }], { timeoutMs: 300 });
    expect(await notifier.deliver(completedNotification(), live())).toEqual({ outcome: 'retry', detail: 'timed out after 300 ms' });
    expect(receiver.received).toHaveLength(1);
  });

  it('counts a refused connection as worth a retry', async () => {
    receiver = await startReceiver();
    const port = await closedPort();
    const notifier = new WebhookNotifier({ url: `http://127.0.0.1:${port}/hook`, secret: SECRET, events: ANNOUNCED_EVENTS, guard: open, timeoutMs: 2_000 });
    expect(await notifier.deliver(completedNotification(), live())).toEqual({ outcome: 'retry', detail: 'network error: ECONNREFUSED' });
  });

  it('is rejected, sending nothing, when the target is refused (no NOTIFY_ALLOW_PRIVATE)', async () => {
    const notifier = await notifierFor([], { guard: new TargetGuard({ allowPrivate: false }) });
    expect(await notifier.deliver(completedNotification(), live())).toEqual({
      outcome: 'rejected',
      detail: 'target refused: 127.0.0.1 is a loopback address (NOTIFY_ALLOW_PRIVATE=true allows it)',
    });
    expect(receiver.received).toHaveLength(0);
  });

  it('throws CancelledError when the caller aborts mid-attempt', async () => {
    const notifier = await notifierFor([{ status: 200, hang: true }], { timeoutMs: 10_000 });
    const controller = new AbortController();
    const delivery = notifier.deliver(completedNotification(), controller.signal);
    await expect.poll(() => receiver.received.length).toBe(1);
    controller.abort();
    await expect(delivery).rejects.toBeInstanceOf(CancelledError);
  });

  it('keeps the configured events', async () => {
    const notifier = await notifierFor([], { events: ['failed'] });
    expect(notifier.channel).toBe('webhook');
    expect(notifier.events).toEqual(['failed']);
  });
});
