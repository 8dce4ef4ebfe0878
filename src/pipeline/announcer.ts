/**
 * Tells people about builds: step 8 announces completions (and waits for the first
 * round of deliveries), and this listener announces failures and approval requests as
 * the journal commits them. Every announcement goes through the outbox, one entry per
 * channel and delivery id, so nothing is sent twice and nothing undelivered is lost to
 * a restart (`resume`), nor what a crash kept from being queued at all (recovered at
 * `resume` from the journal). Delivery is best effort: it never fails a build.
 */
import type { Logger } from 'pino';
import { asError } from '../domain/errors.js';
import type { BuildEvent } from '../domain/events.js';
import type { ApprovalLinkIssuer } from '../domain/ports/approval-links.js';
import type { BuildCatalog, BuildStore, ModelCallLedger } from '../domain/ports/build-store.js';
import type { EventBus } from '../domain/ports/event-bus.js';
import type { NotificationOutbox, OutboxEntry } from '../domain/ports/notification-outbox.js';
import type { Notifier } from '../domain/ports/notifier.js';
import { type Announcement, announcementFor, type BuildAnnouncer, channelsFor, composeNotification, type DeliveryReport } from './announcement.js';
import { DEFAULT_RECOVERY_LIMIT, lostAnnouncements, type RecoveryBounds } from './announcement-recovery.js';
import type { RetryPolicy } from './delivery-schedule.js';
import { DeliveryWorker } from './delivery-worker.js';

export interface AnnouncerOptions {
  /** Where the build links in messages point. */
  publicUrl: string;
  /** NOTIFY_CHANNELS: a build's channels when its request names none (default: every configured one). */
  defaultChannels?: readonly string[];
  policy: RetryPolicy & { attemptTimeoutMs: number };
  /** What step 8 waits for: this many attempts per channel at most, for at most `maxMs`. */
  firstRound: { attempts: number; maxMs: number };
  /** What `resume` looks at for lost announcements (default: 50 of each kind; failures within the retry window, at least an hour). */
  recovery?: RecoveryBounds;
}

export interface AnnouncerDeps {
  outbox: NotificationOutbox;
  notifiers: readonly Notifier[];
  store: Pick<BuildStore, 'get' | 'journalNotification'>;
  ledger: Pick<ModelCallLedger, 'usageOf'>;
  bus: Pick<EventBus, 'subscribeAll'>;
  /** Where `resume` finds failures and approval requests a crash kept from being queued; without it, none are recovered. */
  catalog?: Pick<BuildCatalog, 'latestBuildEvents'>;
  links?: ApprovalLinkIssuer | null;
  log: Logger;
  redact: (text: string) => string;
  now?: () => Date;
  random?: () => number;
}

const SETTLED = new Set(['delivered', 'failed']);

export class Announcer implements BuildAnnouncer {
  readonly channels: readonly string[];
  private readonly worker: DeliveryWorker;
  private readonly unsubscribe: () => void;
  private readonly listening = new Set<Promise<unknown>>();
  private readonly now: () => Date;

  constructor(
    private readonly deps: AnnouncerDeps,
    private readonly options: AnnouncerOptions,
  ) {
    this.channels = deps.notifiers.map((notifier) => notifier.channel);
    this.now = deps.now ?? (() => new Date());
    this.worker = new DeliveryWorker({ ...deps, policy: options.policy });
    this.unsubscribe = deps.bus.subscribeAll((event) => this.onEvent(event));
  }

  async announce(announcement: Announcement, options: { wait?: boolean; signal?: AbortSignal } = {}): Promise<DeliveryReport[]> {
    const { build, event } = announcement;
    const channels = channelsFor(build, event, this.deps.notifiers, this.options.defaultChannels);
    if (channels.length === 0) return [];
    const costUsd = (await this.deps.ledger.usageOf(build.id))?.cost_usd ?? null;
    const notification = composeNotification(announcement, { publicUrl: this.options.publicUrl, costUsd, now: this.now() });
    // Already queued (a resumed step 8): the entries are kept as they are, delivered ones are not sent again.
    const entries = await this.deps.outbox.enqueue(notification, channels);
    for (const entry of entries) this.worker.kick(entry);
    if (options.wait) await this.firstRound(entries, options.signal);
    return Promise.all(entries.map((entry) => this.report(entry)));
  }

