// @ts-check
// The five UDC endpoints, their shapes and their authentication.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { loadManifest, loadPlan } from '../src/plan.js';
import { plannedArchetype } from '../src/archetypes/index.js';
import { RequestMetrics } from '../src/metrics.js';
import { AUTH, ISO_TIME, TOKEN, UUID, assertError, build } from './support/app.js';

const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const manifest = loadManifest();

const archetype = plannedArchetype()?.module;
// The business routes the SPEC promises for the archetype and the resources of plan.json; /capabilities must list exactly these.
const BUSINESS_ROUTES = [...(archetype?.endpoints ?? []).map(({ method, path }) => ({ method, path })), ...loadPlan().resources.flatMap(({ plural }) => [
  { method: 'GET', path: '/' + plural },
  { method: 'POST', path: '/' + plural },
  { method: 'GET', path: '/' + plural + '/:id' },
  { method: 'PUT', path: '/' + plural + '/:id' },
  { method: 'PATCH', path: '/' + plural + '/:id' },
  { method: 'DELETE', path: '/' + plural + '/:id' },
])];
/** Served to anyone (a short link's redirect): not in the 401 check. */
const GUARDED_ROUTES = BUSINESS_ROUTES.filter((route) => !(archetype?.publicRoutes ?? []).includes(route.path));

/** A port nothing listens on. */
async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Two segments: a URL shortener serves every one-segment path (its codes) to anyone. */
const UNKNOWN_PATH = '/no-such/route';

const message = { from_service: 'orchestrator', message_type: 'task_assignment', payload: { task: 'refresh' }, trace_id: 't-1' };

test('GET /health is public and has the UDC shape', async (t) => {
  const app = build(t);
  const response = await app.inject({ method: 'GET', url: '/health' });
  assert.equal(response.statusCode, 200);
  const body = response.json();
  assert.equal(body.status, 'healthy');
  assert.match(body.timestamp, ISO_TIME);
  assert.ok(Number.isInteger(body.uptime_seconds) && body.uptime_seconds >= 0);
  assert.match(body.version, SEMVER);
});

test('every endpoint but /health refuses a missing or wrong token with 401', async (t) => {
  const app = build(t);
  const requests = [
    { method: 'GET', url: '/capabilities' },
    { method: 'GET', url: '/state' },
    { method: 'GET', url: '/dependencies' },
    { method: 'POST', url: '/message', payload: message },
    { method: 'GET', url: UNKNOWN_PATH },
    ...GUARDED_ROUTES.map((route) => ({ method: route.method, url: route.path.replace(/:[a-z_]+/g, 'some-id'), payload: ['POST', 'PUT', 'PATCH'].includes(route.method) ? {} : undefined })),
  ];
  for (const request of requests) {
    assertError(await app.inject(request), 401, 'UNAUTHORIZED');
    assertError(await app.inject({ ...request, headers: { authorization: 'Bearer wrong' } }), 401, 'UNAUTHORIZED');
    assertError(await app.inject({ ...request, headers: { authorization: TOKEN } }), 401, 'UNAUTHORIZED');
  }
});

test('GET /capabilities lists every business route and declares bearer auth', async (t) => {
  const app = build(t);
  const response = await app.inject({ method: 'GET', url: '/capabilities', headers: AUTH });
  assert.equal(response.statusCode, 200);
  const body = response.json();
  assert.equal(body.service_name, manifest.name);
  assert.equal(body.droplet_id, manifest.dropletId);
  assert.ok(Number.isInteger(body.droplet_id));
  assert.ok(body.capabilities.length > 0 && body.capabilities.every((/** @type {unknown} */ c) => typeof c === 'string'));
  assert.ok(body.supported_operations.length > 0 && body.supported_operations.every((/** @type {unknown} */ o) => typeof o === 'string'));
  const listed = body.integration_endpoints.map((/** @type {{ method: string, path: string }} */ e) => e.method + ' ' + e.path).sort();
  assert.deepEqual(listed, BUSINESS_ROUTES.map((r) => r.method + ' ' + r.path).sort());
  for (const endpoint of body.integration_endpoints) assert.equal(typeof endpoint.description, 'string');
  assert.deepEqual(body.authentication, { type: 'bearer', env: 'API_TOKEN' });
});

test('without API_TOKEN the droplet is open and declares no authentication', async (t) => {
  const app = build(t, { API_TOKEN: '', SERVICE_NAME: 'renamed', DROPLET_ID: '77' });
  const response = await app.inject({ method: 'GET', url: '/capabilities' });
  assert.equal(response.statusCode, 200);
  const body = response.json();
  assert.equal(body.authentication, undefined);
  assert.equal(body.service_name, 'renamed');
  assert.equal(body.droplet_id, 77);
});

