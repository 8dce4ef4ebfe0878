// @ts-check
// Counters and metrics: points ingested, aggregated by name and time range, listed by
// name, refused when they make no sense, and kept across a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregate } from '../../src/archetypes/metrics.js';
import { AUTH, ISO_TIME, UUID, assertError, build, tempDataDir } from '../support/app.js';

/** @param {import('fastify').FastifyInstance} app @param {Record<string, unknown>} payload */
const ingest = (app, payload) => app.inject({ method: 'POST', url: '/points', headers: AUTH, payload });
/** @param {import('fastify').FastifyInstance} app @param {string} query */
const aggregates = async (app, query) => (await app.inject({ method: 'GET', url: '/aggregates?' + query, headers: AUTH })).json();

test('POST /points keeps a point with an id, at now unless a time is given', async (t) => {
  const app = build(t);
  const response = await ingest(app, { name: 'orders', value: 1 });
  assert.equal(response.statusCode, 201, response.body);
  const point = response.json();
  assert.match(point.id, UUID);
  assert.match(point.at, ISO_TIME);
  assert.deepEqual((await ingest(app, { name: 'orders', value: 2, at: '2030-01-01T10:00:00+02:00' })).json().at, '2030-01-01T08:00:00.000Z');
});

test('aggregates count, sum, min, max and avg of one name, from inclusive to exclusive', async (t) => {
  const app = build(t);
  for (const [name, value, at] of /** @type {[string, number, string][]} */ ([
    ['latency', 10, '2030-01-01T00:00:00Z'], ['latency', 20, '2030-01-01T00:30:00Z'], ['latency', 60, '2030-01-01T01:00:00Z'], ['other', 99, '2030-01-01T00:10:00Z'],
  ])) await ingest(app, { name, value, at });
  const hour = await aggregates(app, 'name=latency&from=2030-01-01T00:00:00Z&to=2030-01-01T01:00:00Z');
  assert.deepEqual(hour, { name: 'latency', from: '2030-01-01T00:00:00Z', to: '2030-01-01T01:00:00Z', count: 2, sum: 30, min: 10, max: 20, avg: 15 });
  assert.deepEqual(await aggregates(app, 'name=latency&from=2030-01-01T01:00:00Z'), { name: 'latency', from: '2030-01-01T01:00:00Z', to: null, count: 1, sum: 60, min: 60, max: 60, avg: 60 });
  assert.equal((await aggregates(app, 'name=latency')).count, 3);
  assert.deepEqual(await aggregates(app, 'name=none'), { name: 'none', from: null, to: null, count: 0, sum: 0, min: null, max: null, avg: null });
  const series = (await app.inject({ method: 'GET', url: '/series', headers: AUTH })).json();
  assert.deepEqual(series.items.map((/** @type {{ name: string, count: number }} */ item) => [item.name, item.count]), [['latency', 3], ['other', 1]]);
  assert.equal(series.items[0].last_at, '2030-01-01T01:00:00.000Z');
});

test('bad points, ranges and names are 400; strangers are 401', async (t) => {
  const app = build(t);
  for (const payload of [{ name: 'x' }, { value: 1 }, { name: 'x', value: '1' }, { name: 'has space', value: 1 }, { name: 'x', value: 1, at: 'yesterday' }, { name: 'x', value: 1, unit: 'ms' }]) {
    assertError(await ingest(app, payload), 400, 'VALIDATION_FAILED');
  }
  for (const query of ['', 'name=x&from=soon', 'name=x&from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z', 'name=x&step=1']) {
    assertError(await app.inject({ method: 'GET', url: '/aggregates?' + query, headers: AUTH }), 400, 'VALIDATION_FAILED');
  }
  assertError(await app.inject({ method: 'POST', url: '/points', payload: { name: 'x', value: 1 } }), 401, 'UNAUTHORIZED');
  assertError(await app.inject({ method: 'GET', url: '/aggregates?name=x' }), 401, 'UNAUTHORIZED');
});

test('points survive a restart over the same DATA_DIR', async (t) => {
  const dataDir = tempDataDir(t);
  const first = build(t, { DATA_DIR: dataDir });
  await ingest(first, { name: 'kept', value: 5 });
  await ingest(first, { name: 'kept', value: 7 });
  await first.close();
  const second = build(t, { DATA_DIR: dataDir });
  assert.equal((await aggregates(second, 'name=kept')).sum, 12);
});

test('aggregate() of no values has no min, max or avg', () => {
  assert.deepEqual(aggregate([]), { count: 0, sum: 0, min: null, max: null, avg: null });
  assert.deepEqual(aggregate([3, -1, 4]), { count: 3, sum: 6, min: -1, max: 4, avg: 2 });
});
