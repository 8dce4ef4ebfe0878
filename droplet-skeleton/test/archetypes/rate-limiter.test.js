// @ts-check
// The rate limiter: token buckets per key, 429 with Retry-After, limits from plan.json,
// the environment and per key, and buckets that survive a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { loadConfig } from '../../src/config.js';
import { StartupError, toErrorResponse } from '../../src/errors.js';
import { loadPlan } from '../../src/plan.js';
import { register, retryAfterSeconds, tokensAt } from '../../src/archetypes/rate-limiter.js';
import { AUTH, assertError, build, tempDataDir } from '../support/app.js';

const planned = /** @type {import('../../src/plan.js').PlannedArchetype} */ (loadPlan().archetype).settings;

/** @param {import('fastify').FastifyInstance} app @param {string} key @param {number} [cost] */
const check = (app, key, cost) => app.inject({ method: 'POST', url: '/checks', headers: AUTH, payload: cost === undefined ? { key } : { key, cost } });
/** @param {import('fastify').FastifyInstance} app @param {string} key @param {Record<string, unknown>} payload */
const setLimit = (app, key, payload) => app.inject({ method: 'PUT', url: '/limits/' + key, headers: AUTH, payload });

test('a key is allowed until its bucket is empty, then refused with 429, Retry-After and nothing taken', async (t) => {
  const app = build(t);
  assert.equal((await setLimit(app, 'payments-api', { capacity: 2, refill_per_second: 0.001 })).statusCode, 200);
  const first = await check(app, 'payments-api');
  assert.equal(first.statusCode, 200, first.body);
  assert.deepEqual(first.json(), { allowed: true, key: 'payments-api', limit: 2, remaining: 1, retry_after_seconds: 0 });
  assert.equal((await check(app, 'payments-api')).json().remaining, 0);
  const refused = await check(app, 'payments-api');
  const error = assertError(refused, 429, 'RATE_LIMITED');
  assert.deepEqual(Object.keys(error.details).sort(), ['key', 'limit', 'remaining', 'retry_after_seconds']);
  assert.equal(error.details.remaining, 0);
  // One token at 0.001 per second: about 1000 s away.
  assert.ok(error.details.retry_after_seconds > 990 && error.details.retry_after_seconds <= 1000, String(error.details.retry_after_seconds));
  assert.equal(refused.headers['retry-after'], String(error.details.retry_after_seconds));
  const state = (await app.inject({ method: 'GET', url: '/limits/payments-api', headers: AUTH })).json();
  assert.ok(state.tokens < 1, 'a refused check takes nothing, and nothing came back');
});

test('keys have their own buckets; keys without a limit of their own get plan.json\'s default', async (t) => {
  const app = build(t);
  await setLimit(app, 'tight', { capacity: 1, refill_per_second: 0.001 });
  assert.equal((await check(app, 'tight')).statusCode, 200);
  assertError(await check(app, 'tight'), 429, 'RATE_LIMITED');
  const other = await check(app, 'other');
  assert.equal(other.statusCode, 200);
  assert.equal(other.json().limit, planned.capacity);
  assert.equal(other.json().remaining, Number(planned.capacity) - 1);
  const limit = (await app.inject({ method: 'GET', url: '/limits/never-seen', headers: AUTH })).json();
  assert.deepEqual(limit, { key: 'never-seen', capacity: planned.capacity, refill_per_second: planned.refill_per_second, tokens: planned.capacity, source: 'default' });
});

test('the environment overrides the default limit; a bad value stops the boot', async (t) => {
  const app = build(t, { RATE_LIMIT_CAPACITY: '3', RATE_LIMIT_REFILL_PER_SECOND: '0.5' });
  const limit = (await app.inject({ method: 'GET', url: '/limits/any', headers: AUTH })).json();
  assert.equal(limit.capacity, 3);
  assert.equal(limit.refill_per_second, 0.5);
  for (const env of [{ RATE_LIMIT_CAPACITY: '0' }, { RATE_LIMIT_CAPACITY: '2.5' }, { RATE_LIMIT_REFILL_PER_SECOND: 'fast' }, { RATE_LIMIT_REFILL_PER_SECOND: '0' }]) {
    assert.throws(() => loadConfig({ LOG_LEVEL: 'silent', ...env }), (error) => error instanceof StartupError && error.message.includes(Object.keys(env)[0] ?? ''), JSON.stringify(env));
  }
});

