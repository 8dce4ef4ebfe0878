/**
 * The outbox of announcements: one entry per (delivery id, channel), kept until it is
 * delivered or given up, with every attempt recorded. It outlives the process, so an
 * undelivered message is retried after a restart and a resumed step sends nothing twice.
 */
import type { NotificationEventDraft } from '../events.js';
import type { AnnouncedEvent, BuildNotification, DeliveryAttempt } from '../notification.js';

export type OutboxStatus = 'pending' | 'delivered' | 'failed';

export interface OutboxEntry {
  deliveryId: string;
  channel: string;
  buildId: string;
  event: AnnouncedEvent;
  notification: BuildNotification;
  status: OutboxStatus;
  attempts: number;
  /** The retry window counts from here; null before the first attempt. */
  firstAttemptAt: string | null;
  /** When a pending entry is due again. */
  nextAttemptAt: string | null;
  lastDetail: string | null;
  createdAt: string;
}

export interface RecordedAttempt extends DeliveryAttempt {
  attempt: number;
  at: string;
}

/** An attempt and where it leaves the entry. */
export interface AttemptRecord {
  attempt: RecordedAttempt;
  status: OutboxStatus;
  nextAttemptAt: string | null;
  /** What the entry says now (the attempt's detail, or why it was given up). */
  detail: string;
  /** The attempt's `notification.attempted` event, journaled on the build with the attempt. */
  event: NotificationEventDraft;
}

export interface NotificationOutbox {
  /**
   * One pending entry per channel, unless (delivery id, channel) is already there (then
   * it is kept as it is). Answers every channel's entry, new or old.
   */
  enqueue(notification: BuildNotification, channels: readonly string[]): Promise<OutboxEntry[]>;
  get(deliveryId: string, channel: string): Promise<OutboxEntry | null>;
  /** Whether the delivery id was ever queued, on any channel (whatever became of it). */
  isQueued(deliveryId: string): Promise<boolean>;
  /**
   * Appends the attempt, moves the entry (attempts + 1, first attempt time, status, next
   * time) and journals the attempt's event, all or nothing: a crash never leaves an attempt
   * counted but missing from the build's journal.
   */
  recordAttempt(deliveryId: string, channel: string, record: AttemptRecord): Promise<OutboxEntry>;
  /** Every attempt at one entry, oldest first. */
  attempts(deliveryId: string, channel: string): Promise<RecordedAttempt[]>;
  /** Entries still pending, oldest first (retried at start-up). */
  pending(): Promise<OutboxEntry[]>;
}
