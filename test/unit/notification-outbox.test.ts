/** The SQLite outbox: one entry per (delivery id, channel), every attempt kept, old deliveries migrated. */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BuildNotification } from '../../src/domain/notification.js';
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

describe('the notification outbox', () => {
  it('queues one pending entry per channel, once: a second enqueue keeps what the first one did', async () => {
    db = openDatabase(join(dir, 'executor.db'));
    const outbox = new SqliteNotificationOutbox(db);
    expect(await outbox.isQueued('build-1:completed')).toBe(false);
    const first = await outbox.enqueue(notification, ['log', 'webhook']);
    expect(await outbox.isQueued('build-1:completed')).toBe(true);
    expect(await outbox.isQueued('build-1:failed:7')).toBe(false);
    expect(first.map((entry) => [entry.channel, entry.status, entry.attempts])).toEqual([['log', 'pending', 0], ['webhook', 'pending', 0]]);
    expect(first[0]!.notification).toEqual(notification);

    await outbox.recordAttempt('build-1:completed', 'log', { attempt: { attempt: 1, outcome: 'delivered', detail: 'logged', at: '2026-01-01T00:00:01.000Z' }, status: 'delivered', nextAttemptAt: null, detail: 'logged' });
    const again = await outbox.enqueue({ ...notification, summary: 'changed' }, ['log', 'webhook']);
    expect(again.map((entry) => [entry.channel, entry.status, entry.attempts])).toEqual([['log', 'delivered', 1], ['webhook', 'pending', 0]]);
    expect(again[1]!.notification.summary).toBe(notification.summary);
  });

  it('records every attempt, the first attempt time and when a pending entry is due again', async () => {
    db = openDatabase(join(dir, 'executor.db'));
    const outbox = new SqliteNotificationOutbox(db);
    await outbox.enqueue(notification, ['webhook']);
    const retry = { attempt: 1, outcome: 'retry' as const, detail: 'HTTP 503', at: '2026-01-01T00:00:01.000Z' };
    const pending = await outbox.recordAttempt('build-1:completed', 'webhook', { attempt: retry, status: 'pending', nextAttemptAt: '2026-01-01T00:00:03.000Z', detail: 'HTTP 503' });
    expect(pending).toMatchObject({ status: 'pending', attempts: 1, firstAttemptAt: retry.at, nextAttemptAt: '2026-01-01T00:00:03.000Z', lastDetail: 'HTTP 503' });
    expect((await outbox.pending()).map((entry) => entry.channel)).toEqual(['webhook']);

    const rejected = { attempt: 2, outcome: 'rejected' as const, detail: 'HTTP 410', at: '2026-01-01T00:00:03.000Z' };
    const failed = await outbox.recordAttempt('build-1:completed', 'webhook', { attempt: rejected, status: 'failed', nextAttemptAt: null, detail: 'HTTP 410' });
    expect(failed).toMatchObject({ status: 'failed', attempts: 2, firstAttemptAt: retry.at, nextAttemptAt: null, lastDetail: 'HTTP 410' });
    expect(await outbox.attempts('build-1:completed', 'webhook')).toEqual([retry, rejected]);
    expect(await outbox.pending()).toEqual([]);
    // An attempt number is recorded once: a second writer of the same attempt is refused.
    await expect(outbox.recordAttempt('build-1:completed', 'webhook', { attempt: rejected, status: 'failed', nextAttemptAt: null, detail: 'x' })).rejects.toThrow(/UNIQUE/);
  });

  it('migrates the deliveries the old notifications table recorded: they count as delivered under the new id', async () => {
    // A database as the previous version left it (migrations before 0005), with one completion delivered.
    const old = join(dir, 'old-migrations');
    mkdirSync(old);
    for (const name of readdirSync(MIGRATIONS_DIR).filter((file) => file < '0005')) copyFileSync(join(MIGRATIONS_DIR, name), join(old, name));
    db = openDatabase(join(dir, 'executor.db'), old);
    db.prepare('INSERT INTO notifications (delivery_id, channel, delivered_at, detail) VALUES (?, ?, ?, ?)').run('build-1:build.completed', 'webhook', '2025-12-31T00:00:00.000Z', 'HTTP 200 after 1 attempt(s)');

    expect(migrate(db)).toContain('0005_notification_outbox.sql');
    const outbox = new SqliteNotificationOutbox(db);
    expect(await outbox.get('build-1:completed', 'webhook')).toMatchObject({ buildId: 'build-1', status: 'delivered', attempts: 1, lastDetail: 'HTTP 200 after 1 attempt(s)' });
    expect(await outbox.attempts('build-1:completed', 'webhook')).toEqual([{ attempt: 1, outcome: 'delivered', detail: 'HTTP 200 after 1 attempt(s)', at: '2025-12-31T00:00:00.000Z' }]);
    // A resumed step 8 of that build queues nothing new on that channel.
    const [entry] = await outbox.enqueue(notification, ['webhook']);
    expect(entry!.status).toBe('delivered');
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'notifications'").get()).toBeUndefined();
  });
});
