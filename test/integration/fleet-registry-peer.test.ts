/**
 * A real registry peer: a second executor process is the fleet registry (REGISTRY_URL
 * points at its /registry), and this executor builds and deploys a droplet through it.
 * Registration once per build with full provenance, a rebuild updating the same entry to
 * version 1.1.0 (git tag v1.1.0), heartbeats from health probes, expiry once they stop
 * (the droplet stopped through the droplet API), re-registration when it serves again,
 * and deregistration on undeploy. The entry is the registering executor's by its entry
 * token: a peer holding REGISTRY_TOKEN but not that token cannot take it over, renew or
 * remove it, and the token is in nothing the executor shows.
 */
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryEntry } from '../../src/domain/ports/fleet-registry.js';
import type { BuildView } from '../../src/domain/status.js';
import { freePort } from '../../src/sandbox/ports.js';
import { api, startExecutor, submitBuild, tempDataDir, waitForStatus, type TestExecutor } from '../support/executor.js';
import { spawnExecutor, type ExecutorProcess } from '../support/executor-process.js';

const TOKEN = 'fleet-peer-token-5d1e';
const INTENT = 'Build Inventory Tracker for warehouse stock levels';
const NAME = 'fleet-inventory';
const auth = { authorization: `Bearer ${TOKEN}` };

let peer: ExecutorProcess;
let peerDir: string;
let server: TestExecutor;

beforeAll(async () => {
  peerDir = tempDataDir();
  peer = await spawnExecutor({ dataDir: peerDir, port: await freePort(), env: { REGISTRY_TOKEN: TOKEN, DEPLOY_TARGET: 'none', REGISTRY_HEARTBEAT_SECONDS: '1', REGISTRY_TTL_SECONDS: '3' } });
  server = await startExecutor({
    REGISTRY_URL: `${peer.baseUrl}/registry`,
    REGISTRY_TOKEN: TOKEN,
    REGISTRY_HEARTBEAT_SECONDS: '1',
    REGISTRY_TTL_SECONDS: '6',
    START_TIMEOUT_SECONDS: '20',
  });
}, 90_000);

afterAll(async () => {
  await server?.close();
  await peer?.stop();
  if (peerDir) rmSync(peerDir, { recursive: true, force: true });
});

