/** The `/registry` API through buildApp: shapes, caller-address urls, errors and the token policy. */
import { describe, expect, it } from 'vitest';
import type { RegistryEntry } from '../../src/domain/ports/fleet-registry.js';
import { EmbeddedFleetRegistry } from '../../src/registry/embedded-fleet-registry.js';
import { RegistryEntryStore } from '../../src/store/registry-entries.js';
import { TestBuilds, createTestApp, listen, startsTestApps, type TestAppOverrides } from '../support/http-app.js';
import { expectUdcError } from '../support/udc-error.js';

const start = startsTestApps();
const T0 = Date.parse('2026-01-01T00:00:00.000Z');

const registration = {
  name: 'analytics-engine',
  droplet_id: 13,
  url: 'http://127.0.0.1:41001',
  capabilities: ['metrics', 'reports'],
  version: '1.0.0',
  build_id: 'build-13-analytics-engine-20260101-000000',
  provenance: { build_id: 'build-13-analytics-engine-20260101-000000', commit: 'a'.repeat(40), future_field: { kept: true } },
};

/** An app serving /registry over the test's database, with a clock the test moves. */
async function startRegistry(overrides: TestAppOverrides = {}) {
  const builds = new TestBuilds();
  const clock = { now: T0 };
  const fleetRegistry = new EmbeddedFleetRegistry(new RegistryEntryStore(builds.db), { defaultTtlSeconds: 90, now: () => new Date(clock.now) });
  const test = await start({ builds, fleetRegistry, ...overrides });
  return { ...test, fleetRegistry, clock, advance: (seconds: number) => (clock.now += seconds * 1000) };
}

type Created = { entry: RegistryEntry; changed: boolean; created: boolean; entry_token: string };
const entryHeader = (token: string) => ({ 'x-registry-entry-token': token });


