// @ts-check
// The service registry: instances register, renew with heartbeats, are looked up by name,
// expire once silent longer than their TTL (on an injected clock), and survive a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { toErrorResponse } from '../../src/errors.js';
import { register, settingsFrom } from '../../src/archetypes/service-registry.js';
import { AUTH, ISO_TIME, UUID, assertError, build, tempDataDir } from '../support/app.js';

const URL_A = 'http://10.0.0.7:3000';
const URL_B = 'http://10.0.0.8:3000';

/** @param {import('fastify').FastifyInstance} app @param {Record<string, unknown>} payload @param {Record<string, string>} [headers] */
const enrol = (app, payload, headers = AUTH) => app.inject({ method: 'POST', url: '/services', headers, payload });
/** @param {import('fastify').FastifyInstance} app @param {string} url @param {Record<string, string>} [headers] */
const get = (app, url, headers = AUTH) => app.inject({ method: 'GET', url, headers });

/** The registry alone on a bare app whose clock the test moves. @param {import('node:test').TestContext} t @param {{ now: number }} clock */
function onClock(t, clock, settings = { ttl_seconds: 10, max_services: 3 }) {
  const app = Fastify();
  app.setErrorHandler((error, _request, reply) => {
    const [status, body] = toErrorResponse(error);
    return reply.code(status).send(body);
  });
  register(app, { settings, dataDir: tempDataDir(t), now: () => clock.now });
  t.after(() => app.close());
  return app;
}

test('a registered instance is looked up by name; the same name and url again renews it, another url is a second instance', async (t) => {
  const app = build(t);
  const first = await enrol(app, { name: 'payments', url: URL_A, metadata: { version: '1.0.0' } });
  assert.equal(first.statusCode, 201);
  const service = first.json();
  assert.match(service.id, UUID);
  assert.match(service.expires_at, ISO_TIME);
  assert.deepEqual({ ...service, id: undefined, registered_at: undefined, last_heartbeat_at: undefined, expires_at: undefined }, { id: undefined, name: 'payments', url: URL_A, metadata: { version: '1.0.0' }, ttl_seconds: 30, registered_at: undefined, last_heartbeat_at: undefined, expires_at: undefined });
  const again = await enrol(app, { name: 'payments', url: URL_A, metadata: { version: '1.0.1' }, ttl_seconds: 60 });
  assert.equal(again.statusCode, 200);
  assert.deepEqual([again.json().id, again.json().metadata, again.json().ttl_seconds], [service.id, { version: '1.0.1' }, 60]);
  assert.equal((await enrol(app, { name: 'payments', url: URL_B })).statusCode, 201);
  await enrol(app, { name: 'search', url: URL_A });
  const lookup = (await get(app, '/lookup/payments')).json();
  assert.deepEqual(lookup.instances.map((/** @type {{ url: string }} */ instance) => instance.url), [URL_A, URL_B]);
  assert.equal((await get(app, '/services?name=payments&limit=1')).json().total, 2);
  assert.equal((await get(app, '/services?limit=1&offset=2')).json().items[0].name, 'search');
  assertError(await get(app, '/lookup/nothing'), 404, 'NOT_FOUND');
});

