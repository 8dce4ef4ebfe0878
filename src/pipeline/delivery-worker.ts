/**
 * Delivers outbox entries: one attempt at a time per entry, each recorded in the outbox
 * and journaled as `notification.attempted` on the build, retries scheduled by the
 * back-off until delivered or given up. In-process guards keep one attempt in flight per
 * entry; the outbox keeps the rest across restarts (a crash mid-attempt means one more
 * attempt later, which receivers drop by its delivery id). An approval request is sent
 * only while the build is still in the wait it asks about, with links signed for that
 * wait alone: a late retry (or one after a restart) can never carry links for a newer wait.
 */
import type { Logger } from 'pino';
import type { GateName } from '../domain/build.js';
import type { BuildNotification, DeliveryAttempt } from '../domain/notification.js';
import type { ApprovalLinkIssuer } from '../domain/ports/approval-links.js';
import type { BuildStore } from '../domain/ports/build-store.js';
import type { NotificationOutbox, OutboxEntry } from '../domain/ports/notification-outbox.js';
import type { Notifier } from '../domain/ports/notifier.js';
import { asError } from '../domain/errors.js';
import { afterAttempt, type RetryPolicy } from './delivery-schedule.js';

export interface DeliveryWorkerDeps {
  outbox: NotificationOutbox;
  notifiers: readonly Notifier[];
  /** `get`: whether an approval request's wait is still the build's. */
  store: Pick<BuildStore, 'get'>;
  /** Signs approve/reject links into approval requests, fresh for each attempt (a link is never stored), for the request's wait. */
  links?: ApprovalLinkIssuer | null;
  policy: RetryPolicy & { attemptTimeoutMs: number };
  log: Logger;
  redact: (text: string) => string;
  now?: () => Date;
  random?: () => number;
}

const keyOf = (entry: Pick<OutboxEntry, 'deliveryId' | 'channel'>) => `${entry.deliveryId}\u0000${entry.channel}`;

export class DeliveryWorker {
  private readonly notifiers: ReadonlyMap<string, Notifier>;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly watchers = new Set<() => void>();
  private readonly closing = new AbortController();
  private readonly now: () => Date;

  constructor(private readonly deps: DeliveryWorkerDeps) {
    this.notifiers = new Map(deps.notifiers.map((notifier) => [notifier.channel, notifier]));
    this.now = deps.now ?? (() => new Date());
  }

  /** Attempts a pending entry now, unless an attempt at it is already in flight; a scheduled retry is brought forward. */
  kick(entry: OutboxEntry): void {
    const key = keyOf(entry);
    if (this.closing.signal.aborted || entry.status !== 'pending' || this.running.has(key)) return;
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    const run = this.attempt(entry)
      .catch((error: unknown) => this.deps.log.warn({ err: asError(error), delivery_id: entry.deliveryId, channel: entry.channel }, 'notification attempt not recorded'))
      .finally(() => this.running.delete(key));
    this.running.set(key, run);
  }

  /** `listener` runs after every recorded attempt. Returns the unsubscribe function. */
  watch(listener: () => void): () => void {
    this.watchers.add(listener);
    return () => void this.watchers.delete(listener);
  }

  /** Stops scheduling, aborts attempts in flight (they stay pending, retried at the next start) and waits for them. */
  async close(): Promise<void> {
    this.closing.abort();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running.values()]);
  }

  private async attempt(queued: OutboxEntry): Promise<void> {
    const { outbox, policy, log } = this.deps;
    const entry = await outbox.get(queued.deliveryId, queued.channel);
    if (!entry || entry.status !== 'pending') return;
    const result = await this.tryOnce(entry);
    if (!result) return;
    const at = this.now();
    const number = entry.attempts + 1;
    const firstAttemptAt = entry.firstAttemptAt ? new Date(entry.firstAttemptAt) : at;
    const next = afterAttempt(result, number, { firstAttemptAt, at }, policy, this.deps.random);
    const attempt = { ...result, attempt: number, at: at.toISOString() };
    const fields = { delivery_id: entry.deliveryId, channel: entry.channel, event: entry.event, attempt: number, outcome: result.outcome, status: next.status };
    const event = { type: 'notification.attempted' as const, data: { ...fields, detail: result.detail, next_attempt_at: next.nextAttemptAt } };
    const updated = await outbox.recordAttempt(entry.deliveryId, entry.channel, { attempt, ...next, event });
    (next.status === 'failed' ? log.warn : log.info).call(log, { ...fields, detail: next.detail }, `notification ${next.status}`);
    for (const watcher of [...this.watchers]) watcher();
    if (updated.status === 'pending') this.schedule(updated);
  }

  private schedule(entry: OutboxEntry): void {
    if (this.closing.signal.aborted) return;
    const delay = Math.max(0, Date.parse(entry.nextAttemptAt ?? '') - this.now().getTime()) || 0;
    const key = keyOf(entry);
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.kick(entry);
    }, delay);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** One attempt through the entry's channel; null when it was cut short by closing (not an attempt). */
  private async tryOnce(entry: OutboxEntry): Promise<DeliveryAttempt | null> {
    const notifier = this.notifiers.get(entry.channel);
    if (!notifier) return { outcome: 'rejected', detail: `channel ${entry.channel} is not configured` };
    const obsolete = await this.pastWait(entry.notification);
    if (obsolete) return { outcome: 'rejected', detail: obsolete };
    const signal = AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.deps.policy.attemptTimeoutMs)]);
    try {
      const result = await notifier.deliver(this.withLinks(entry.notification), signal);
      return { outcome: result.outcome, detail: this.deps.redact(result.detail) };
    } catch (error) {
      if (this.closing.signal.aborted) return null;
      // A channel that throws instead of answering is treated like a network error: worth another try.
      return { outcome: 'retry', detail: this.deps.redact(asError(error).message) };
    }
  }

  /** Why an approval request is not sent any more (the build is past the wait it asks about), or null. */
  private async pastWait(notification: BuildNotification): Promise<string | null> {
    const { approval } = notification;
    if (notification.event !== 'waiting_approval' || !approval) return null;
    const build = await this.deps.store.get(notification.buildId);
    const pending = build?.status === 'waiting_approval' ? build.pendingApproval : null;
    // A request without its wait's start (queued from an old journal) can only be matched by its gate; it carries no links.
    const sameStart = (at: string) => approval.requestedAt === undefined || Date.parse(at) === Date.parse(approval.requestedAt);
    if (pending && pending.gate === approval.gate && sameStart(pending.requested_at)) return null;
    const now = !build ? 'is gone' : pending ? `waits at the ${pending.gate} gate since ${pending.requested_at}` : `is ${build.status}`;
    const wait = `${approval.gate} gate${approval.requestedAt ? ` from ${approval.requestedAt}` : ''}`;
    return `obsolete, not sent: build ${notification.buildId} is past the wait at the ${wait} this approval request is for (it ${now})`;
  }

  private withLinks(notification: BuildNotification): BuildNotification {
    const { approval } = notification;
    const { links } = this.deps;
    if (!approval?.requestedAt || !links) return notification;
    try {
      // The payload's gate came from the build's GateName (announcement.ts); JSON keeps it a plain string.
      const wait = { gate: approval.gate as GateName, requestedAt: approval.requestedAt };
      return { ...notification, approval: { ...approval, links: links.linksFor(notification.buildId, wait) } };
    } catch (error) {
      this.deps.log.warn({ err: asError(error), delivery_id: notification.deliveryId }, 'approval links not issued');
      return notification;
    }
  }
}