describe('registry API', () => {
  it('answers 201 for a new entry, 200 unchanged for the same build, 200 changed for a new one', async () => {
    const { app } = await startRegistry();
    const created = await app.inject({ method: 'POST', url: '/registry/register', payload: registration });
    expect(created.statusCode).toBe(201);
    const body = created.json<Created>();
    expect(body).toMatchObject({ created: true, changed: true, entry: { id: 1, name: 'analytics-engine', health: 'unknown', health_endpoint: '/health', expires_at: '2026-01-01T00:01:30.000Z' } });
    expect(body.entry_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Provenance fields this version does not know pass through.
    expect(body.entry.provenance).toEqual(registration.provenance);

    const headers = entryHeader(body.entry_token);
    const same = await app.inject({ method: 'POST', url: '/registry/register', headers, payload: { ...registration, version: '2.0.0' } });
    expect(same.statusCode).toBe(200);
    expect(same.json()).toEqual({ entry: body.entry, changed: false, created: false });

    const rebuilt = await app.inject({ method: 'POST', url: '/registry/register', headers, payload: { ...registration, version: '1.1.0', build_id: 'build-13-b' } });
    expect(rebuilt.statusCode).toBe(200);
    expect(rebuilt.json()).toMatchObject({ changed: true, created: false, entry: { id: 1, version: '1.1.0', build_id: 'build-13-b' } });
  });

  it('takes the url from the caller when only a port is given', async () => {
    const { app } = await startRegistry();
    const { name: _n, url: _u, ...rest } = registration;
    const register = (name: string, remoteAddress: string, droplet_id: number) =>
      app.inject({ method: 'POST', url: '/registry/register', remoteAddress, payload: { ...rest, name, droplet_id, port: 4100 } });
    expect((await register('v4-peer', '10.1.2.3', 21)).json()).toMatchObject({ entry: { url: 'http://10.1.2.3:4100' } });
    expect((await register('mapped-peer', '::ffff:10.1.2.4', 22)).json()).toMatchObject({ entry: { url: 'http://10.1.2.4:4100' } });
    expect((await register('v6-peer', 'fd00::5', 23)).json()).toMatchObject({ entry: { url: 'http://[fd00::5]:4100' } });

    // Over a real socket: the loopback address the request came from.
    const base = await listen(app);
    const response = await fetch(`${base}/registry/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...rest, name: 'socket-peer', droplet_id: 24, port: 4200, health_endpoint: '/healthz' }),
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ entry: { url: 'http://127.0.0.1:4200', health_endpoint: '/healthz' } });

    // A caller on a link-local address does not make peers call there.
    expectUdcError(await register('metadata-peer', '169.254.169.254', 25), 400, 'INVALID_INPUT');
    expectUdcError(await register('link-peer', 'fe80::1', 26), 400, 'INVALID_INPUT');
  });

  it('refuses bad registrations with one INVALID_INPUT listing the issues', async () => {
    const { app, fleetRegistry } = await startRegistry();
    const refused = async (payload: Record<string, unknown>, path: string) => {
      const error = expectUdcError(await app.inject({ method: 'POST', url: '/registry/register', payload }), 400, 'INVALID_INPUT');
      expect((error.details.issues as { path: string }[]).map((issue) => issue.path)).toContain(path);
    };
    await refused({ ...registration, url: 'http://user:secret@10.0.0.1:4100' }, 'url');
    await refused({ ...registration, url: 'ftp://10.0.0.1/' }, 'url');
    await refused({ ...registration, url: undefined }, 'url');
    await refused({ ...registration, version: 'v1' }, 'version');
    await refused({ ...registration, name: '42' }, 'name');
    await refused({ ...registration, surprise: 1 }, '');
    await refused({ ...registration, port: 70_000, url: undefined }, 'port');
    // A health endpoint is a path on the service, never a way to another host.
    for (const health_endpoint of ['//evil.host/x', '/\\evil.host/x', '/he alth', 'health', '/ok\n']) await refused({ ...registration, health_endpoint }, 'health_endpoint');
    // Link-local and metadata literals, in every spelling the URL parser turns into one.
    for (const url of ['http://169.254.169.254/latest', 'http://169.254.1.2:4100', 'http://2852039166/', 'http://0xa9fea9fe/', 'http://[fe80::1]:4100', 'http://[febf::1]/', 'http://[fd00:ec2::254]/', 'http://[::ffff:169.254.169.254]/']) {
      await refused({ ...registration, url }, 'url');
    }
    expect(await fleetRegistry.list()).toEqual([]);
    for (const [name, url, health_endpoint] of [['near-miss-a', 'http://169.255.0.1:4100', '/health/x'], ['near-miss-b', 'http://[fec0::1]:4100', '/a//b'], ['near-miss-c', 'http://[fd00:ec2::253]/', '/']] as const) {
      expect((await app.inject({ method: 'POST', url: '/registry/register', payload: { ...registration, name, url, health_endpoint } })).statusCode).toBe(201);
    }
  });

  it('answers 409 REGISTRY_NAME_TAKEN to a registration of a live name without its entry token, whatever droplet_id it claims', async () => {
    const { app, fleetRegistry } = await startRegistry();
    const owner = (await app.inject({ method: 'POST', url: '/registry/register', payload: registration })).json<Created>();
    const takeover = { ...registration, url: 'http://10.6.6.6:80', build_id: 'build-evil' };
    for (const headers of [{}, entryHeader('A'.repeat(43))]) {
      const error = expectUdcError(await app.inject({ method: 'POST', url: '/registry/register', headers, payload: takeover }), 409, 'REGISTRY_NAME_TAKEN');
      expect(error.details).toEqual({ name: 'analytics-engine' });
    }
    expectUdcError(await app.inject({ method: 'POST', url: '/registry/register', payload: { ...takeover, droplet_id: 99 } }), 409, 'REGISTRY_NAME_TAKEN');
    expect(await fleetRegistry.get('analytics-engine')).toMatchObject({ url: registration.url, build_id: registration.build_id });
    // A malformed token is refused as such.
    expectUdcError(await app.inject({ method: 'POST', url: '/registry/register', headers: entryHeader('short'), payload: takeover }), 400, 'INVALID_INPUT');
    const updated = await app.inject({ method: 'POST', url: '/registry/register', headers: entryHeader(owner.entry_token), payload: { ...takeover, url: 'http://127.0.0.1:41009' } });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ changed: true, entry: { url: 'http://127.0.0.1:41009' } });
    expect(updated.json()).not.toHaveProperty('entry_token');
  });

  it('renews with heartbeats by id or name, and answers 404 once the entry expired', async () => {
    const { app, advance } = await startRegistry();
    const { entry_token } = (await app.inject({ method: 'POST', url: '/registry/register', payload: registration })).json<Created>();
    const headers = entryHeader(entry_token);
    advance(60);
    const byId = await app.inject({ method: 'POST', url: '/registry/heartbeat', headers, payload: { id: 1, status: 'healthy' } });
    expect(byId.statusCode).toBe(200);
    expect(byId.json()).toMatchObject({ id: 1, health: 'healthy', last_heartbeat_at: '2026-01-01T00:01:00.000Z', expires_at: '2026-01-01T00:02:30.000Z' });
    advance(60);
    expect((await app.inject({ method: 'POST', url: '/registry/heartbeat', headers, payload: { name: 'analytics-engine', status: 'degraded' } })).json()).toMatchObject({ health: 'degraded' });

    expectUdcError(await app.inject({ method: 'POST', url: '/registry/heartbeat', headers, payload: { status: 'healthy' } }), 400, 'INVALID_INPUT');
    expectUdcError(await app.inject({ method: 'POST', url: '/registry/heartbeat', headers, payload: { id: 1, status: 'unknown' } }), 400, 'INVALID_INPUT');

    advance(90);
    expectUdcError(await app.inject({ method: 'POST', url: '/registry/heartbeat', headers, payload: { id: 1, status: 'healthy' } }), 404, 'REGISTRY_ENTRY_NOT_FOUND');
    expectUdcError(await app.inject({ method: 'GET', url: '/registry/services/1' }), 404, 'REGISTRY_ENTRY_NOT_FOUND');
    expect((await app.inject({ method: 'GET', url: '/registry/services' })).json()).toEqual({ services: [], total: 0 });
  });

  it("answers 403 to a heartbeat without the entry's token, and keeps its lease and health", async () => {
    const { app, fleetRegistry } = await startRegistry();
    await app.inject({ method: 'POST', url: '/registry/register', payload: registration });
    const other = (await app.inject({ method: 'POST', url: '/registry/register', payload: { ...registration, name: 'report-mailer' } })).json<Created>();
    for (const headers of [{}, entryHeader(other.entry_token)]) {
      expectUdcError(await app.inject({ method: 'POST', url: '/registry/heartbeat', headers, payload: { name: 'analytics-engine', status: 'unhealthy' } }), 403, 'REGISTRY_ENTRY_FORBIDDEN');
    }
    expectUdcError(await app.inject({ method: 'POST', url: '/registry/heartbeat', headers: entryHeader('x'), payload: { id: 1, status: 'unhealthy' } }), 400, 'INVALID_INPUT');
    expect(await fleetRegistry.get(1)).toMatchObject({ health: 'unknown', last_heartbeat_at: null });
  });

  it('lists with filters, gets by id or name, and deregisters', async () => {
    const { app } = await startRegistry();
    const analytics = (await app.inject({ method: 'POST', url: '/registry/register', payload: registration })).json<Created>();
    const mailer = (await app.inject({ method: 'POST', url: '/registry/register', payload: { ...registration, name: 'report-mailer', droplet_id: 14, build_id: 'b-14', capabilities: ['mail'] } })).json<Created>();
    await app.inject({ method: 'POST', url: '/registry/heartbeat', headers: entryHeader(mailer.entry_token), payload: { name: 'report-mailer', status: 'healthy' } });
    const names = async (query: string) => {
      const response = await app.inject({ method: 'GET', url: `/registry/services${query}` });
      expect(response.statusCode).toBe(200);
      const body = response.json<{ services: RegistryEntry[]; total: number }>();
      expect(body.total).toBe(body.services.length);
      return body.services.map((entry) => entry.name);
    };
    expect(await names('')).toEqual(['analytics-engine', 'report-mailer']);
    expect(await names('?capability=metrics')).toEqual(['analytics-engine']);
    expect(await names('?health=healthy')).toEqual(['report-mailer']);
    expect(await names('?health=unknown&capability=mail')).toEqual([]);
    expect(await names('?name=report-mailer')).toEqual(['report-mailer']);
    expectUdcError(await app.inject({ method: 'GET', url: '/registry/services?health=great' }), 400, 'INVALID_INPUT');

    expect((await app.inject({ method: 'GET', url: '/registry/services/2' })).json()).toMatchObject({ id: 2, name: 'report-mailer' });
    expect((await app.inject({ method: 'GET', url: '/registry/services/analytics-engine' })).json()).toMatchObject({ id: 1 });
    expectUdcError(await app.inject({ method: 'GET', url: '/registry/services/0' }), 400, 'INVALID_INPUT');
    expectUdcError(await app.inject({ method: 'GET', url: '/registry/services/nobody' }), 404, 'REGISTRY_ENTRY_NOT_FOUND');

    // Not without the entry's own token.
    expectUdcError(await app.inject({ method: 'DELETE', url: '/registry/services/analytics-engine' }), 403, 'REGISTRY_ENTRY_FORBIDDEN');
    expectUdcError(await app.inject({ method: 'DELETE', url: '/registry/services/1', headers: entryHeader(mailer.entry_token) }), 403, 'REGISTRY_ENTRY_FORBIDDEN');
    const removed = await app.inject({ method: 'DELETE', url: '/registry/services/analytics-engine', headers: entryHeader(analytics.entry_token) });
    expect(removed.statusCode).toBe(200);
    expect(removed.json()).toEqual({ deregistered: true, id: 'analytics-engine' });
    expect((await app.inject({ method: 'DELETE', url: '/registry/services/2', headers: entryHeader(mailer.entry_token) })).json()).toEqual({ deregistered: true, id: 2 });
    expectUdcError(await app.inject({ method: 'DELETE', url: '/registry/services/2', headers: entryHeader(mailer.entry_token) }), 404, 'REGISTRY_ENTRY_NOT_FOUND');
    expect(await names('')).toEqual([]);
  });

  it('advertises the registry routes in /capabilities only when it serves them', async () => {
    const { app } = await startRegistry();
    const advertised = ((await app.inject({ method: 'GET', url: '/capabilities' })).json().integration_endpoints as { method: string; path: string }[])
      .map((endpoint) => `${endpoint.method} ${endpoint.path}`)
      .filter((line) => line.includes('/registry'));
    expect(advertised.sort()).toEqual([
      'DELETE /registry/services/{id}',
      'GET /registry/health',
      'GET /registry/services',
      'GET /registry/services/{id}',
      'POST /registry/heartbeat',
      'POST /registry/register',
    ]);
    const { app: plain } = await createTestApp();
    expectUdcError(await plain.inject({ method: 'GET', url: '/registry/services' }), 404, 'NOT_FOUND');
    await plain.close();
  });
});

describe('registry auth policy', () => {
  const api = 'api-token-0123456789';
  const peers = 'registry-token-0123456789';
  const droplets = 'droplet-token-0123456789';
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('accepts API_TOKEN or REGISTRY_TOKEN on every registry route, DROPLET_API_TOKEN on reads only', async () => {
    const { app } = await startRegistry({ apiToken: api, registryToken: peers, dropletToken: droplets });
    const register = (headers: Record<string, string>, name: string, droplet_id: number) =>
      app.inject({ method: 'POST', url: '/registry/register', headers, payload: { ...registration, name, droplet_id } });

    expectUdcError(await register({}, 'nobody', 1), 401, 'UNAUTHORIZED');
    expectUdcError(await register(bearer('wrong'), 'nobody', 1), 401, 'UNAUTHORIZED');
    expectUdcError(await register(bearer(droplets), 'nobody', 1), 401, 'UNAUTHORIZED');
    const byApi = await register(bearer(api), 'by-api', 2);
    expect(byApi.statusCode).toBe(201);
    expect((await register(bearer(peers), 'by-peer', 3)).statusCode).toBe(201);
    const owner = { ...bearer(peers), ...entryHeader(byApi.json<Created>().entry_token) };

    for (const token of [api, peers, droplets]) {
      expect((await app.inject({ method: 'GET', url: '/registry/services', headers: bearer(token) })).json()).toMatchObject({ total: 2 });
      expect((await app.inject({ method: 'GET', url: '/registry/services/by-api', headers: bearer(token) })).statusCode).toBe(200);
    }
    expectUdcError(await app.inject({ method: 'GET', url: '/registry/services' }), 401, 'UNAUTHORIZED');
    const asDroplet = { ...owner, ...bearer(droplets) };
    expectUdcError(await app.inject({ method: 'POST', url: '/registry/heartbeat', headers: asDroplet, payload: { id: 1, status: 'healthy' } }), 401, 'UNAUTHORIZED');
    expectUdcError(await app.inject({ method: 'DELETE', url: '/registry/services/by-api', headers: asDroplet }), 401, 'UNAUTHORIZED');
    expect((await app.inject({ method: 'POST', url: '/registry/heartbeat', headers: owner, payload: { id: 1, status: 'healthy' } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'DELETE', url: '/registry/services/by-api', headers: owner })).statusCode).toBe(200);

    // The executor's own API takes API_TOKEN only.
    expectUdcError(await app.inject({ method: 'GET', url: '/executor/builds', headers: bearer(peers) }), 401, 'UNAUTHORIZED');
    expectUdcError(await app.inject({ method: 'GET', url: '/executor/builds', headers: bearer(droplets) }), 401, 'UNAUTHORIZED');
    expect((await app.inject({ method: 'GET', url: '/executor/builds', headers: bearer(api) })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    // Droplets probe `{REGISTRY_URL}/health` for their /dependencies, holding no token.
    const health = await app.inject({ method: 'GET', url: '/registry/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'healthy' });
    expectUdcError(await app.inject({ method: 'GET', url: '/registry/services' }), 401, 'UNAUTHORIZED');
  });

  it('lets the operator (API_TOKEN) deregister any entry without its entry token; REGISTRY_TOKEN does not', async () => {
    const { app, fleetRegistry } = await startRegistry({ apiToken: api, registryToken: peers, dropletToken: droplets });
    expect((await app.inject({ method: 'POST', url: '/registry/register', headers: bearer(peers), payload: registration })).statusCode).toBe(201);
    expectUdcError(await app.inject({ method: 'DELETE', url: '/registry/services/analytics-engine', headers: bearer(peers) }), 403, 'REGISTRY_ENTRY_FORBIDDEN');
    expectUdcError(await app.inject({ method: 'POST', url: '/registry/heartbeat', headers: bearer(api), payload: { id: 1, status: 'healthy' } }), 403, 'REGISTRY_ENTRY_FORBIDDEN');
    expect((await app.inject({ method: 'DELETE', url: '/registry/services/analytics-engine', headers: bearer(api) })).json()).toEqual({ deregistered: true, id: 'analytics-engine' });
    expect(await fleetRegistry.list()).toEqual([]);
  });

  it('with REGISTRY_TOKEN alone, guards only /registry', async () => {
    const { app } = await startRegistry({ registryToken: peers, dropletToken: droplets });
    expectUdcError(await app.inject({ method: 'POST', url: '/registry/register', payload: registration }), 401, 'UNAUTHORIZED');
    expect((await app.inject({ method: 'POST', url: '/registry/register', headers: bearer(peers), payload: registration })).statusCode).toBe(201);
    expect((await app.inject({ method: 'GET', url: '/registry/services', headers: bearer(droplets) })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/executor/builds' })).statusCode).toBe(200);
  });

  it('with DROPLET_API_TOKEN but no API_TOKEN or REGISTRY_TOKEN, refuses every registry write (fail closed); reads stay open', async () => {
    const { app, fleetRegistry } = await startRegistry({ dropletToken: droplets });
    const owned = await fleetRegistry.register({ ...registration, url: registration.url });
    const headers = { ...bearer(droplets), ...entryHeader(owned.entry_token!) };
    for (const headerSet of [{}, headers]) {
      const error = expectUdcError(await app.inject({ method: 'POST', url: '/registry/register', headers: headerSet, payload: { ...registration, name: 'droplet-made' } }), 401, 'UNAUTHORIZED');
      expect(error.message).toContain('neither API_TOKEN nor REGISTRY_TOKEN');
      expectUdcError(await app.inject({ method: 'POST', url: '/registry/heartbeat', headers: headerSet, payload: { id: owned.entry.id, status: 'healthy' } }), 401, 'UNAUTHORIZED');
      expectUdcError(await app.inject({ method: 'DELETE', url: '/registry/services/analytics-engine', headers: headerSet }), 401, 'UNAUTHORIZED');
    }
    expect((await fleetRegistry.list()).map((entry) => entry.name)).toEqual(['analytics-engine']);
    expect((await app.inject({ method: 'GET', url: '/registry/services' })).json()).toMatchObject({ total: 1 });
    expect((await app.inject({ method: 'GET', url: '/registry/services/analytics-engine', headers: bearer(droplets) })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/executor/builds' })).statusCode).toBe(200);
  });

  it('with no tokens at all, the registry is open, but writes on an entry still need its token (nobody is the operator)', async () => {
    const { app } = await startRegistry();
    const created = await app.inject({ method: 'POST', url: '/registry/register', payload: registration });
    expect(created.statusCode).toBe(201);
    expectUdcError(await app.inject({ method: 'DELETE', url: '/registry/services/1' }), 403, 'REGISTRY_ENTRY_FORBIDDEN');
    expect((await app.inject({ method: 'DELETE', url: '/registry/services/1', headers: entryHeader(created.json<Created>().entry_token) })).statusCode).toBe(200);
  });

  it("skips the bearer check on 'signed-link' routes", async () => {
    const builds = new TestBuilds();
    const { app } = await start({ builds, apiToken: api, registryToken: peers });
    app.get('/executor/approvals/:token', { config: { auth: 'signed-link' } }, async () => ({ page: 'confirm' }));
    app.post('/executor/approvals/:token', { config: { auth: 'signed-link' } }, async () => ({ decided: true }));
    app.get('/executor/unmarked', async () => ({ open: true }));
    expect((await app.inject({ method: 'GET', url: '/executor/approvals/abc' })).json()).toEqual({ page: 'confirm' });
    expect((await app.inject({ method: 'POST', url: '/executor/approvals/abc', payload: {} })).json()).toEqual({ decided: true });
    expectUdcError(await app.inject({ method: 'GET', url: '/executor/unmarked' }), 401, 'UNAUTHORIZED');
  });
});
