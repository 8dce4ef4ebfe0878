/**
 * What is announced about a build, and what an announcement reports back: the pure
 * part of announcing (delivery ids, channel choice, the texts), shared by step 8 and
 * the announcer's event listener.
 */
import { STEP_LABELS, type GateName } from '../domain/build.js';
import type { IntentCoverage } from '../domain/coverage.js';
import type { BuildEvent, BuildEventData } from '../domain/events.js';
import type { AnnouncedEvent, BuildNotification } from '../domain/notification.js';
import type { OutboxStatus, RecordedAttempt } from '../domain/ports/notification-outbox.js';
import type { Notifier } from '../domain/ports/notifier.js';
import type { BuildRecord } from '../domain/records.js';

/** What the announcer is asked to announce; it adds the facts every message carries (url, duration, cost). */
export interface Announcement {
  build: BuildRecord;
  event: AnnouncedEvent;
  /** The seq of the event announced (failed, waiting_approval): a build may fail or wait more than once. */
  occurrence?: number;
  summary: string;
  deploymentUrl?: string | null;
  intentCoverage?: IntentCoverage | null;
  failure?: BuildNotification['failure'];
  /** `requestedAt`: when the wait began (its pending approval's): the links are signed for that wait only. */
  approval?: { gate: GateName; summary: string; requestedAt?: string };
}

/** One channel's delivery as step 8's details show it. */
export interface DeliveryReport {
  channel: string;
  delivery_id: string;
  status: OutboxStatus;
  detail: string | null;
  /** When a pending delivery is tried again. */
  next_attempt_at: string | null;
  attempts: RecordedAttempt[];
}

/** What steps see of the announcer. */
export interface BuildAnnouncer {
  /** The configured channels, as a request's `notify_channels` may name them. */
  readonly channels: readonly string[];
  /**
   * Queues the announcement on each of the build's channels that announces its event
   * (once per delivery id and channel) and starts delivering. With `wait`, answers after
   * the first round (a few quick attempts, bounded in time, or when `signal` fires);
   * later retries go on in the background. A failed delivery never throws.
   */
  announce(announcement: Announcement, options?: { wait?: boolean; signal?: AbortSignal }): Promise<DeliveryReport[]>;
}

/** `<build id>:completed`, `<build id>:failed:<seq>`, `<build id>:waiting_approval:<seq>`. */
export function deliveryIdOf(announcement: Pick<Announcement, 'build' | 'event' | 'occurrence'>): string {
  const { build, event, occurrence } = announcement;
  return occurrence === undefined ? `${build.id}:${event}` : `${build.id}:${event}:${occurrence}`;
}

/** The request's channels, else the configured default (NOTIFY_CHANNELS), else every configured one; each only for its events. */
export function channelsFor(build: BuildRecord, event: AnnouncedEvent, notifiers: readonly Notifier[], defaults?: readonly string[]): string[] {
  const wanted = build.notifyChannels ?? defaults ?? notifiers.map((notifier) => notifier.channel);
  return notifiers.filter((notifier) => wanted.includes(notifier.channel) && notifier.events.includes(event)).map((notifier) => notifier.channel);
}

const droplet = (build: BuildRecord) => `Droplet #${build.dropletId} ${build.dropletName}`;

/**
 * When the announced wait began: the event says so; an event journaled before it did
 * (recovered at start, so the build's latest event) is the build's pending approval.
 */
function waitStartOf(data: BuildEventData['build.waiting_approval'], build: BuildRecord): string | undefined {
  if (data.requested_at) return data.requested_at;
  const pending = build.status === 'waiting_approval' ? build.pendingApproval : null;
  return pending?.gate === data.gate ? pending.requested_at : undefined;
}

/** The announcement a journal event calls for, or null (only failures and approval requests are announced from events). */
export function announcementFor(event: BuildEvent, build: BuildRecord): Announcement | null {
  if (event.type === 'build.failed') {
    const { step, step_number: stepNumber, error } = event.data;
    const where = step ? ` at step ${stepNumber ?? '?'} (${STEP_LABELS[step]})` : '';
    return {
      build,
      event: 'failed',
      occurrence: event.seq,
      summary: `${droplet(build)}: build ${build.id} failed${where}: ${error.message}`,
      failure: { code: error.code, message: error.message, step: step ?? null },
    };
  }
  if (event.type === 'build.waiting_approval') {
    const { gate, summary } = event.data;
    const requestedAt = waitStartOf(event.data, build);
    return {
      build,
      event: 'waiting_approval',
      occurrence: event.seq,
      summary: `${droplet(build)}: build ${build.id} waits for approval at the ${gate} gate. ${summary}`,
      approval: { gate, summary, ...(requestedAt && { requestedAt }) },
    };
  }
  return null;
}

/** The message, with the facts the announcer looked up. Links are issued per attempt, never stored. */
export function composeNotification(announcement: Announcement, facts: { publicUrl: string; costUsd: number | null; now: Date }): BuildNotification {
  const { build, event } = announcement;
  const started = build.startedAt ? Date.parse(build.startedAt) : NaN;
  const ended = build.completedAt ? Date.parse(build.completedAt) : facts.now.getTime();
  return {
    deliveryId: deliveryIdOf(announcement),
    event,
    buildId: build.id,
    dropletId: build.dropletId,
    dropletName: build.dropletName,
    buildUrl: `${facts.publicUrl}/executor/builds/${build.id}/status`,
    deploymentUrl: announcement.deploymentUrl ?? build.deploymentUrl,
    repositoryUrl: build.repositoryUrl,
    summary: announcement.summary,
    durationSeconds: Number.isNaN(started) ? null : Math.max(0, Math.round((ended - started) / 1000)),
    costUsd: facts.costUsd,
    intentCoverage: announcement.intentCoverage ?? null,
    ...(announcement.failure && { failure: announcement.failure }),
    ...(announcement.approval && { approval: { ...announcement.approval, links: null } }),
    at: facts.now.toISOString(),
  };
}