test('a registration silent longer than its TTL expires: lookups, listings and heartbeats no longer see it', async (t) => {
  const clock = { now: Date.parse('2030-01-01T00:00:00Z') };
  const app = onClock(t, clock);
  const kept = (await enrol(app, { name: 'payments', url: URL_A }, {})).json();
  const short = (await enrol(app, { name: 'payments', url: URL_B, ttl_seconds: 2 }, {})).json();
  assert.equal(kept.expires_at, '2030-01-01T00:00:10.000Z');
  clock.now += 3000;
  assert.deepEqual((await get(app, '/lookup/payments', {})).json().instances.map((/** @type {{ id: string }} */ s) => s.id), [kept.id]);
  assertError(await app.inject({ method: 'POST', url: '/services/' + short.id + '/heartbeat' }), 404, 'NOT_FOUND');
  assertError(await get(app, '/services/' + short.id, {}), 404, 'NOT_FOUND');
  clock.now += 6000; // 9 s after registering: the heartbeat renews for another 10 s
  const beat = (await app.inject({ method: 'POST', url: '/services/' + kept.id + '/heartbeat' })).json();
  assert.deepEqual([beat.last_heartbeat_at, beat.expires_at], ['2030-01-01T00:00:09.000Z', '2030-01-01T00:00:19.000Z']);
  clock.now += 9999;
  assert.equal((await get(app, '/services/' + kept.id, {})).statusCode, 200);
  clock.now += 1;
  assertError(await get(app, '/lookup/payments', {}), 404, 'NOT_FOUND');
  assert.equal((await get(app, '/services', {})).json().total, 0);
  // Expired registrations make room: the registry holds 3 at most.
  for (const url of ['http://a.example', 'http://b.example', 'http://c.example']) assert.equal((await enrol(app, { name: 'x', url }, {})).statusCode, 201);
  assertError(await enrol(app, { name: 'x', url: 'http://d.example' }, {}), 409, 'CAPACITY_REACHED');
});

test('deregistering removes an instance at once; unknown ids are 404', async (t) => {
  const app = build(t);
  const service = (await enrol(app, { name: 'payments', url: URL_A })).json();
  assert.equal((await app.inject({ method: 'DELETE', url: '/services/' + service.id, headers: AUTH })).statusCode, 204);
  assertError(await get(app, '/lookup/payments'), 404, 'NOT_FOUND');
  assertError(await app.inject({ method: 'DELETE', url: '/services/' + service.id, headers: AUTH }), 404, 'NOT_FOUND');
});

test('names, urls, metadata and TTLs are validated; strangers get 401', async (t) => {
  const app = build(t);
  for (const payload of [
    { name: 'x', url: 'ftp://example.org' },
    { name: 'x', url: 'javascript:alert(1)' },
    { name: 'x', url: 'http://user:secret@example.org' },
    { name: 'x', url: '/relative' },
    { name: 'has space', url: URL_A },
    { url: URL_A },
    { name: 'x', url: URL_A, ttl_seconds: 0 },
    { name: 'x', url: URL_A, metadata: { version: 1 } },
    { name: 'x', url: URL_A, extra: true },
  ]) {
    assertError(await enrol(app, payload), 400, 'VALIDATION_FAILED');
  }
  assertError(await enrol(app, { name: 'x', url: URL_A }, {}), 401, 'UNAUTHORIZED');
  assertError(await get(app, '/lookup/x', {}), 401, 'UNAUTHORIZED');
});

test('the default TTL comes from plan.json, and REGISTRY_TTL_SECONDS overrides it', () => {
  const planned = { ttl_seconds: 30, max_services: 10 };
  assert.equal(settingsFrom(planned, {}).ttl_seconds, 30);
  assert.equal(settingsFrom(planned, { REGISTRY_TTL_SECONDS: '5' }).ttl_seconds, 5);
  assert.throws(() => settingsFrom(planned, { REGISTRY_TTL_SECONDS: '0' }), /REGISTRY_TTL_SECONDS/);
  assert.throws(() => settingsFrom(planned, { REGISTRY_TTL_SECONDS: 'soon' }), /REGISTRY_TTL_SECONDS/);
});

test('registrations survive a restart over the same DATA_DIR', async (t) => {
  const dataDir = tempDataDir(t);
  const first = build(t, { DATA_DIR: dataDir });
  const service = (await enrol(first, { name: 'kept', url: URL_A, metadata: { zone: 'eu' } })).json();
  await first.close();
  const second = build(t, { DATA_DIR: dataDir });
  assert.deepEqual((await get(second, '/lookup/kept')).json().instances, [service]);
});
