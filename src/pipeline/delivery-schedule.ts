/**
 * When an undelivered announcement is tried again: jittered exponential back-off, for
 * at most the retry window counted from the first attempt. Pure, so it is tested alone.
 */
import type { DeliveryAttempt } from '../domain/notification.js';
import type { OutboxStatus } from '../domain/ports/notification-outbox.js';

export interface RetryPolicy {
  /** NOTIFY_RETRY_WINDOW_SECONDS, in ms: no attempt is scheduled later than this after the first one. */
  windowMs: number;
  /** The delay before the second attempt; each later one doubles it, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface NextStep {
  status: OutboxStatus;
  nextAttemptAt: string | null;
  /** What the delivery says now: the attempt's detail, or why it was given up. */
  detail: string;
}

/** The delay after attempt `attempt` (1-based), jittered to 50–100 % so receivers are not hit in lockstep. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full * (0.5 + random() / 2));
}

/** Where a delivery stands after attempt number `attempt` ended at `at`. */
export function afterAttempt(
  result: DeliveryAttempt,
  attempt: number,
  timing: { firstAttemptAt: Date; at: Date },
  policy: RetryPolicy,
  random?: () => number,
): NextStep {
  if (result.outcome === 'delivered') return { status: 'delivered', nextAttemptAt: null, detail: result.detail };
  if (result.outcome === 'rejected') return { status: 'failed', nextAttemptAt: null, detail: result.detail };
  const next = timing.at.getTime() + backoffMs(attempt, policy, random);
  if (next - timing.firstAttemptAt.getTime() > policy.windowMs) {
    const window = Math.round(policy.windowMs / 1000);
    return { status: 'failed', nextAttemptAt: null, detail: `${result.detail}; given up after ${attempt} attempt(s) (retry window ${window} s)` };
  }
  return { status: 'pending', nextAttemptAt: new Date(next).toISOString(), detail: result.detail };
}
