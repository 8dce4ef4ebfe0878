/** A generated test file per resource: every route, its failures and its auth. */
import type { FieldPlan } from '../fields.js';
import type { ResourcePlan } from '../plan.js';
import { sample } from '../samples.js';

/** A value of the wrong JSON type for the field. */
function wrongValue(field: FieldPlan): string | number {
  return field.type === 'string' ? 12345 : 'not-a-valid-value';
}

const BODY = String.raw`
async function build(t, env = {}) {
  const app = buildApp(loadConfig({ LOG_LEVEL: 'silent', API_TOKEN: TOKEN, ...env }));
  t.after(() => app.close());
  return app;
}

function assertError(response, status, code) {
  assert.equal(response.statusCode, status);
  const body = response.json();
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
  assert.equal(typeof body.error.details, 'object');
}

async function create(app, payload = VALID) {
  const response = await app.inject({ method: 'POST', url: BASE, headers: AUTH, payload });
  assert.equal(response.statusCode, 201);
  return response.json();
}

function assertFields(record, expected) {
  for (const [key, value] of Object.entries(expected)) assert.deepEqual(record[key], value, key);
}

test('POST creates a record with an id and timestamps', async (t) => {
  const app = await build(t);
  const record = await create(app);
  assert.match(record.id, UUID);
  assertFields(record, VALID);
  assert.match(record.created_at, ISO_TIME);
  assert.equal(record.updated_at, record.created_at);
});

test('GET lists the records', async (t) => {
  const app = await build(t);
  let body = (await app.inject({ method: 'GET', url: BASE, headers: AUTH })).json();
  assert.deepEqual(body, { items: [], total: 0 });
  const first = await create(app);
  const second = await create(app, CHANGED);
  body = (await app.inject({ method: 'GET', url: BASE, headers: AUTH })).json();
  assert.equal(body.total, 2);
  assert.deepEqual(body.items.map((item) => item.id), [first.id, second.id]);
});

test('GET by id returns the record; an unknown id is 404', async (t) => {
  const app = await build(t);
  const record = await create(app);
  const response = await app.inject({ method: 'GET', url: BASE + '/' + record.id, headers: AUTH });
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), record);
  assertError(await app.inject({ method: 'GET', url: BASE + '/unknown-id', headers: AUTH }), 404, 'NOT_FOUND');
});

test('PUT replaces the record; unknown id is 404; incomplete body is 400', async (t) => {
  const app = await build(t);
  const record = await create(app);
  const response = await app.inject({ method: 'PUT', url: BASE + '/' + record.id, headers: AUTH, payload: CHANGED });
  assert.equal(response.statusCode, 200);
  const replaced = response.json();
  assert.equal(replaced.id, record.id);
  assert.equal(replaced.created_at, record.created_at);
  assertFields(replaced, CHANGED);
  assertError(await app.inject({ method: 'PUT', url: BASE + '/unknown-id', headers: AUTH, payload: CHANGED }), 404, 'NOT_FOUND');
  const incomplete = { ...CHANGED };
  delete incomplete[REQUIRED_FIELD];
  assertError(await app.inject({ method: 'PUT', url: BASE + '/' + record.id, headers: AUTH, payload: incomplete }), 400, 'VALIDATION_FAILED');
});

test('PATCH changes one field and keeps the others; empty body is 400; unknown id is 404', async (t) => {
  const app = await build(t);
  const record = await create(app);
  const change = { [REQUIRED_FIELD]: CHANGED[REQUIRED_FIELD] };
  const response = await app.inject({ method: 'PATCH', url: BASE + '/' + record.id, headers: AUTH, payload: change });
  assert.equal(response.statusCode, 200);
  assertFields(response.json(), { ...VALID, ...change });
  const stored = (await app.inject({ method: 'GET', url: BASE + '/' + record.id, headers: AUTH })).json();
  assertFields(stored, { ...VALID, ...change });
  assertError(await app.inject({ method: 'PATCH', url: BASE + '/' + record.id, headers: AUTH, payload: {} }), 400, 'VALIDATION_FAILED');
  assertError(await app.inject({ method: 'PATCH', url: BASE + '/unknown-id', headers: AUTH, payload: change }), 404, 'NOT_FOUND');
});

test('DELETE removes the record; deleting again is 404', async (t) => {
  const app = await build(t);
  const record = await create(app);
  const response = await app.inject({ method: 'DELETE', url: BASE + '/' + record.id, headers: AUTH });
  assert.equal(response.statusCode, 204);
  assert.equal(response.body, '');
  assertError(await app.inject({ method: 'GET', url: BASE + '/' + record.id, headers: AUTH }), 404, 'NOT_FOUND');
  assertError(await app.inject({ method: 'DELETE', url: BASE + '/' + record.id, headers: AUTH }), 404, 'NOT_FOUND');
});

test('POST refuses a missing field, a wrong type and an unknown field with 400', async (t) => {
  const app = await build(t);
  const missing = { ...VALID };
  delete missing[REQUIRED_FIELD];
  const invalid = [missing, { ...VALID, [REQUIRED_FIELD]: WRONG_VALUE }, { ...VALID, unexpected_field: true }, []];
  for (const payload of invalid) {
    const response = await app.inject({ method: 'POST', url: BASE, headers: AUTH, payload });
    assertError(response, 400, 'VALIDATION_FAILED');
    assert.ok(response.json().error.details.issues.length > 0);
  }
  assert.equal((await app.inject({ method: 'GET', url: BASE, headers: AUTH })).json().total, 0);
});

test('POST refuses an oversized body with 413', async (t) => {
  const app = await build(t, { BODY_LIMIT_BYTES: '1024' });
  const payload = { ...VALID, padding: 'x'.repeat(2048) };
  assertError(await app.inject({ method: 'POST', url: BASE, headers: AUTH, payload }), 413, 'PAYLOAD_TOO_LARGE');
});

test('every route refuses a request without the token', async (t) => {
  const app = await build(t);
  const record = await create(app);
  const routes = [
    { method: 'GET', url: BASE },
    { method: 'POST', url: BASE, payload: VALID },
    { method: 'GET', url: BASE + '/' + record.id },
    { method: 'PUT', url: BASE + '/' + record.id, payload: CHANGED },
    { method: 'PATCH', url: BASE + '/' + record.id, payload: CHANGED },
    { method: 'DELETE', url: BASE + '/' + record.id },
  ];
  for (const route of routes) assertError(await app.inject(route), 401, 'UNAUTHORIZED');
  const stored = (await app.inject({ method: 'GET', url: BASE + '/' + record.id, headers: AUTH })).json();
  assert.deepEqual(stored, record);
});
`;

export function resourceTestJs(resource: ResourcePlan): string {
  const required = resource.fields.find((field) => field.required) ?? resource.fields[0];
  if (!required) throw new Error(`Resource ${resource.plural} has no fields.`);
  return [
    `// Tests of /${resource.plural}: every route, its failures, and its authentication.`,
    "import { test } from 'node:test';",
    "import assert from 'node:assert/strict';",
    "import { buildApp } from '../../src/app.js';",
    "import { loadConfig } from '../../src/config.js';",
    '',
    "const TOKEN = 'test-token';",
    "const AUTH = { authorization: 'Bearer ' + TOKEN };",
    String.raw`const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;`,
    'const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;',
    `const BASE = ${JSON.stringify(`/${resource.plural}`)};`,
    `const VALID = ${JSON.stringify(sample(resource, 0))};`,
    `const CHANGED = ${JSON.stringify(sample(resource, 1))};`,
    `const REQUIRED_FIELD = ${JSON.stringify(required.name)};`,
    `const WRONG_VALUE = ${JSON.stringify(wrongValue(required))};`,
  ].join('\n') + '\n' + BODY;
}
