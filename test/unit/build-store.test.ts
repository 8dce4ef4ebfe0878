import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BuildEvent, EventDraft } from '../../src/domain/events.js';
import { ConflictError } from '../../src/domain/errors.js';
import { BuildTables } from '../../src/store/build-tables.js';
import { type Db, migrate, openDatabase } from '../../src/store/db.js';

let dir: string;
let db: Db;
let published: BuildEvent[];
let store: BuildTables;

const queued: EventDraft = { type: 'build.queued', data: { droplet_id: 13, droplet_name: 'analytics-engine', approval_mode: 'final' } };
/** The journal keeps any data; these rows only carry a counter. */
const counter = (n: number) => ({ type: 'step.progress', data: { n } }) as unknown as EventDraft;

const newBuild = {
  dropletId: 13,
  dropletName: 'analytics-engine',
  intent: 'Build Analytics Engine for tracking droplet metrics',
  approvalMode: 'final' as const,
  autoDeploy: true,
  notifyChannels: null,
  createdAt: '2026-11-24T14:05:32.000Z',
  estimatedSeconds: 120,
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-'));
  db = openDatabase(join(dir, 'executor.db'));
  published = [];
  store = new BuildTables(db, (event) => published.push(event));
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the build tables', () => {
  it('applies migrations once; running them again is harmless', () => {
    expect(migrate(db)).toEqual([]);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((row) => (row as { name: string }).name);
    expect(tables).toEqual(expect.arrayContaining(['builds', 'build_steps', 'build_events', 'approvals', 'droplets', 'deployments', 'notification_outbox', 'notification_attempts']));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('inserts a build with eight pending steps and its first event in one go', () => {
    const build = store.insert(newBuild, () => 'build-13-analytics-engine-20261124-140532', queued);
    expect(build.status).toBe('queued');
    expect(store.steps(build.id).map((step) => step.status)).toEqual(Array(8).fill('pending'));
    expect(published.map((event) => event.type)).toEqual(['build.queued']);
    expect(store.journal.list(build.id, 0)).toEqual(published);
  });

  it('gives two builds of the same second different ids', () => {
    const idFor = (attempt: number) => `build-13-analytics-engine-20261124-140532${attempt > 1 ? `-${attempt}` : ''}`;
    const first = store.insert(newBuild, idFor, queued);
    const second = store.insert(newBuild, idFor, queued);
    expect(first.id).not.toBe(second.id);
    expect(second.id).toBe('build-13-analytics-engine-20261124-140532-2');
  });

  it('refuses a transition from the wrong state and journals nothing for it', () => {
    const build = store.insert(newBuild, () => 'b1', queued);
    expect(() =>
      store.change(build.id, () => {
        store.move(build.id, 'approve');
        return [{ type: 'build.approved', data: { gate: 'before_deploy', step_number: 6, feedback: null } }];
      }),
    ).toThrow(ConflictError);
    expect(store.journal.list(build.id, 0).map((event) => event.type)).toEqual(['build.queued']);
    expect(published).toHaveLength(1);
  });

  it('rolls back the state when the event cannot be written, and vice versa', () => {
    const build = store.insert(newBuild, () => 'b2', queued);
    expect(() =>
      store.change(build.id, () => {
        store.move(build.id, 'claim');
        throw new Error('crash between state and event');
      }),
    ).toThrow('crash');
    expect(store.get(build.id)!.status).toBe('queued');
  });

  it('returns journal events after a sequence number, oldest first', () => {
    const build = store.insert(newBuild, () => 'b3', queued);
    store.change(build.id, () => [
      counter(1),
      counter(2),
    ]);
    const all = store.journal.list(build.id, 0);
    expect(all.map((event) => event.seq)).toEqual([...all.map((event) => event.seq)].sort((a, b) => a - b));
    expect(store.journal.list(build.id, all[1]!.seq).map((event) => event.data)).toEqual([{ n: 2 }]);
  });
});
