// @ts-check
// Every resource of plan.json: every route, its failures, and its authentication.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPlan } from '../src/plan.js';
import { AUTH, ISO_TIME, UUID, assertError, build } from './support/app.js';
import { createRecord, validBody } from './support/samples.js';

/**
 * A value of the wrong JSON type for a field of `type`.
 * @param {string} type
 */
function wrongValue(type) {
  return ['string', 'url', 'email', 'datetime', 'date', 'reference'].includes(type) ? 12345 : 'not-a-valid-value';
}

/**
 * @param {Record<string, unknown>} record
 * @param {Record<string, unknown>} expected
 */
function assertFields(record, expected) {
  for (const [key, value] of Object.entries(expected)) assert.deepEqual(record[key], value, key);
}

for (const resource of loadPlan().resources) {
  const base = '/' + resource.plural;
  const requiredField = resource.fields.find((field) => field.required) ?? resource.fields[0];
  assert.ok(requiredField);
  const field = requiredField.name;

  describe(base, () => {
    test('POST creates a record with an id and timestamps', async (t) => {
      const app = build(t);
      const body = await validBody(app, resource, 0);
      const response = await app.inject({ method: 'POST', url: base, headers: AUTH, payload: body });
      assert.equal(response.statusCode, 201, response.body);
      const record = response.json();
      assert.match(record.id, UUID);
      assertFields(record, body);
      assert.match(record.created_at, ISO_TIME);
      assert.equal(record.updated_at, record.created_at);
    });

    test('GET by id returns the record; an unknown id is 404', async (t) => {
      const app = build(t);
      const record = await createRecord(app, resource);
      const response = await app.inject({ method: 'GET', url: base + '/' + record.id, headers: AUTH });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), record);
      assertError(await app.inject({ method: 'GET', url: base + '/unknown-id', headers: AUTH }), 404, 'NOT_FOUND');
    });

    test('PUT replaces the record; unknown id is 404; incomplete body is 400', async (t) => {
      const app = build(t);
      const record = await createRecord(app, resource);
      const changed = await validBody(app, resource, 1);
      const response = await app.inject({ method: 'PUT', url: base + '/' + record.id, headers: AUTH, payload: changed });
      assert.equal(response.statusCode, 200, response.body);
      const replaced = response.json();
      assert.equal(replaced.id, record.id);
      assert.equal(replaced.created_at, record.created_at);
      assertFields(replaced, changed);
      assertError(await app.inject({ method: 'PUT', url: base + '/unknown-id', headers: AUTH, payload: changed }), 404, 'NOT_FOUND');
      const incomplete = { ...changed };
      delete incomplete[field];
      if (requiredField.required) {
        assertError(await app.inject({ method: 'PUT', url: base + '/' + record.id, headers: AUTH, payload: incomplete }), 400, 'VALIDATION_FAILED');
      }
    });

    test('PATCH changes one field and keeps the others; empty body is 400; unknown id is 404', async (t) => {
      const app = build(t);
      const record = await createRecord(app, resource);
      const change = { [field]: (await validBody(app, resource, 1))[field] };
      const response = await app.inject({ method: 'PATCH', url: base + '/' + record.id, headers: AUTH, payload: change });
      assert.equal(response.statusCode, 200, response.body);
      const expected = { ...record, ...change, updated_at: response.json().updated_at };
      assert.deepEqual(response.json(), expected);
      assert.deepEqual((await app.inject({ method: 'GET', url: base + '/' + record.id, headers: AUTH })).json(), expected);
      assertError(await app.inject({ method: 'PATCH', url: base + '/' + record.id, headers: AUTH, payload: {} }), 400, 'VALIDATION_FAILED');
      assertError(await app.inject({ method: 'PATCH', url: base + '/unknown-id', headers: AUTH, payload: change }), 404, 'NOT_FOUND');
    });

    test('DELETE removes the record; deleting again is 404', async (t) => {
      const app = build(t);
      const record = await createRecord(app, resource);
      const response = await app.inject({ method: 'DELETE', url: base + '/' + record.id, headers: AUTH });
      assert.equal(response.statusCode, 204);
      assert.equal(response.body, '');
      assertError(await app.inject({ method: 'GET', url: base + '/' + record.id, headers: AUTH }), 404, 'NOT_FOUND');
      assertError(await app.inject({ method: 'DELETE', url: base + '/' + record.id, headers: AUTH }), 404, 'NOT_FOUND');
    });

    test('POST refuses a missing field, a wrong type and an unknown field with 400', async (t) => {
      const app = build(t);
      const valid = await validBody(app, resource, 0);
      const missing = { ...valid };
      delete missing[field];
      const invalid = [{ ...valid, [field]: wrongValue(requiredField.type) }, { ...valid, unexpected_field: true }, []];
      if (requiredField.required) invalid.push(missing);
      for (const payload of invalid) {
        const error = assertError(await app.inject({ method: 'POST', url: base, headers: AUTH, payload }), 400, 'VALIDATION_FAILED');
        assert.ok(error.details.issues.length > 0);
      }
      assert.equal((await app.inject({ method: 'GET', url: base, headers: AUTH })).json().total, 0);
    });

    test('POST refuses an oversized body with 413', async (t) => {
      const app = build(t, { BODY_LIMIT_BYTES: '1024' });
      const payload = { ...(await validBody(app, resource, 0)), padding: 'x'.repeat(2048) };
      assertError(await app.inject({ method: 'POST', url: base, headers: AUTH, payload }), 413, 'PAYLOAD_TOO_LARGE');
    });

    test('every route refuses a request without the token', async (t) => {
      const app = build(t);
      const record = await createRecord(app, resource);
      const body = await validBody(app, resource, 1);
      const routes = [
        { method: 'GET', url: base },
        { method: 'POST', url: base, payload: body },
        { method: 'GET', url: base + '/' + record.id },
        { method: 'PUT', url: base + '/' + record.id, payload: body },
        { method: 'PATCH', url: base + '/' + record.id, payload: body },
        { method: 'DELETE', url: base + '/' + record.id },
      ];
      for (const route of routes) {
        assertError(await app.inject(/** @type {import('fastify').InjectOptions} */ (route)), 401, 'UNAUTHORIZED');
      }
      assert.deepEqual((await app.inject({ method: 'GET', url: base + '/' + record.id, headers: AUTH })).json(), record);
    });
  });
}
