/** The SQLite outbox: one entry per (delivery id, channel), every attempt kept, old deliveries migrated. */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NotificationEventDraft } from '../../src/domain/events.js';
import type { BuildNotification } from '../../src/domain/notification.js';
import type { OutboxStatus } from '../../src/domain/ports/notification-outbox.js';
import { type Db, migrate, MIGRATIONS_DIR, openDatabase } from '../../src/store/db.js';
import { SqliteNotificationOutbox } from '../../src/store/notification-outbox.js';

let dir: string;
let db: Db;

const notification: BuildNotification = {
  deliveryId: 'build-1:completed',
  event: 'completed',
  buildId: 'build-1',
  dropletId: 1,
  dropletName: 'quote-keeper',
  buildUrl: 'http://executor.test/executor/builds/build-1/status',
  deploymentUrl: null,
  repositoryUrl: null,
  summary: 'Droplet #1 quote-keeper is built and verified (not deployed).',
  durationSeconds: 3,
  costUsd: null,
  intentCoverage: null,
  at: '2026-01-01T00:00:00.000Z',
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'outbox-'));
});

afterEach(() => {
  if (db?.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

const journaled: { buildId: string; event: NotificationEventDraft }[] = [];
const journal = (buildId: string, event: NotificationEventDraft) => void journaled.push({ buildId, event });
beforeEach(() => {
  journaled.length = 0;
});

/** The event a worker journals with an attempt (what it holds does not matter to the outbox). */
const attemptedEvent = (attempt: number, status: OutboxStatus): NotificationEventDraft => ({
  type: 'notification.attempted',
  data: { delivery_id: 'build-1:completed', channel: 'webhook', event: 'completed', attempt, outcome: 'retry', status, detail: 'HTTP 503', next_attempt_at: null },
});

describe('the notification outbox', () => {
  it('queues one pending entry per channel, once: a second enqueue keeps what the first one did', async () => {
    db = openDatabase(join(dir, 'executor.db'));
    const outbox = new SqliteNotificationOutbox(db, journal);
    expect(await outbox.isQueued('build-1:completed')).toBe(false);
    const first = await outbox.enqueue(notification, ['log', 'webhook']);
    expect(await outbox.isQueued('build-1:completed')).toBe(true);
    expect(await outbox.isQueued('build-1:failed:7')).toBe(false);
    expect(first.map((entry) => [entry.channel, entry.status, entry.attempts])).toEqual([['log', 'pending', 0], ['webhook', 'pending', 0]]);
    expect(first[0]!.notification).toEqual(notification);

    await outbox.recordAttempt('build-1:completed', 'log', { attempt: { attempt: 1, outcome: 'delivered', detail: 'logged', at: '2026-01-01T00:00:01.000Z' }, status: 'delivered', nextAttemptAt: null, detail: 'logged', event: attemptedEvent(1, 'delivered') });
    const again = await outbox.enqueue({ ...notification, summary: 'changed' }, ['log', 'webhook']);
    expect(again.map((entry) => [entry.channel, entry.status, entry.attempts])).toEqual([['log', 'delivered', 1], ['webhook', 'pending', 0]]);
    expect(again[1]!.notification.summary).toBe(notification.summary);
  });

  it('records every attempt, the first attempt time and when a pending entry is due again', async () => {
    db = openDatabase(join(dir, 'executor.db'));
    const outbox = new SqliteNotificationOutbox(db, journal);
    await outbox.enqueue(notification, ['webhook']);
    const retry = { attempt: 1, outcome: 'retry' as const, detail: 'HTTP 503', at: '2026-01-01T00:00:01.000Z' };
    const pending = await outbox.recordAttempt('build-1:completed', 'webhook', { attempt: retry, status: 'pending', nextAttemptAt: '2026-01-01T00:00:03.000Z', detail: 'HTTP 503', event: attemptedEvent(1, 'pending') });
    expect(pending).toMatchObject({ status: 'pending', attempts: 1, firstAttemptAt: retry.at, nextAttemptAt: '2026-01-01T00:00:03.000Z', lastDetail: 'HTTP 503' });
    expect((await outbox.pending()).map((entry) => entry.channel)).toEqual(['webhook']);

    const rejected = { attempt: 2, outcome: 'rejected' as const, detail: 'HTTP 410', at: '2026-01-01T00:00:03.000Z' };
    const failed = await outbox.recordAttempt('build-1:completed', 'webhook', { attempt: rejected, status: 'failed', nextAttemptAt: null, detail: 'HTTP 410', event: attemptedEvent(2, 'failed') });
    expect(failed).toMatchObject({ status: 'failed', attempts: 2, firstAttemptAt: retry.at, nextAttemptAt: null, lastDetail: 'HTTP 410' });
    expect(await outbox.attempts('build-1:completed', 'webhook')).toEqual([retry, rejected]);
    expect(await outbox.pending()).toEqual([]);
    expect(journaled).toEqual([{ buildId: 'build-1', event: attemptedEvent(1, 'pending') }, { buildId: 'build-1', event: attemptedEvent(2, 'failed') }]);
    // An attempt number is recorded once: a second writer of the same attempt is refused.
    await expect(outbox.recordAttempt('build-1:completed', 'webhook', { attempt: rejected, status: 'failed', nextAttemptAt: null, detail: 'x', event: attemptedEvent(2, 'failed') })).rejects.toThrow(/UNIQUE/);
  });

  it('records an attempt only with its journal event: when journaling fails, the attempt is not counted either', async () => {
    db = openDatabase(join(dir, 'executor.db'));
    const failing = new SqliteNotificationOutbox(db, () => {
      throw new Error('journal unavailable');
    });
    await failing.enqueue(notification, ['webhook']);
    const retry = { attempt: 1, outcome: 'retry' as const, detail: 'HTTP 503', at: '2026-01-01T00:00:01.000Z' };
    await expect(failing.recordAttempt('build-1:completed', 'webhook', { attempt: retry, status: 'pending', nextAttemptAt: null, detail: 'HTTP 503', event: attemptedEvent(1, 'pending') })).rejects.toThrow('journal unavailable');
    expect(await failing.get('build-1:completed', 'webhook')).toMatchObject({ status: 'pending', attempts: 0, firstAttemptAt: null });
    expect(await failing.attempts('build-1:completed', 'webhook')).toEqual([]);
  });

  it('migrates the deliveries the old notifications table recorded: they count as delivered under the new id', async () => {
    // A database as the previous version left it (migrations before 0005), with one completion delivered.
    const old = join(dir, 'old-migrations');
    mkdirSync(old);
    for (const name of readdirSync(MIGRATIONS_DIR).filter((file) => file < '0005')) copyFileSync(join(MIGRATIONS_DIR, name), join(old, name));
    db = openDatabase(join(dir, 'executor.db'), old);
    db.prepare('INSERT INTO notifications (delivery_id, channel, delivered_at, detail) VALUES (?, ?, ?, ?)').run('build-1:build.completed', 'webhook', '2025-12-31T00:00:00.000Z', 'HTTP 200 after 1 attempt(s)');

    expect(migrate(db)).toContain('0005_notification_outbox.sql');
    const outbox = new SqliteNotificationOutbox(db, journal);
    expect(await outbox.get('build-1:completed', 'webhook')).toMatchObject({ buildId: 'build-1', status: 'delivered', attempts: 1, lastDetail: 'HTTP 200 after 1 attempt(s)' });
    expect(await outbox.attempts('build-1:completed', 'webhook')).toEqual([{ attempt: 1, outcome: 'delivered', detail: 'HTTP 200 after 1 attempt(s)', at: '2025-12-31T00:00:00.000Z' }]);
    // A resumed step 8 of that build queues nothing new on that channel.
    const [entry] = await outbox.enqueue(notification, ['webhook']);
    expect(entry!.status).toBe('delivered');
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'notifications'").get()).toBeUndefined();
  });
});
