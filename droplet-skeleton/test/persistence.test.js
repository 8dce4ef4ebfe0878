// @ts-check
// Records are kept in DATA_DIR: they survive a restart, and the files are never left torn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { StartupError } from '../src/errors.js';
import { loadPlan } from '../src/plan.js';
import { AUTH, TOKEN, build, tempDataDir } from './support/app.js';
import { createRecord, validBody } from './support/samples.js';

const { resources } = loadPlan();
const resource = /** @type {import('../src/plan.js').Resource} */ (resources[0]);
const base = '/' + resource.plural;

test('records survive a restart over the same DATA_DIR, changes and deletions included', async (t) => {
  const dataDir = tempDataDir(t);
  const first = build(t, { DATA_DIR: dataDir });
  const kept = await createRecord(first, resource);
  const changed = await createRecord(first, resource);
  const gone = await createRecord(first, resource);
  const change = await validBody(first, resource, 1);
  const replaced = (await first.inject({ method: 'PUT', url: base + '/' + changed.id, headers: AUTH, payload: change })).json();
  assert.equal((await first.inject({ method: 'DELETE', url: base + '/' + gone.id, headers: AUTH })).statusCode, 204);
  const before = (await first.inject({ method: 'GET', url: base, headers: AUTH })).json();
  await first.close();

  const second = build(t, { DATA_DIR: dataDir });
  const after = (await second.inject({ method: 'GET', url: base, headers: AUTH })).json();
  assert.deepEqual(after, before);
  assert.deepEqual(after.items, [kept, replaced]);
  const state = (await second.inject({ method: 'GET', url: '/state', headers: AUTH })).json();
  assert.ok(state.metrics.records_stored >= 2);
});

test('each resource is one JSON file in DATA_DIR, replaced whole: no temporary file is left', async (t) => {
  const dataDir = tempDataDir(t);
  const app = build(t, { DATA_DIR: dataDir });
  const records = await Promise.all([createRecord(app, resource), createRecord(app, resource), createRecord(app, resource)]);
  const file = JSON.parse(readFileSync(join(dataDir, resource.plural + '.json'), 'utf8'));
  assert.equal(file.resource, resource.plural);
  assert.deepEqual(new Set(file.records.map((/** @type {{ id: string }} */ record) => record.id)), new Set(records.map((record) => record.id)));
  assert.deepEqual(readdirSync(dataDir).filter((name) => name.endsWith('.tmp')), []);
});

test('a data file that is not JSON stops the boot instead of being overwritten', (t) => {
  const dataDir = tempDataDir(t);
  const path = join(dataDir, resource.plural + '.json');
  writeFileSync(path, '{"records": [');
  assert.throws(
    () => buildApp(loadConfig({ LOG_LEVEL: 'silent', API_TOKEN: TOKEN, DATA_DIR: dataDir })),
    (error) => error instanceof StartupError && error.message.includes(path),
  );
  assert.equal(readFileSync(path, 'utf8'), '{"records": [');
});