  /**
   * At start: every delivery a previous process left pending is tried again now, and the
   * failures and approval requests it committed but died before queuing are announced.
   * @returns how many entries were retried and how many announcements recovered.
   */
  async resume(): Promise<{ retried: number; recovered: number }> {
    const { log } = this.deps;
    const pending = await this.deps.outbox.pending();
    for (const entry of pending) this.worker.kick(entry);
    if (pending.length > 0) log.info({ deliveries: pending.length }, 'retrying undelivered notifications');
    let recovered = 0;
    for (const announcement of await this.lost()) {
      const { build, event } = announcement;
      try {
        await this.announce(announcement);
        recovered += 1;
        log.info({ build_id: build.id, event, occurrence: announcement.occurrence }, 'announcing what a previous process did not queue');
      } catch (error) {
        log.warn({ err: asError(error), build_id: build.id, event }, 'lost announcement not queued');
      }
    }
    return { retried: pending.length, recovered };
  }

  /** Stops listening and retrying; attempts in flight are aborted and stay pending for the next start. */
  async close(): Promise<void> {
    this.unsubscribe();
    await Promise.allSettled([...this.listening]);
    await this.worker.close();
  }

  private async lost() {
    const { catalog, store, outbox } = this.deps;
    if (!catalog) return [];
    const bounds = this.options.recovery ?? { limit: DEFAULT_RECOVERY_LIMIT, failedWithinMs: Math.max(this.options.policy.windowMs, 3_600_000) };
    return lostAnnouncements({ catalog, store, outbox }, bounds, this.now());
  }

  private onEvent(event: BuildEvent): void {
    if (event.type !== 'build.failed' && event.type !== 'build.waiting_approval') return;
    const announced = this.announceEvent(event)
      .catch((error: unknown) => this.deps.log.warn({ err: asError(error), build_id: event.build_id, type: event.type }, 'announcement not queued'))
      .finally(() => this.listening.delete(announced));
    this.listening.add(announced);
  }

  private async announceEvent(event: BuildEvent): Promise<void> {
    const build = await this.deps.store.get(event.build_id);
    const announcement = build && announcementFor(event, build);
    if (announcement) await this.announce(announcement);
  }

  /** Until every entry is settled, has had its first-round attempts or is next due after the deadline. */
  private firstRound(entries: readonly OutboxEntry[], signal?: AbortSignal): Promise<void> {
    const { attempts, maxMs } = this.options.firstRound;
    const deadline = this.now().getTime() + maxMs;
    const done = (entry: OutboxEntry | null) =>
      !entry || SETTLED.has(entry.status) || entry.attempts >= attempts || Date.parse(entry.nextAttemptAt ?? '') > deadline;
    return new Promise((resolve) => {
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        stopWatching();
        clearTimeout(timer);
        signal?.removeEventListener('abort', finish);
        resolve();
      };
      const check = async () => {
        const current = await Promise.all(entries.map((entry) => this.deps.outbox.get(entry.deliveryId, entry.channel)));
        if (current.every(done)) finish();
      };
      const recheck = () => void check().catch(finish);
      const stopWatching = this.worker.watch(recheck);
      const timer = setTimeout(finish, maxMs);
      signal?.addEventListener('abort', finish, { once: true });
      if (signal?.aborted) finish();
      recheck();
    });
  }

  private async report(queued: OutboxEntry): Promise<DeliveryReport> {
    const entry = (await this.deps.outbox.get(queued.deliveryId, queued.channel)) ?? queued;
    return {
      channel: entry.channel,
      delivery_id: entry.deliveryId,
      status: entry.status,
      detail: entry.lastDetail,
      next_attempt_at: entry.nextAttemptAt,
      attempts: await this.deps.outbox.attempts(entry.deliveryId, entry.channel),
    };
  }
}
