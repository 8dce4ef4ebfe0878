/** The embedded fleet registry over a real SQLite file, with a clock the test moves. */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError, InputError, NotFoundError } from '../../src/domain/errors.js';
import type { ServiceRegistration } from '../../src/domain/ports/fleet-registry.js';
import { EmbeddedFleetRegistry } from '../../src/registry/embedded-fleet-registry.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { RegistryEntryStore } from '../../src/store/registry-entries.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

const analytics: ServiceRegistration = {
  name: 'analytics-engine',
  droplet_id: 13,
  url: 'http://127.0.0.1:41001',
  capabilities: ['metrics', 'reports'],
  version: '1.0.0',
  build_id: 'build-13-analytics-engine-20260101-000000',
  host: 'local',
  provenance: { build_id: 'build-13-analytics-engine-20260101-000000', commit: 'a'.repeat(40), tag: 'v1.0.0' },
};

describe('EmbeddedFleetRegistry', () => {
  let dir: string;
  let db: Db;
  let now: number;
  let registry: EmbeddedFleetRegistry;
  /** Names the executor's droplets table holds (the composition asks DropletStore). */
  let reserved: Set<string>;
  const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
  const advance = (seconds: number) => {
    now += seconds * 1000;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-registry-'));
    db = openDatabase(join(dir, 'executor.db'));
    now = T0;
    reserved = new Set();
    registry = new EmbeddedFleetRegistry(new RegistryEntryStore(db), { defaultTtlSeconds: 90, isReservedName: (name) => reserved.has(name), now: () => new Date(now) });
  });

  /** Registers and returns the outcome with the entry token it was answered. */
  const created = async (registration: ServiceRegistration) => {
    const outcome = await registry.register(registration);
    expect(outcome.created).toBe(true);
    return { ...outcome, token: outcome.entry_token! };
  };

  afterEach(() => {
    registry.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates an entry with defaults and answers its token once, then the same build unchanged', async () => {
    const first = await registry.register(analytics);
    expect(first).toMatchObject({ created: true, changed: true });
    expect(first.entry_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.entry).toEqual({
      id: 1,
      name: 'analytics-engine',
      droplet_id: 13,
      url: 'http://127.0.0.1:41001',
      health_endpoint: '/health',
      capabilities: ['metrics', 'reports'],
      version: '1.0.0',
      build_id: analytics.build_id,
      host: 'local',
      provenance: analytics.provenance,
      health: 'unknown',
      ttl_seconds: 90,
      registered_at: at(0),
      updated_at: at(0),
      last_heartbeat_at: null,
      expires_at: at(90),
    });

    advance(10);
    const again = await registry.register({ ...analytics, url: 'http://127.0.0.1:49999', version: '9.9.9' }, { entryToken: first.entry_token });
    // No token in any answer but the creating one.
    expect(again).toEqual({ entry: first.entry, changed: false, created: false });
    expect(await registry.get(1)).toEqual(first.entry);
  });

  it('keeps only the sha256 of the entry token, never the token', async () => {
    const { token } = await created(analytics);
    const row = db.prepare('SELECT * FROM registry_entries WHERE id = 1').get() as Record<string, unknown>;
    expect(row.entry_token_sha256).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(token);
    expect(JSON.stringify(await registry.list())).not.toContain('entry_token');
  });

  it('updates a new build in place: same id and registered_at, new fields and lease', async () => {
    const first = await created(analytics);
    await registry.heartbeat('analytics-engine', 'healthy', { entryToken: first.token });
    advance(30);
    const rebuilt = await registry.register({
      ...analytics,
      url: 'http://127.0.0.1:41002',
      version: '1.1.0',
      capabilities: ['metrics'],
      build_id: 'build-13-analytics-engine-20260101-000030',
      ttl_seconds: 60,
    }, { entryToken: first.token });
    expect(rebuilt).toMatchObject({ created: false, changed: true });
    expect(rebuilt.entry_token).toBeUndefined();
    expect(rebuilt.entry).toMatchObject({
      id: first.entry.id,
      url: 'http://127.0.0.1:41002',
      version: '1.1.0',
      capabilities: ['metrics'],
      build_id: 'build-13-analytics-engine-20260101-000030',
      registered_at: at(0),
      updated_at: at(30),
      ttl_seconds: 60,
      expires_at: at(90),
      health: 'healthy',
    });
  });

  it("a live name is its token holder's: no droplet_id (not even the same one) and no other token takes it over", async () => {
    const { token } = await created(analytics);
    const other = await created({ ...analytics, name: 'report-mailer' });
    const attempts: [ServiceRegistration, string | undefined][] = [
      // The same droplet_id and build as the owner's: a droplet_id proves nothing.
      [analytics, undefined],
      [{ ...analytics, droplet_id: 14, build_id: 'build-14-x', url: 'http://10.6.6.6:80' }, undefined],
      [{ ...analytics, droplet_id: undefined, build_id: undefined }, undefined],
      // Another live entry's token is not this entry's.
      [{ ...analytics, build_id: 'build-evil' }, other.token],
      [{ ...analytics, build_id: 'build-evil' }, token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')],
    ];
    for (const [registration, entryToken] of attempts) {
      const clash = registry.register(registration, { entryToken });
      await expect(clash).rejects.toBeInstanceOf(ConflictError);
      await expect(clash).rejects.toMatchObject({ code: 'REGISTRY_NAME_TAKEN', status: 409, details: { name: 'analytics-engine' } });
    }
    expect(await registry.get('analytics-engine')).toMatchObject({ url: analytics.url, build_id: analytics.build_id });
    expect((await registry.register({ ...analytics, build_id: 'build-13-b' }, { entryToken: token })).changed).toBe(true);
  });

  it('frees a name once its entry expired: a new entry with a new id and a new token', async () => {
    const first = await created(analytics);
    advance(90);
    const taken = await created({ ...analytics, droplet_id: 14, build_id: 'build-14-x' });
    expect(taken).toMatchObject({ changed: true, entry: { droplet_id: 14, registered_at: at(90) } });
    expect(taken.entry.id).not.toBe(first.entry.id);
    expect(taken.token).not.toBe(first.token);
    await expect(registry.register({ ...analytics, build_id: 'build-13-b' }, { entryToken: first.token })).rejects.toMatchObject({ code: 'REGISTRY_NAME_TAKEN' });
  });

  it('a free name takes the token its registration presents, so a registration retried after a lost answer is still the owner\'s', async () => {
    const proposed = 'p'.repeat(20) + '0123456789_-ABCDEFGHIJKLM';
    const first = await registry.register(analytics, { entryToken: proposed });
    expect(first).toMatchObject({ created: true, entry_token: proposed });
    // The answer was lost; the client sends the same registration and token again.
    expect(await registry.register(analytics, { entryToken: proposed })).toEqual({ entry: first.entry, changed: false, created: false });
    expect(await registry.heartbeat(first.entry.id, 'healthy', { entryToken: proposed })).toMatchObject({ health: 'healthy' });
    await expect(registry.register(analytics)).rejects.toMatchObject({ code: 'REGISTRY_NAME_TAKEN' });
  });

  it("reserves the names of the executor's droplets: nobody else registers them, also after expiry; the executor does", async () => {
    reserved.add('analytics-engine');
    await expect(registry.register(analytics)).rejects.toMatchObject({ code: 'REGISTRY_NAME_TAKEN', status: 409, message: expect.stringContaining('reserved') });
    await expect(registry.register(analytics, { entryToken: 'x'.repeat(43) })).rejects.toMatchObject({ code: 'REGISTRY_NAME_TAKEN' });
    // The operator registers no reserved name either: only the executor's own droplet path does.
    await expect(registry.register(analytics, { operator: true })).rejects.toMatchObject({ code: 'REGISTRY_NAME_TAKEN' });
    expect(await registry.list()).toEqual([]);

    const own = await registry.register(analytics, { entryToken: 'o'.repeat(43), ownDroplet: true });
    expect(own).toMatchObject({ created: true, entry_token: 'o'.repeat(43) });
    advance(90);
    expect(await registry.get('analytics-engine')).toBeNull();
    await expect(registry.register({ ...analytics, droplet_id: 99, build_id: 'foreign' })).rejects.toMatchObject({ code: 'REGISTRY_NAME_TAKEN' });
    expect((await registry.register(analytics, { entryToken: 'o'.repeat(43), ownDroplet: true })).created).toBe(true);
    // A live entry stays its token holder's, even for the executor's own path.
    await expect(registry.register({ ...analytics, build_id: 'b2' }, { ownDroplet: true })).rejects.toMatchObject({ code: 'REGISTRY_NAME_TAKEN' });
  });

  it('re-registers a service without build id on every call (nothing to be idempotent by)', async () => {
    const peer = { name: 'plain-peer', url: 'https://peer.example.com', capabilities: [], version: '0.1.0' };
    const { token } = await created(peer);
    advance(5);
    expect(await registry.register(peer, { entryToken: token })).toMatchObject({ created: false, changed: true, entry: { expires_at: at(95) } });
  });

  it('heartbeats renew the lease and store health; an expired entry is gone', async () => {
    const { entry, token } = await created(analytics);
    advance(80);
    const renewed = await registry.heartbeat(entry.id, 'degraded', { entryToken: token });
    expect(renewed).toMatchObject({ health: 'degraded', last_heartbeat_at: at(80), expires_at: at(170), updated_at: at(0) });

    advance(89);
    expect(await registry.get('analytics-engine')).toMatchObject({ health: 'degraded' });
    advance(1);
    // Exactly at expires_at the entry is expired.
    expect(await registry.get('analytics-engine')).toBeNull();
    expect(await registry.get(entry.id)).toBeNull();
    expect(await registry.list()).toEqual([]);
    const late = registry.heartbeat(entry.id, 'healthy', { entryToken: token });
    await expect(late).rejects.toBeInstanceOf(NotFoundError);
    await expect(late).rejects.toMatchObject({ code: 'REGISTRY_ENTRY_NOT_FOUND', status: 404, details: { id: entry.id } });
    await expect(registry.heartbeat('nobody', 'healthy')).rejects.toMatchObject({ code: 'REGISTRY_ENTRY_NOT_FOUND', details: { name: 'nobody' } });
  });

  it("refuses a heartbeat without the entry's token (403), renewing nothing", async () => {
    const { entry } = await created(analytics);
    const other = await created({ ...analytics, name: 'report-mailer' });
    advance(60);
    for (const credential of [undefined, {}, { entryToken: other.token }, { operator: true }]) {
      const beat = registry.heartbeat(entry.id, 'unhealthy', credential);
      await expect(beat).rejects.toBeInstanceOf(ForbiddenError);
      await expect(beat).rejects.toMatchObject({ code: 'REGISTRY_ENTRY_FORBIDDEN', status: 403, details: { id: entry.id } });
    }
    await expect(registry.heartbeat('analytics-engine', 'unhealthy')).rejects.toMatchObject({ code: 'REGISTRY_ENTRY_FORBIDDEN', details: { name: 'analytics-engine' } });
    expect(await registry.get(entry.id)).toMatchObject({ health: 'unknown', last_heartbeat_at: null, expires_at: at(90) });
  });

  it('sweeps expired entries from the table, leaving live ones', async () => {
    await registry.register(analytics);
    await registry.register({ ...analytics, name: 'short-lived', droplet_id: 20, build_id: 'b-20', ttl_seconds: 10 });
    advance(10);
    expect(registry.sweep()).toBe(1);
    expect(db.prepare('SELECT name FROM registry_entries').all()).toEqual([{ name: 'analytics-engine' }]);
    advance(80);
    expect(registry.sweep()).toBe(1);
    expect(registry.sweep()).toBe(0);
    expect(db.prepare('SELECT count(*) AS n FROM registry_entries').get()).toEqual({ n: 0 });
  });

  it('sweeps on an interval until stopped', async () => {
    await registry.register({ ...analytics, ttl_seconds: 2 });
    advance(2);
    registry.startSweeping(5);
    await expect.poll(() => db.prepare('SELECT count(*) AS n FROM registry_entries').get()).toEqual({ n: 0 });
    registry.stop();
    await registry.register({ ...analytics, ttl_seconds: 2 });
    advance(2);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(db.prepare('SELECT count(*) AS n FROM registry_entries').get()).toEqual({ n: 1 });
  });

  it('lists live entries by id, filtered by capability, health and name', async () => {
    await registry.register(analytics);
    const mailer = await created({ ...analytics, name: 'report-mailer', droplet_id: 14, build_id: 'b-14', capabilities: ['reports', 'mail'] });
    await registry.register({ ...analytics, name: 'old-thing', droplet_id: 15, build_id: 'b-15', capabilities: ['metrics'], ttl_seconds: 5 });
    await registry.heartbeat('report-mailer', 'healthy', { entryToken: mailer.token });
    const names = async (query?: Parameters<EmbeddedFleetRegistry['list']>[0]) => (await registry.list(query)).map((entry) => entry.name);

    expect(await names()).toEqual(['analytics-engine', 'report-mailer', 'old-thing']);
    expect(await names({ capability: 'reports' })).toEqual(['analytics-engine', 'report-mailer']);
    expect(await names({ capability: 'metrics' })).toEqual(['analytics-engine', 'old-thing']);
    expect(await names({ capability: 'metric' })).toEqual([]);
    expect(await names({ health: 'healthy' })).toEqual(['report-mailer']);
    expect(await names({ health: 'unknown', capability: 'reports' })).toEqual(['analytics-engine']);
    expect(await names({ name: 'old-thing' })).toEqual(['old-thing']);
    advance(5);
    expect(await names({ capability: 'metrics' })).toEqual(['analytics-engine']);
  });

  it('deregisters by id or name with the entry token; an unknown or expired entry reports false', async () => {
    const { entry, token } = await created(analytics);
    await registry.register({ ...analytics, name: 'report-mailer', droplet_id: 14, build_id: 'b-14', ttl_seconds: 5 });
    expect(await registry.deregister(entry.id, { entryToken: token })).toBe(true);
    expect(await registry.deregister(entry.id, { entryToken: token })).toBe(false);
    expect(await registry.get('analytics-engine')).toBeNull();
    advance(5);
    expect(await registry.deregister('report-mailer')).toBe(false);
    expect(db.prepare('SELECT count(*) AS n FROM registry_entries').get()).toEqual({ n: 0 });
  });

  it("refuses a deregistration without the entry's token (403); the operator may deregister any entry", async () => {
    const { entry } = await created(analytics);
    const other = await created({ ...analytics, name: 'report-mailer' });
    for (const credential of [undefined, { entryToken: other.token }, { ownDroplet: true }]) {
      const removal = registry.deregister('analytics-engine', credential);
      await expect(removal).rejects.toBeInstanceOf(ForbiddenError);
      await expect(removal).rejects.toMatchObject({ code: 'REGISTRY_ENTRY_FORBIDDEN', status: 403 });
    }
    expect(await registry.get(entry.id)).not.toBeNull();
    expect(await registry.deregister(entry.id, { operator: true })).toBe(true);
    expect(await registry.get(entry.id)).toBeNull();
  });

  it('refuses a registration without a url', async () => {
    await expect(registry.register({ ...analytics, url: undefined, port: 4100 })).rejects.toBeInstanceOf(InputError);
  });

  it('keeps entries across a reopen of the database file', async () => {
    const { entry } = await registry.register(analytics);
    db.close();
    db = openDatabase(join(dir, 'executor.db'));
    registry = new EmbeddedFleetRegistry(new RegistryEntryStore(db), { defaultTtlSeconds: 90, now: () => new Date(now) });
    expect(await registry.get(entry.id)).toEqual(entry);
  });
});