test('GET /state reports status, mode and metrics from real requests', async (t) => {
  const app = build(t);
  for (let i = 0; i < 3; i += 1) await app.inject({ method: 'GET', url: '/capabilities', headers: AUTH });
  await app.inject({ method: 'GET', url: '/health' });
  let body = (await app.inject({ method: 'GET', url: '/state', headers: AUTH })).json();
  assert.equal(body.status, 'active');
  assert.equal(body.mode, 'development');
  assert.match(body.last_activity, ISO_TIME);
  assert.equal(body.metrics.requests_per_minute, 3);
  assert.equal(body.metrics.error_rate_percent, 0);
  assert.ok(body.metrics.average_response_time_ms >= 0);
  await app.inject({ method: 'GET', url: UNKNOWN_PATH, headers: AUTH });
  body = (await app.inject({ method: 'GET', url: '/state', headers: AUTH })).json();
  assert.equal(body.metrics.requests_per_minute, 5);
  // A refused request (404) is the client's error, not the droplet's: errors are 5xx only.
  assert.equal(body.metrics.error_rate_percent, 0);
  assert.equal(body.metrics.client_error_rate_percent, 20);
});

test('GET /state counts 5xx answers as errors and 4xx as client errors', () => {
  let now = 1_000_000;
  const metrics = new RequestMetrics(() => now);
  for (const status of [200, 201, 404, 500]) metrics.record(status, 4);
  assert.deepEqual(metrics.snapshot(), { requests_per_minute: 4, average_response_time_ms: 4, error_rate_percent: 25, client_error_rate_percent: 25 });
  now += 61_000;
  assert.equal(metrics.snapshot().requests_per_minute, 0);
});

test('GET /state says production in production', async (t) => {
  const app = build(t, { ENVIRONMENT: 'production' });
  const body = (await app.inject({ method: 'GET', url: '/state', headers: AUTH })).json();
  assert.equal(body.mode, 'production');
});

test('GET /dependencies has the three lists, empty without a registry', async (t) => {
  const app = build(t);
  const response = await app.inject({ method: 'GET', url: '/dependencies', headers: AUTH });
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), { required_services: [], optional_services: [], external_apis: [] });
});

test('GET /dependencies reports an unreachable registry as unavailable', async (t) => {
  const port = await closedPort();
  // Credentials in the URL must not be echoed back.
  const registryUrl = new URL('http://127.0.0.1:' + port);
  registryUrl.username = 'fleet';
  registryUrl.password = 'fake-pw';
  const app = build(t, { REGISTRY_URL: registryUrl.href });
  const body = (await app.inject({ method: 'GET', url: '/dependencies', headers: AUTH })).json();
  assert.equal(body.optional_services.length, 1);
  assert.equal(body.optional_services[0].name, 'registry');
  assert.equal(body.optional_services[0].status, 'unavailable');
  assert.equal(body.optional_services[0].url, 'http://127.0.0.1:' + port);
  assert.ok(!JSON.stringify(body).includes('fake-pw'));
});

test('GET /dependencies reports a reachable registry as available', async (t) => {
  const registry = createServer((request, response) => {
    response.writeHead(request.url === '/health' ? 200 : 404, { 'content-type': 'application/json', connection: 'close' });
    response.end('{"status":"healthy"}');
  });
  await new Promise((resolve) => registry.listen(0, '127.0.0.1', () => resolve(undefined)));
  t.after(() => new Promise((resolve) => { registry.closeAllConnections(); registry.close(resolve); }));
  const { port } = /** @type {import('node:net').AddressInfo} */ (registry.address());
  const app = build(t, { REGISTRY_URL: 'http://127.0.0.1:' + port + '/' });
  const body = (await app.inject({ method: 'GET', url: '/dependencies', headers: AUTH })).json();
  assert.equal(body.optional_services[0].status, 'available');
});

test('POST /message accepts every message type', async (t) => {
  const app = build(t);
  for (const type of ['task_assignment', 'status_update', 'query', 'command', 'event', 'status']) {
    const response = await app.inject({ method: 'POST', url: '/message', headers: AUTH, payload: { ...message, message_type: type } });
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.received, true);
    assert.match(body.message_id, UUID);
    assert.equal(body.status, 'completed');
  }
});

test('POST /message refuses invalid messages with 400', async (t) => {
  const app = build(t);
  const invalid = [
    { ...message, message_type: 'shout' },
    { ...message, payload: 'not an object' },
    { message_type: 'query', payload: {} },
    { ...message, unexpected: true },
  ];
  for (const payload of invalid) {
    assertError(await app.inject({ method: 'POST', url: '/message', headers: AUTH, payload }), 400, 'VALIDATION_FAILED');
  }
  const broken = await app.inject({ method: 'POST', url: '/message', headers: { ...AUTH, 'content-type': 'application/json' }, payload: '{"from_service":' });
  assertError(broken, 400, 'INVALID_INPUT');
});

test('POST /message refuses an oversized body with 413', async (t) => {
  const app = build(t, { BODY_LIMIT_BYTES: '1024' });
  const payload = { ...message, payload: { blob: 'x'.repeat(2048) } };
  assertError(await app.inject({ method: 'POST', url: '/message', headers: AUTH, payload }), 413, 'PAYLOAD_TOO_LARGE');
});

test('an unknown path is a 404 in the UDC error shape', async (t) => {
  const app = build(t);
  const response = await app.inject({ method: 'GET', url: UNKNOWN_PATH + '?x=1', headers: AUTH });
  assertError(response, 404, 'NOT_FOUND');
  assert.equal(response.json().error.details.path, UNKNOWN_PATH);
});
