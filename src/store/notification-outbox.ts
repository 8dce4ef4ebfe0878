/** The NotificationOutbox port on SQLite: announcements per channel and every attempt at them. */
import type { AttemptRecord, NotificationOutbox, OutboxEntry, OutboxStatus, RecordedAttempt } from '../domain/ports/notification-outbox.js';
import type { NotificationEventDraft } from '../domain/events.js';
import type { AnnouncedEvent, BuildNotification, DeliveryAttempt } from '../domain/notification.js';
import { type Db, fromJson } from './db.js';

interface EntryRow {
  delivery_id: string;
  channel: string;
  build_id: string;
  event: AnnouncedEvent;
  payload: string;
  status: OutboxStatus;
  attempts: number;
  first_attempt_at: string | null;
  next_attempt_at: string | null;
  last_detail: string | null;
  created_at: string;
}

interface AttemptRow {
  attempt: number;
  outcome: DeliveryAttempt['outcome'];
  detail: string;
  at: string;
}

function toEntry(row: EntryRow): OutboxEntry {
  return {
    deliveryId: row.delivery_id,
    channel: row.channel,
    buildId: row.build_id,
    event: row.event,
    notification: fromJson<BuildNotification>(row.payload)!,
    status: row.status,
    attempts: row.attempts,
    firstAttemptAt: row.first_attempt_at,
    nextAttemptAt: row.next_attempt_at,
    lastDetail: row.last_detail,
    createdAt: row.created_at,
  };
}

/** Writes an event into a build's journal; the outbox calls it inside the attempt's transaction. */
export type AttemptJournal = (buildId: string, event: NotificationEventDraft) => void;

export class SqliteNotificationOutbox implements NotificationOutbox {
  private readonly insertEntry;
  private readonly selectEntry;
  private readonly selectQueued;
  private readonly selectPending;
  private readonly selectAttempts;
  private readonly insertAttempt;
  private readonly updateEntry;
  private readonly enqueueTx;
  private readonly attemptTx;

  constructor(
    db: Db,
    private readonly journal: AttemptJournal,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.insertEntry = db.prepare(
      `INSERT INTO notification_outbox (delivery_id, channel, build_id, event, payload, status, created_at, updated_at)
       VALUES (@delivery_id, @channel, @build_id, @event, @payload, 'pending', @at, @at)
       ON CONFLICT (delivery_id, channel) DO NOTHING`,
    );
    this.selectEntry = db.prepare<[string, string], EntryRow>('SELECT * FROM notification_outbox WHERE delivery_id = ? AND channel = ?');
    this.selectQueued = db.prepare<[string], { found: number }>('SELECT 1 AS found FROM notification_outbox WHERE delivery_id = ? LIMIT 1');
    this.selectPending = db.prepare<[], EntryRow>(`SELECT * FROM notification_outbox WHERE status = 'pending' ORDER BY created_at, rowid`);
    this.selectAttempts = db.prepare<[string, string], AttemptRow>(
      'SELECT attempt, outcome, detail, at FROM notification_attempts WHERE delivery_id = ? AND channel = ? ORDER BY attempt',
    );
    this.insertAttempt = db.prepare(
      'INSERT INTO notification_attempts (delivery_id, channel, attempt, outcome, detail, at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.updateEntry = db.prepare(
      `UPDATE notification_outbox SET attempts = ?, status = ?, next_attempt_at = ?, last_detail = ?,
         first_attempt_at = coalesce(first_attempt_at, ?), updated_at = ?
       WHERE delivery_id = ? AND channel = ?`,
    );
    this.enqueueTx = db.transaction((notification: BuildNotification, channels: readonly string[]) => {
      const at = this.now().toISOString();
      const payload = JSON.stringify(notification);
      return channels.map((channel) => {
        const { deliveryId: delivery_id, buildId: build_id, event } = notification;
        this.insertEntry.run({ delivery_id, channel, build_id, event, payload, at });
        return toEntry(this.selectEntry.get(delivery_id, channel)!);
      });
    });
    this.attemptTx = db.transaction((deliveryId: string, channel: string, record: AttemptRecord) => {
      const { attempt } = record;
      this.insertAttempt.run(deliveryId, channel, attempt.attempt, attempt.outcome, attempt.detail, attempt.at);
      const nextAttemptAt = record.status === 'pending' ? record.nextAttemptAt : null;
      this.updateEntry.run(attempt.attempt, record.status, nextAttemptAt, record.detail, attempt.at, this.now().toISOString(), deliveryId, channel);
      const entry = toEntry(this.selectEntry.get(deliveryId, channel)!);
      this.journal(entry.buildId, record.event);
      return entry;
    });
  }

  async enqueue(notification: BuildNotification, channels: readonly string[]): Promise<OutboxEntry[]> {
    return this.enqueueTx(notification, channels);
  }

  async get(deliveryId: string, channel: string): Promise<OutboxEntry | null> {
    const row = this.selectEntry.get(deliveryId, channel);
    return row ? toEntry(row) : null;
  }

  async isQueued(deliveryId: string): Promise<boolean> {
    return this.selectQueued.get(deliveryId) !== undefined;
  }

  async recordAttempt(deliveryId: string, channel: string, record: AttemptRecord): Promise<OutboxEntry> {
    return this.attemptTx(deliveryId, channel, record);
  }

  async attempts(deliveryId: string, channel: string): Promise<RecordedAttempt[]> {
    return this.selectAttempts.all(deliveryId, channel).map((row) => ({ ...row }));
  }

  async pending(): Promise<OutboxEntry[]> {
    return this.selectPending.all().map(toEntry);
  }
}
