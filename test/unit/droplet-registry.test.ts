/**
 * The executor's registry: its droplets table kept in step with the embedded fleet
 * registry, over a real SQLite file and a clock the tests move (leases, expiry,
 * re-registration after a 404, deregistration, refusals).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/composition/config.js';
import { createRegistry } from '../../src/composition/registry.js';
import { ConflictError } from '../../src/domain/errors.js';
import type { FleetRegistry } from '../../src/domain/ports/fleet-registry.js';
import { nextVersion, versionTag, type DropletRegistration } from '../../src/domain/registration.js';
import { DropletRegistry } from '../../src/registry/droplet-registry.js';
import { EmbeddedFleetRegistry } from '../../src/registry/embedded-fleet-registry.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { DropletStore } from '../../src/store/droplets.js';
import { RegistryEntryStore } from '../../src/store/registry-entries.js';
import { SecretRedactor } from '../../src/support/secrets.js';
import { embeddedRegistry, type TestRegistry } from '../support/registry.js';

const TTL = 90;
const first: DropletRegistration = {
  dropletId: 13,
  name: 'analytics-engine',
  url: 'http://127.0.0.1:41001',
  host: 'local',
  version: '1.0.0',
  capabilities: ['metrics', 'reports'],
  buildId: 'build-13-analytics-engine-20260101-000000',
  commit: 'a'.repeat(40),
  provenance: { build_id: 'build-13-analytics-engine-20260101-000000', commit: 'a'.repeat(40), spec_sha256: 'f'.repeat(64), tag: 'v1.0.0', cost_usd: 0 },
};
const { provenance: _provenance, ...firstAsListed } = first;

/** A fleet registry passed through, so a test can change one call. */
function through(fleet: FleetRegistry, changes: Partial<FleetRegistry> = {}): FleetRegistry {
  return {
    register: (...args) => fleet.register(...args),
    heartbeat: (...args) => fleet.heartbeat(...args),
    list: (...args) => fleet.list(...args),
    get: (...args) => fleet.get(...args),
    deregister: (...args) => fleet.deregister(...args),
    ...changes,
  };
}

const digestOf = (token: string) => createHash('sha256').update(token).digest('hex');

describe('nextVersion', () => {
  it("starts at the droplet's own semver, else 1.0.0; bumps the minor per rebuild; keeps it for the same build", () => {
    expect(nextVersion(null, 'b1', '2.4.1')).toBe('2.4.1');
    expect(nextVersion(null, 'b1', 'v2')).toBe('1.0.0');
    expect(nextVersion(null, 'b1', undefined)).toBe('1.0.0');
    expect(nextVersion({ buildId: 'b1', version: '1.0.0' }, 'b2', '1.0.0')).toBe('1.1.0');
    expect(nextVersion({ buildId: 'b2', version: '1.9.3-rc.1+sha' }, 'b3', undefined)).toBe('1.10.0');
    expect(nextVersion({ buildId: 'b2', version: '1.1.0' }, 'b2', '9.9.9')).toBe('1.1.0');
    expect(versionTag('1.1.0')).toBe('v1.1.0');
  });
});

