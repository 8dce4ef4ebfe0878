// @ts-check
// The scheduler: jobs scheduled at run_at, listed as due when their time comes, moved
// only forward through their states, and kept across a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NEXT_STATES, STATES } from '../../src/archetypes/scheduler.js';
import { AUTH, UUID, assertError, build, tempDataDir } from '../support/app.js';

const PAST = '2000-01-01T00:00:00.000Z';
const FUTURE = '2999-01-01T00:00:00.000Z';

/** @param {import('fastify').FastifyInstance} app @param {Record<string, unknown>} payload */
const schedule = async (app, payload) => (await app.inject({ method: 'POST', url: '/jobs', headers: AUTH, payload })).json();
/** @param {import('fastify').FastifyInstance} app @param {string} id @param {string} state */
const move = (app, id, state) => app.inject({ method: 'PATCH', url: '/jobs/' + id, headers: AUTH, payload: { state } });
/** @param {import('fastify').FastifyInstance} app @param {string} url */
const get = async (app, url) => (await app.inject({ method: 'GET', url, headers: AUTH })).json();

test('POST /jobs schedules a job; GET /jobs/due lists the scheduled ones whose time has come, earliest first', async (t) => {
  const app = build(t);
  const later = await schedule(app, { name: 'later', run_at: FUTURE });
  const second = await schedule(app, { name: 'second', run_at: '2001-01-01T00:00:00Z', payload: { n: 2 } });
  const first = await schedule(app, { name: 'first', run_at: PAST });
  assert.match(first.id, UUID);
  assert.deepEqual({ state: first.state, payload: first.payload, run_at: first.run_at }, { state: 'scheduled', payload: {}, run_at: PAST });
  assert.deepEqual((await get(app, '/jobs/due')).items.map((/** @type {{ name: string }} */ job) => job.name), ['first', 'second']);
  assert.equal((await move(app, first.id, 'running')).statusCode, 200);
  assert.deepEqual((await get(app, '/jobs/due')).items.map((/** @type {{ id: string }} */ job) => job.id), [second.id]);
  assert.equal((await get(app, '/jobs/due?at=' + FUTURE)).total, 2);
  assert.equal((await get(app, '/jobs?state=running')).items[0].id, first.id);
  assert.equal((await get(app, '/jobs/' + later.id)).state, 'scheduled');
});

test('states move only forward; a final state is final', async (t) => {
  const app = build(t);
  assert.deepEqual(STATES, ['scheduled', 'running', 'done', 'failed', 'cancelled']);
  for (const [from, allowed] of Object.entries(NEXT_STATES)) {
    for (const to of STATES) {
      const job = await schedule(app, { name: from + '-' + to, run_at: PAST });
      if (from === 'running' || ['done', 'failed'].includes(from)) await move(app, job.id, 'running');
      if (['done', 'failed', 'cancelled'].includes(from)) await move(app, job.id, from);
      const response = await move(app, job.id, to);
      if (allowed.includes(to)) assert.equal(response.statusCode, 200, from + ' → ' + to);
      else assert.deepEqual(assertError(response, 409, 'INVALID_TRANSITION').details, { from, to, allowed }, from + ' → ' + to);
    }
  }
});

test('bad jobs and states are 400, unknown ids 404, strangers 401', async (t) => {
  const app = build(t);
  for (const payload of [{ name: 'x' }, { run_at: PAST }, { name: 'x', run_at: 'tomorrow' }, { name: '', run_at: PAST }, { name: 'x', run_at: PAST, payload: [] }]) {
    assertError(await app.inject({ method: 'POST', url: '/jobs', headers: AUTH, payload }), 400, 'VALIDATION_FAILED');
  }
  const job = await schedule(app, { name: 'x', run_at: PAST });
  assertError(await move(app, job.id, 'paused'), 400, 'VALIDATION_FAILED');
  assertError(await move(app, 'no-such-job', 'running'), 404, 'NOT_FOUND');
  assertError(await app.inject({ method: 'GET', url: '/jobs/due?at=soon', headers: AUTH }), 400, 'VALIDATION_FAILED');
  assertError(await app.inject({ method: 'GET', url: '/jobs/due' }), 401, 'UNAUTHORIZED');
});

test('jobs and their states survive a restart over the same DATA_DIR', async (t) => {
  const dataDir = tempDataDir(t);
  const first = build(t, { DATA_DIR: dataDir });
  const job = await schedule(first, { name: 'kept', run_at: PAST });
  await move(first, job.id, 'running');
  await first.close();
  const second = build(t, { DATA_DIR: dataDir });
  assert.equal((await get(second, '/jobs/' + job.id)).state, 'running');
});
