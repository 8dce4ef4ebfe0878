/**
 * The `webhook` channel: POSTs the notification as JSON, signed with HMAC-SHA256 when a
 * secret is configured, retrying what a retry can fix (5xx, 429, network errors, timeouts).
 */
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { CancelledError } from '../domain/errors.js';
import type { Notifier } from '../domain/ports/notifier.js';
import type { BuildNotification, DeliveryResult } from '../domain/notification.js';

export interface WebhookOptions {
  url: string;
  /** Signs the body; never logged, never sent. */
  secret?: string;
  /** Per attempt. */
  timeoutMs: number;
  /** Total attempts, at least 1. */
  attempts: number;
  /** Backoff before attempt n+1: min(maxDelayMs, baseDelayMs·2^(n-1)), jittered to 50–100 %. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  logger?: Logger;
}

/** `sha256=<hex>` over the exact body bytes, as receivers verify it. */
export function signBody(secret: string, body: Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

type Attempt = { kind: 'delivered' | 'rejected' | 'retry'; detail: string };

export class WebhookNotifier implements Notifier {
  readonly channel = 'webhook';
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  /** Only the origin is logged: webhook paths often embed a token. */
  private readonly origin: string;

  constructor(private readonly options: WebhookOptions) {
    this.origin = new URL(options.url).origin;
    this.attempts = Math.max(1, Math.floor(options.attempts));
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
  }

  async notify(notification: BuildNotification, signal: AbortSignal): Promise<DeliveryResult> {
    // fetch sends a string as UTF-8, the same bytes that are signed here.
    const body = JSON.stringify(notification);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-executor-event': notification.event,
      'x-executor-delivery': notification.deliveryId,
    };
    if (this.options.secret) headers['x-executor-signature'] = signBody(this.options.secret, Buffer.from(body, 'utf8'));

    let last: Attempt = { kind: 'retry', detail: 'not attempted' };
    for (let attempt = 1; attempt <= this.attempts; attempt += 1) {
      if (signal.aborted) throw new CancelledError();
      last = await this.attempt(body, headers, signal);
      this.options.logger?.info(
        { channel: this.channel, origin: this.origin, delivery_id: notification.deliveryId, attempt, of: this.attempts, outcome: last.kind, detail: last.detail },
        `webhook attempt ${attempt} of ${this.attempts}`,
      );
      if (last.kind === 'delivered') {
        return { channel: this.channel, delivered: true, detail: `${last.detail} after ${attempt} attempt(s)` };
      }
      if (last.kind === 'rejected') break;
      if (attempt < this.attempts) await this.backoff(attempt, signal);
    }
    return { channel: this.channel, delivered: false, detail: last.detail };
  }

  private async attempt(body: string, headers: Record<string, string>, signal: AbortSignal): Promise<Attempt> {
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
      await response.body?.cancel();
      const detail = `HTTP ${response.status}`;
      if (response.status >= 200 && response.status < 300) return { kind: 'delivered', detail };
      if (response.status === 429 || response.status >= 500) return { kind: 'retry', detail };
      return { kind: 'rejected', detail };
    } catch (error) {
      if (signal.aborted) throw new CancelledError();
      const name = error instanceof Error ? error.name : '';
      if (name === 'TimeoutError') return { kind: 'retry', detail: `timed out after ${this.options.timeoutMs} ms` };
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      return { kind: 'retry', detail: `network error: ${cause}` };
    }
  }

  private async backoff(attempt: number, signal: AbortSignal): Promise<void> {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    const delay = ceiling * (0.5 + Math.random() * 0.5);
    try {
      await sleep(delay, undefined, { signal });
    } catch {
      throw new CancelledError();
    }
  }
}
