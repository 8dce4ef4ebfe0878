import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/domain/errors.js';
import { EmbeddedRegistry } from '../../src/registry/embedded.js';
import type { DropletRegistration } from '../../src/domain/registration.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { DropletStore } from '../../src/store/droplets.js';

const first: DropletRegistration = {
  dropletId: 13,
  name: 'analytics-engine',
  url: 'http://127.0.0.1:41001',
  host: 'local',
  version: '1.0.0',
  capabilities: ['metrics', 'reports'],
  buildId: 'build-13-analytics-engine-20260101-000000',
  commit: 'a'.repeat(40),
};

describe('EmbeddedRegistry', () => {
  let dir: string;
  let db: Db;
  let clock: Date;
  let store: DropletStore;
  let registry: EmbeddedRegistry;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'registry-'));
    db = openDatabase(join(dir, 'executor.db'));
    clock = new Date('2026-01-01T00:00:00.000Z');
    store = new DropletStore(db, () => clock);
    registry = new EmbeddedRegistry(store);
  });

  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers a droplet once per build id', async () => {
    const created = await registry.register(first);
    expect(created.changed).toBe(true);
    expect(created.droplet).toEqual({ ...first, registeredAt: clock.toISOString(), updatedAt: clock.toISOString() });

    clock = new Date('2026-01-01T01:00:00.000Z');
    const again = await registry.register({ ...first, url: 'http://127.0.0.1:49999', version: '9.9.9' });
    expect(again.changed).toBe(false);
    expect(again.droplet).toEqual(created.droplet);
    expect(store.get(13)).toEqual(created.droplet);
  });

  it('updates url, version, capabilities and provenance on a new build and keeps registeredAt', async () => {
    const created = await registry.register(first);
    clock = new Date('2026-01-02T00:00:00.000Z');
    const next = {
      ...first,
      url: 'http://127.0.0.1:41002',
      host: 'deploy@10.0.0.5:22',
      version: '1.1.0',
      capabilities: ['metrics'],
      buildId: 'build-13-analytics-engine-20260102-000000',
      commit: 'b'.repeat(40),
    };
    const updated = await registry.register(next);
    expect(updated.changed).toBe(true);
    expect(updated.droplet).toEqual({ ...next, registeredAt: created.droplet.registeredAt, updatedAt: clock.toISOString() });
    expect(await registry.list()).toEqual([updated.droplet]);
  });

  it('survives reopening the database file', async () => {
    await registry.register(first);
    db.close();
    db = openDatabase(join(dir, 'executor.db'));
    const reopened = new DropletStore(db);
    expect(reopened.getByName('analytics-engine')?.buildId).toBe(first.buildId);
  });

  it('lists by id, finds by name and reports the highest id', async () => {
    expect(store.maxDropletId()).toBe(0);
    await registry.register({ ...first, dropletId: 21, name: 'zeta-service', buildId: 'build-21-zeta' });
    await registry.register(first);
    expect((await registry.list()).map((droplet) => droplet.dropletId)).toEqual([13, 21]);
    expect(store.getByName('zeta-service')?.dropletId).toBe(21);
    expect(store.getByName('missing')).toBeNull();
    expect(store.get(99)).toBeNull();
    expect(store.maxDropletId()).toBe(21);
  });

  it('refuses a name that belongs to another droplet, and a new name for a known id', async () => {
    await registry.register(first);
    await expect(registry.register({ ...first, dropletId: 14, buildId: 'build-14-x' })).rejects.toMatchObject({
      code: 'DROPLET_NAME_TAKEN',
    });
    await expect(registry.register({ ...first, name: 'renamed', buildId: 'build-13-y' })).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(await registry.list()).toHaveLength(1);
    expect(store.get(13)?.buildId).toBe(first.buildId);
  });
});