describe('DropletRegistry over the embedded fleet registry', () => {
  let dir: string;
  let db: Db;
  let clock: Date;
  let registry: TestRegistry;
  const later = (seconds: number) => (clock = new Date(clock.getTime() + seconds * 1000));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'registry-'));
    db = openDatabase(join(dir, 'executor.db'));
    clock = new Date('2026-01-01T00:00:00.000Z');
    registry = embeddedRegistry(db, { now: () => clock, ttlSeconds: TTL });
  });

  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers a deployed build once per build id, in the directory and the fleet, with its provenance', async () => {
    const created = await registry.registry.register(first);
    expect(created.changed).toBe(true);
    expect(created.droplet).toEqual({ ...firstAsListed, registeredAt: clock.toISOString(), updatedAt: clock.toISOString() });
    expect(created.fleet).toMatchObject({ changed: true, created: true });
    const entry = await registry.fleet.get('analytics-engine');
    expect(entry).toMatchObject({
      id: created.fleet!.entryId,
      droplet_id: 13,
      url: first.url,
      health_endpoint: '/health',
      capabilities: ['metrics', 'reports'],
      version: '1.0.0',
      build_id: first.buildId,
      host: 'local',
      provenance: first.provenance,
      health: 'unknown',
      ttl_seconds: TTL,
      expires_at: new Date(clock.getTime() + TTL * 1000).toISOString(),
    });

    later(30);
    const again = await registry.registry.register({ ...first, url: 'http://127.0.0.1:49999', version: '9.9.9' });
    expect(again).toEqual({ droplet: created.droplet, changed: false, fleet: { entryId: created.fleet!.entryId, changed: false, created: false } });
    expect(await registry.fleet.list()).toHaveLength(1);
  });

  it('a new build updates the same entry (same fleet id) and keeps registeredAt', async () => {
    const created = await registry.registry.register(first);
    later(60);
    const next = { ...first, url: 'http://127.0.0.1:41002', version: '1.1.0', buildId: 'build-13-b', commit: 'b'.repeat(40), provenance: { build_id: 'build-13-b', tag: 'v1.1.0' } };
    const updated = await registry.registry.register(next);
    expect(updated.changed).toBe(true);
    expect(updated.fleet).toEqual({ entryId: created.fleet!.entryId, changed: true, created: false });
    expect(updated.droplet).toMatchObject({ version: '1.1.0', buildId: 'build-13-b', registeredAt: created.droplet.registeredAt, updatedAt: clock.toISOString() });
    expect(await registry.fleet.get(created.fleet!.entryId)).toMatchObject({ version: '1.1.0', build_id: 'build-13-b', provenance: { tag: 'v1.1.0' } });
    expect(await registry.registry.lastRegistration(13)).toEqual(updated.droplet);
  });

  it('a build that deployed nothing is only in the directory', async () => {
    const result = await registry.registry.register({ ...first, url: null, host: null });
    expect(result.fleet).toBeNull();
    expect(await registry.fleet.list()).toEqual([]);
    expect(await registry.registry.heartbeat(13, 'healthy')).toBe('not_registered');
  });

  it('heartbeats renew the lease with the probed health; an expired entry is registered again as it was', async () => {
    const created = await registry.registry.register(first);
    later(TTL - 1);
    expect(await registry.registry.heartbeat(13, 'degraded')).toBe('renewed');
    expect(await registry.fleet.get(created.fleet!.entryId)).toMatchObject({
      health: 'degraded',
      last_heartbeat_at: clock.toISOString(),
      expires_at: new Date(clock.getTime() + TTL * 1000).toISOString(),
    });

    // Heartbeats stop: the entry expires and the fleet no longer lists it.
    later(TTL);
    expect(await registry.fleet.get('analytics-engine')).toBeNull();
    expect(await registry.fleet.list()).toEqual([]);
    // Still in the executor's directory, so the next heartbeat (a 404) registers it again, provenance and all.
    expect(await registry.registry.heartbeat(13, 'healthy')).toBe('reregistered');
    const back = await registry.fleet.get('analytics-engine');
    expect(back).toMatchObject({ droplet_id: 13, version: '1.0.0', build_id: first.buildId, provenance: first.provenance, health: 'healthy' });
    expect(back!.id).not.toBe(created.fleet!.entryId);
    expect(await registry.registry.heartbeat(13, 'healthy')).toBe('renewed');
  });

  it("keeps the droplet's name reserved: after its entry expired nobody else registers it, and the next heartbeat registers it again", async () => {
    await registry.registry.register(first);
    later(TTL + 1);
    const foreign = registry.fleet.register({ name: 'analytics-engine', droplet_id: 13, url: 'http://10.0.0.9:9000', capabilities: [], version: '3.0.0' });
    await expect(foreign).rejects.toMatchObject({ code: 'REGISTRY_NAME_TAKEN', status: 409 });
    // A name the directory holds stays reserved after the droplet was undeployed, too.
    await registry.registry.register({ ...first, dropletId: 21, name: 'zeta-service', buildId: 'build-21-zeta' });
    await registry.registry.deregister(21);
    await expect(registry.fleet.register({ name: 'zeta-service', url: 'http://10.0.0.9:9000', capabilities: [], version: '3.0.0' })).rejects.toMatchObject({ code: 'REGISTRY_NAME_TAKEN' });
    expect(await registry.registry.heartbeat(13, 'healthy')).toBe('reregistered');
    expect(await registry.fleet.get('analytics-engine')).toMatchObject({ droplet_id: 13, url: first.url, health: 'healthy' });
  });

  it('never renews an entry of the same name another service registered at a registry that reserves nothing, after ours expired', async () => {
    const remote = new EmbeddedFleetRegistry(new RegistryEntryStore(db), { defaultTtlSeconds: TTL, now: () => clock });
    const viaRemote = embeddedRegistry(db, { now: () => clock, ttlSeconds: TTL, fleet: remote });
    await viaRemote.registry.register(first);
    later(TTL + 1);
    const peer = await remote.register({ name: 'analytics-engine', droplet_id: 13, url: 'http://10.0.0.9:9000', capabilities: [], version: '3.0.0' });
    await expect(viaRemote.registry.heartbeat(13, 'healthy')).rejects.toMatchObject({ code: 'REGISTRY_NAME_TAKEN' });
    expect(await remote.get('analytics-engine')).toMatchObject({ id: peer.entry.id, url: 'http://10.0.0.9:9000', health: 'unknown', last_heartbeat_at: null });
  });

  it('keeps the entry token in the droplets table only: the fleet holds its digest, no registration, answer or listing carries it', async () => {
    const told: string[] = [];
    const withRedactor = embeddedRegistry(db, { now: () => clock, ttlSeconds: TTL });
    const registry2 = new DropletRegistry({
      id: 'embedded',
      ...{ droplets: withRedactor.droplets, fleet: withRedactor.fleet, ttlSeconds: TTL, log: pino({ level: 'silent' }) },
      onEntryToken: (token) => told.push(token),
    });
    const result = await registry2.register(first);
    const entry = withRedactor.droplets.fleetEntry(13)!;
    expect(entry.entryToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(told).toEqual([entry.entryToken]);
    const row = db.prepare('SELECT fleet_registration, fleet_entry_token FROM droplets WHERE droplet_id = 13').get() as { fleet_registration: string; fleet_entry_token: string };
    expect(row.fleet_entry_token).toBe(entry.entryToken);
    expect(row.fleet_registration).not.toContain(entry.entryToken!);
    const digest = db.prepare('SELECT entry_token_sha256 FROM registry_entries WHERE id = ?').get(result.fleet!.entryId) as { entry_token_sha256: string };
    expect(digest.entry_token_sha256).toBe(digestOf(entry.entryToken!));
    const shown = JSON.stringify([result, await registry2.list(), await registry2.lastRegistration(13), await withRedactor.fleet.list()]);
    expect(shown).not.toContain(entry.entryToken!);
    // Undeployed: the token is forgotten with the entry.
    await registry2.deregister(13);
    expect(withRedactor.droplets.entryToken(13)).toBeNull();
    expect(withRedactor.droplets.entryTokens()).toEqual([]);
  });

  it('presents the same token when a registration is retried after its answer was lost, so the entry stays the droplet\'s', async () => {
    let lose = true;
    const lossy = through(registry.fleet, {
      register: async (...args) => {
        const outcome = await registry.fleet.register(...args);
        if (lose) {
          lose = false;
          throw new Error('socket hang up');
        }
        return outcome;
      },
    });
    const flaky = embeddedRegistry(db, { now: () => clock, ttlSeconds: TTL, fleet: lossy });
    await expect(flaky.registry.register(first)).rejects.toThrow('socket hang up');
    const retried = await flaky.registry.register(first);
    expect(retried.fleet).toMatchObject({ changed: false, created: false });
    expect(await flaky.registry.heartbeat(13, 'healthy')).toBe('renewed');
    expect(await registry.fleet.get('analytics-engine')).toMatchObject({ id: retried.fleet!.entryId, health: 'healthy' });
  });

  it('keeps the token a registry issued instead of the proposed one, and presents it from then on', async () => {
    const told: string[] = [];
    // A registry that ignores proposed tokens and issues its own on creation.
    const issuing = through(registry.fleet, {
      register: async (registration, credential) => registry.fleet.register(registration, (await registry.fleet.get(registration.name)) ? credential : { ...credential, entryToken: undefined }),
    });
    const droplets = new DropletStore(db, () => clock);
    const own = new DropletRegistry({ id: 'x', droplets, fleet: issuing, ttlSeconds: TTL, log: pino({ level: 'silent' }), onEntryToken: (token) => told.push(token) });
    await own.register(first);
    const issued = droplets.fleetEntry(13)!.entryToken!;
    expect(told).toHaveLength(2);
    expect(told[1]).toBe(issued);
    expect(told[0]).not.toBe(issued);
    expect(await own.heartbeat(13, 'degraded')).toBe('renewed');
    expect((await own.register({ ...first, buildId: 'build-13-b', version: '1.1.0' })).fleet).toMatchObject({ changed: true, created: false });
    expect(await own.deregister(13)).toBe(true);
    expect(await registry.fleet.list()).toEqual([]);
  });

  it('a foreign caller without the token cannot renew or remove the droplet\'s entry', async () => {
    const { fleet } = await registry.registry.register(first);
    await expect(registry.fleet.heartbeat(fleet!.entryId, 'unhealthy')).rejects.toMatchObject({ status: 403, code: 'REGISTRY_ENTRY_FORBIDDEN' });
    await expect(registry.fleet.deregister(fleet!.entryId)).rejects.toMatchObject({ status: 403 });
    await expect(registry.fleet.register({ ...registry.droplets.fleetEntry(13)!.registration, url: 'http://10.6.6.6:80', build_id: 'evil' })).rejects.toMatchObject({ code: 'REGISTRY_NAME_TAKEN' });
    expect(await registry.fleet.get(fleet!.entryId)).toMatchObject({ url: first.url, health: 'unknown' });
  });

  it('the composition makes every entry token a secret of the redactor, those kept from an earlier run too', async () => {
    const config = loadConfig({ DATA_DIR: dir, REGISTRY_TTL_SECONDS: String(TTL) });
    const log = pino({ level: 'silent' });
    const redactor = new SecretRedactor([]);
    const choice = createRegistry(config, db, new DropletStore(db), (text) => redactor.redact(text), log, redactor);
    await choice.registry.register(first);
    await choice.close();
    const token = new DropletStore(db).fleetEntry(13)!.entryToken!;
    expect(redactor.redact(`echoed ${token}`)).toBe('echoed [REDACTED]');

    const restarted = new SecretRedactor([]);
    const again = createRegistry(config, db, new DropletStore(db), (text) => restarted.redact(text), log, restarted);
    await again.close();
    expect(restarted.redact(token)).toBe('[REDACTED]');
  });

  it('deregisters from the directory and the fleet; the version history stays', async () => {
    await registry.registry.register(first);
    expect(await registry.registry.deregister(13)).toBe(true);
    expect(await registry.registry.list()).toEqual([]);
    expect(await registry.fleet.get('analytics-engine')).toBeNull();
    expect(await registry.registry.heartbeat(13, 'healthy')).toBe('not_registered');
    expect(await registry.fleet.list()).toEqual([]);
    expect(await registry.registry.deregister(13)).toBe(false);
    expect((await registry.registry.lastRegistration(13))?.version).toBe('1.0.0');
  });

  it('deregisters locally when the fleet cannot be reached (the entry then expires)', async () => {
    const unreachable = through(registry.fleet, {
      deregister: async () => {
        throw new Error('connect ECONNREFUSED');
      },
    });
    const withOutage = embeddedRegistry(db, { now: () => clock, ttlSeconds: TTL, fleet: unreachable });
    await withOutage.registry.register(first);
    expect(await withOutage.registry.deregister(13)).toBe(true);
    expect(await withOutage.registry.list()).toEqual([]);
    later(TTL);
    expect(await registry.fleet.get('analytics-engine')).toBeNull();
  });

  it("a heartbeat in flight finishes before the undeploy's deregistration, so nothing is brought back", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = through(registry.fleet, {
      heartbeat: async (...args) => {
        await gate;
        return registry.fleet.heartbeat(...args);
      },
    });
    const serial = embeddedRegistry(db, { now: () => clock, ttlSeconds: TTL, fleet: slow });
    await serial.registry.register(first);
    later(TTL + 1);
    const beat = serial.registry.heartbeat(13, 'healthy');
    const undeploy = serial.registry.deregister(13);
    release();
    expect(await beat).toBe('reregistered');
    expect(await undeploy).toBe(true);
    expect(await registry.fleet.list()).toEqual([]);
  });

  it('refuses a name that belongs to another droplet, and a new name for a known id, before the fleet hears of it', async () => {
    await registry.registry.register(first);
    await expect(registry.registry.register({ ...first, dropletId: 14, buildId: 'build-14-x' })).rejects.toMatchObject({ code: 'DROPLET_NAME_TAKEN' });
    await expect(registry.registry.register({ ...first, name: 'renamed', buildId: 'build-13-y' })).rejects.toBeInstanceOf(ConflictError);
    expect((await registry.fleet.list()).map((entry) => entry.name)).toEqual(['analytics-engine']);
  });

  it('a name another service registered in the fleet before the droplet existed fails the registration with REGISTRY_NAME_TAKEN', async () => {
    await registry.fleet.register({ name: 'analytics-engine', droplet_id: 13, url: 'http://10.0.0.9:9000', capabilities: [], version: '3.0.0' });
    await expect(registry.registry.register(first)).rejects.toMatchObject({ code: 'REGISTRY_NAME_TAKEN', status: 409 });
    expect(await registry.registry.heartbeat(13, 'healthy')).toBe('not_registered');
  });

  it('keeps the fleet entry across a reopened database', async () => {
    await registry.registry.register(first);
    db.close();
    db = openDatabase(join(dir, 'executor.db'));
    registry = embeddedRegistry(db, { now: () => clock, ttlSeconds: TTL });
    expect(registry.droplets.getByName('analytics-engine')?.buildId).toBe(first.buildId);
    later(TTL + 1);
    expect(await registry.registry.heartbeat(13, 'healthy')).toBe('reregistered');
  });

  it('lists by id, finds by name and reports the highest id', async () => {
    expect(registry.droplets.maxDropletId()).toBe(0);
    await registry.registry.register({ ...first, dropletId: 21, name: 'zeta-service', buildId: 'build-21-zeta' });
    await registry.registry.register(first);
    expect((await registry.registry.list()).map((droplet) => droplet.dropletId)).toEqual([13, 21]);
    expect(registry.droplets.getByName('zeta-service')?.dropletId).toBe(21);
    expect(registry.droplets.getByName('missing')).toBeNull();
    expect(registry.droplets.maxDropletId()).toBe(21);
  });
});