/** The peer's entry for the droplet, or null when it answers 404. */
async function peerEntry(): Promise<RegistryEntry | null> {
  const response = await api<RegistryEntry>(peer.baseUrl, `/registry/services/${NAME}`, { headers: auth });
  if (response.status === 404) return null;
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

/** Polls until `check` answers something other than undefined (bounded; fails with what it saw last). */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function build(): Promise<BuildView> {
  const buildId = await submitBuild(server.baseUrl, { architect_intent: INTENT, droplet_name: NAME, approval_mode: 'auto' });
  return waitForStatus(server.baseUrl, buildId, ['completed']);
}

const registrationOf = (view: BuildView) => view.steps.find((step) => step.step === 'registry_update')!.details as Record<string, unknown> & { provenance: Record<string, unknown> };
const tagged = (repository: string, tag: string) => execFileSync('git', ['-C', repository, 'rev-list', '-n', '1', tag], { encoding: 'utf8' }).trim();

describe('a second executor as the fleet registry', () => {
  let first: BuildView;
  let firstEntry: RegistryEntry;

  it('registers the deployed droplet once, with its provenance and version 1.0.0', async () => {
    first = await build();
    const details = registrationOf(first);
    expect(details).toMatchObject({ registry: 'http', version: '1.0.0', tag: 'v1.0.0', url: first.deployment_url, changed: true });

    firstEntry = (await peerEntry())!;
    expect(firstEntry).toMatchObject({
      id: details.fleet_entry_id,
      name: NAME,
      droplet_id: first.droplet_id,
      url: first.deployment_url,
      health_endpoint: '/health',
      version: '1.0.0',
      build_id: first.build_id,
      host: 'local',
      ttl_seconds: 6,
    });
    const provenance = firstEntry.provenance;
    expect(provenance).toEqual(details.provenance);
    expect(provenance).toMatchObject({
      build_id: first.build_id,
      approvals: [],
      author: { id: 'offline', model: null },
      cost_usd: 0,
      deployed: { url: first.deployment_url, host: 'local' },
      tag: 'v1.0.0',
    });
    expect(provenance.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(provenance.spec_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(provenance.acceptance!.total).toBeGreaterThan(0);
    expect(provenance.acceptance!.passed).toBe(provenance.acceptance!.total);
    expect(tagged(first.repository_path!, 'v1.0.0')).toBe(provenance.commit);

    const listed = await api<{ services: RegistryEntry[]; total: number }>(peer.baseUrl, `/registry/services?name=${NAME}`, { headers: auth });
    expect(listed.body.total).toBe(1);
    // This executor uses the peer: it serves no registry of its own.
    expect((await api(server.baseUrl, '/registry/services')).status).toBe(404);
    expect((await api<{ registry: string }>(server.baseUrl, '/executor/health')).body.registry).toBe('http');
    // The droplet is handed the registry in use.
    const env = readFileSync(join(server.dataDir, 'deployments', NAME, 'shared', '.env'), 'utf8');
    expect(env).toContain(`REGISTRY_URL=${peer.baseUrl}/registry\n`);
    expect(env).not.toContain(TOKEN);
  });

  it("is the registering executor's entry: REGISTRY_TOKEN alone cannot take it over, renew or remove it; the token is shown nowhere", async () => {
    const db = new Database(join(server.dataDir, 'executor.db'), { readonly: true });
    const { fleet_entry_token: entryToken } = db.prepare('SELECT fleet_entry_token FROM droplets WHERE name = ?').get(NAME) as { fleet_entry_token: string };
    db.close();
    expect(entryToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const takeover = await api<{ error: { code: string } }>(peer.baseUrl, '/registry/register', {
      headers: auth,
      body: { name: NAME, droplet_id: first.droplet_id, url: 'http://127.0.0.1:9/', capabilities: [], version: '9.0.0', build_id: 'build-takeover' },
    });
    expect(takeover.status).toBe(409);
    expect(takeover.body.error.code).toBe('REGISTRY_NAME_TAKEN');
    const beat = await api<{ error: { code: string } }>(peer.baseUrl, '/registry/heartbeat', { headers: auth, body: { id: firstEntry.id, status: 'unhealthy' } });
    expect([beat.status, beat.body.error.code]).toEqual([403, 'REGISTRY_ENTRY_FORBIDDEN']);
    const removal = await api(peer.baseUrl, `/registry/services/${NAME}`, { method: 'DELETE', headers: auth });
    expect(removal.status).toBe(403);
    expect(await peerEntry()).toMatchObject({ id: firstEntry.id, url: first.deployment_url, build_id: first.build_id });

    const events = await api(server.baseUrl, `/executor/builds/${first.build_id}/events?after=0`);
    const shown = JSON.stringify([first, events.body, (await api(server.baseUrl, `/executor/droplets/${NAME}`)).body, await peerEntry()]);
    expect(shown).not.toContain(entryToken);
    expect(readFileSync(join(server.dataDir, 'deployments', NAME, 'shared', '.env'), 'utf8')).not.toContain(entryToken);
  });

  it('heartbeats the droplet from its health probes', async () => {
    const beaten = await until('a heartbeat', async () => {
      const entry = await peerEntry();
      return entry?.last_heartbeat_at ? entry : undefined;
    });
    expect(beaten.health).toBe('healthy');
    expect(beaten.id).toBe(firstEntry.id);
    // Each heartbeat moves the lease on: past the expiry the registration was given.
    const later = await until('a renewed lease', async () => {
      const entry = await peerEntry();
      return entry && Date.parse(entry.expires_at) > Date.parse(firstEntry.expires_at) + 1_000 ? entry : undefined;
    });
    expect(later.id).toBe(firstEntry.id);
  });

  it('a rebuild updates the same entry to version 1.1.0 and tags v1.1.0 on its verified commit', async () => {
    const second = await build();
    const details = registrationOf(second);
    expect(details).toMatchObject({ registry: 'http', version: '1.1.0', tag: 'v1.1.0', fleet_entry_id: firstEntry.id, changed: true });
    const entry = (await peerEntry())!;
    expect(entry).toMatchObject({ id: firstEntry.id, version: '1.1.0', build_id: second.build_id, registered_at: firstEntry.registered_at, provenance: { build_id: second.build_id, tag: 'v1.1.0' } });
    const tags = execFileSync('git', ['-C', second.repository_path!, 'tag', '--list', 'v*'], { encoding: 'utf8' }).trim().split('\n');
    expect(tags).toEqual(['v1.0.0', 'v1.1.0']);
    expect(tagged(second.repository_path!, 'v1.1.0')).toBe(details.provenance.commit);
    expect(details.provenance.commit).not.toBe(firstEntry.provenance.commit);
  });

  it('a stopped droplet gets no heartbeats and expires on the registry; serving again, it is registered again', async () => {
    expect((await api(server.baseUrl, `/executor/droplets/${NAME}/stop`, { method: 'POST' })).status).toBe(200);
    await until('the entry to expire', async () => ((await peerEntry()) === null ? true : undefined));
    const live = await api<{ services: RegistryEntry[]; total: number }>(peer.baseUrl, '/registry/services', { headers: auth });
    expect(live.body).toEqual({ services: [], total: 0 });
    // Still the executor's droplet: only the fleet forgot it.
    const mine = await api<{ droplets: { name: string }[] }>(server.baseUrl, '/executor/droplets');
    expect(mine.body.droplets.map((droplet) => droplet.name)).toContain(NAME);

    expect((await api(server.baseUrl, `/executor/droplets/${NAME}/start`, { method: 'POST' })).status).toBe(200);
    const back = await until('the droplet registered again', async () => (await peerEntry()) ?? undefined);
    expect(back).toMatchObject({ version: '1.1.0', droplet_id: firstEntry.droplet_id, provenance: { tag: 'v1.1.0' } });
    expect(back.id).not.toBe(firstEntry.id);
  });

  it('undeploy deregisters it at once', async () => {
    const entry = await until('a fresh lease', async () => {
      const found = await peerEntry();
      return found?.health === 'healthy' ? found : undefined;
    });
    const removed = await api<Record<string, unknown>>(server.baseUrl, `/executor/droplets/${NAME}`, { method: 'DELETE' });
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    expect(removed.body).toMatchObject({ action: 'undeploy', undeployed: true });
    // Gone although its lease still ran: deregistered, not expired.
    expect(await peerEntry()).toBeNull();
    expect(Date.parse(entry.expires_at)).toBeGreaterThan(Date.now());
    const journal = await api<{ events: { type: string; data: Record<string, unknown> }[] }>(server.baseUrl, `/executor/droplets/${NAME}`);
    expect(journal.body.events[0]).toMatchObject({ type: 'droplet.undeployed', data: { deregistered: true } });
  });
});
