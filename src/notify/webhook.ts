/**
 * The `webhook` channel: one signed JSON POST per attempt. Receivers verify
 * `X-Executor-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` with the shared
 * secret, refuse a stale `X-Executor-Timestamp`, and drop duplicates by `X-Executor-Delivery`.
 */
import { createHmac } from 'node:crypto';
import type { AnnouncedEvent, BuildNotification, DeliveryAttempt } from '../domain/notification.js';
import type { Notifier } from '../domain/ports/notifier.js';
import { attemptOf, guardedPost } from './guarded-post.js';
import { notificationJson } from './message.js';
import type { TargetGuard } from './target-guard.js';

export interface WebhookOptions {
  /** NOTIFY_WEBHOOK_URL. Never logged or shown: paths often embed a token. */
  url: string;
  /** NOTIFY_WEBHOOK_SECRET: signs each attempt; never sent. */
  secret: string;
  events: readonly AnnouncedEvent[];
  guard: TargetGuard;
  /** Per attempt (NOTIFY_TIMEOUT_SECONDS). */
  timeoutMs: number;
  /** Unix milliseconds; tests move it. */
  now?: () => number;
}

/** `sha256=<hex>` over `<timestamp>.<body>`, the exact bytes sent. */
export function signDelivery(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

export class WebhookNotifier implements Notifier {
  readonly channel = 'webhook';
  readonly events: readonly AnnouncedEvent[];
  private readonly now: () => number;

  constructor(private readonly options: WebhookOptions) {
    this.events = options.events;
    this.now = options.now ?? Date.now;
  }

  async deliver(notification: BuildNotification, signal: AbortSignal): Promise<DeliveryAttempt> {
    const body = JSON.stringify(notificationJson(notification, { links: true }));
    // Signed per attempt: a retry carries a fresh timestamp, so receivers can keep a tight window.
    const timestamp = String(Math.floor(this.now() / 1000));
    const outcome = await guardedPost(this.options.guard, this.options.url, {
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'autonomous-executor',
        'x-executor-event': notification.event,
        'x-executor-delivery': notification.deliveryId,
        'x-executor-timestamp': timestamp,
        'x-executor-signature': signDelivery(this.options.secret, timestamp, body),
      },
      body,
      timeoutMs: this.options.timeoutMs,
      signal,
    });
    return attemptOf(outcome);
  }
}