test('a cost above the capacity is 422; bad keys, costs and limits are 400', async (t) => {
  const app = build(t);
  await setLimit(app, 'small', { capacity: 2, refill_per_second: 1 });
  assertError(await check(app, 'small', 3), 422, 'COST_ABOVE_CAPACITY');
  for (const payload of [{}, { key: '' }, { key: 'has space' }, { key: 'k', cost: 0 }, { key: 'k', cost: 1.5 }, { key: 'k', extra: 1 }]) {
    assertError(await app.inject({ method: 'POST', url: '/checks', headers: AUTH, payload }), 400, 'VALIDATION_FAILED');
  }
  for (const payload of [{ capacity: 0, refill_per_second: 1 }, { capacity: 1, refill_per_second: 0 }, { capacity: 1 }]) {
    assertError(await setLimit(app, 'small', payload), 400, 'VALIDATION_FAILED');
  }
});

test("removing a key's own limit brings the default back; removing it twice is 404", async (t) => {
  const app = build(t);
  assert.equal((await setLimit(app, 'k', { capacity: 5, refill_per_second: 1 })).json().source, 'key');
  assert.equal((await app.inject({ method: 'DELETE', url: '/limits/k', headers: AUTH })).statusCode, 204);
  assert.equal((await app.inject({ method: 'GET', url: '/limits/k', headers: AUTH })).json().source, 'default');
  assertError(await app.inject({ method: 'DELETE', url: '/limits/k', headers: AUTH }), 404, 'NOT_FOUND');
});

test('limits and spent buckets survive a restart over the same DATA_DIR', async (t) => {
  const dataDir = tempDataDir(t);
  const first = build(t, { DATA_DIR: dataDir });
  await setLimit(first, 'kept', { capacity: 1, refill_per_second: 0.001 });
  assert.equal((await check(first, 'kept')).statusCode, 200);
  await first.close();
  const second = build(t, { DATA_DIR: dataDir });
  assertError(await check(second, 'kept'), 429, 'RATE_LIMITED');
  assert.equal((await second.inject({ method: 'GET', url: '/limits/kept', headers: AUTH })).json().source, 'key');
});

test('buckets refill with time up to full, and Retry-After is the whole seconds until the cost fits', async (t) => {
  let now = 1_000_000;
  const app = Fastify();
  app.setErrorHandler((error, _request, reply) => {
    const [status, body] = toErrorResponse(error);
    return reply.code(status).send(body);
  });
  register(app, { settings: { capacity: 4, refill_per_second: 2, max_keys: 2 }, dataDir: tempDataDir(t), now: () => now });
  t.after(() => app.close());
  const take = (/** @type {string} */ key, /** @type {number} */ cost) => app.inject({ method: 'POST', url: '/checks', payload: { key, cost } });
  assert.equal((await take('a', 4)).json().remaining, 0);
  now += 1500; // 3 tokens back
  const refused = await take('a', 4);
  assert.equal(refused.statusCode, 429);
  assert.equal(refused.headers['retry-after'], '1');
  now += 10_000; // full again, not more
  assert.deepEqual((await take('a', 4)).json(), { allowed: true, key: 'a', limit: 4, remaining: 0, retry_after_seconds: 0 });
  assert.equal((await take('b', 1)).statusCode, 200);
  assertError(await take('c', 1), 409, 'CAPACITY_REACHED');
  const limit = { capacity: 10, refill_per_second: 0.5 };
  assert.equal(tokensAt(undefined, limit, 0), 10);
  assert.equal(tokensAt({ id: 'x', tokens: 1, at: 0 }, limit, 4000), 3);
  assert.equal(tokensAt({ id: 'x', tokens: 9, at: 0 }, limit, 60_000), 10);
  assert.equal(retryAfterSeconds(0.2, 1, limit), 2);
  assert.equal(retryAfterSeconds(0.999999, 1, limit), 1);
});
