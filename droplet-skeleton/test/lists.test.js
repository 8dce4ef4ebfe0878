// @ts-check
// List routes: paging with limit and offset, equality filters on fields, and what they refuse.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPlan } from '../src/plan.js';
import { AUTH, assertError, build } from './support/app.js';
import { createRecord } from './support/samples.js';

/** @typedef {import('../src/plan.js').Field} Field */

/**
 * Query texts that name no value of the field.
 * @param {Field} field
 * @returns {string[]}
 */
function invalidFilterTexts(field) {
  switch (field.type) {
    case 'integer':
      return ['abc', '1.5'];
    case 'number':
      return ['abc', '1,5'];
    case 'boolean':
      return ['yes', '1'];
    case 'url':
      return ['not a url'];
    case 'email':
      return ['nobody'];
    case 'datetime':
      return ['later', '2030-01-02'];
    case 'date':
      return ['someday', '2030-13-45'];
    default:
      return field.enum ? ['not-an-option'] : [''];
  }
}

/**
 * Another spelling of the same value, where the field's type has one.
 * @param {Field} field
 * @param {unknown} value
 */
function otherSpelling(field, value) {
  if (field.type === 'number' && typeof value === 'number') return value.toExponential();
  if (field.type === 'datetime' && typeof value === 'string') return value.replace('.000Z', 'Z');
  return undefined;
}

/** @param {string} base @param {Record<string, string>} query */
const url = (base, query) => base + '?' + new URLSearchParams(query).toString();

for (const resource of loadPlan().resources) {
  const base = '/' + resource.plural;

  describe('GET ' + base, () => {
    test('lists records in creation order, 50 at a time from the start unless told otherwise', async (t) => {
      const app = build(t);
      assert.deepEqual((await app.inject({ method: 'GET', url: base, headers: AUTH })).json(), { items: [], total: 0, limit: 50, offset: 0 });
      const created = [];
      for (let i = 0; i < 3; i += 1) created.push(await createRecord(app, resource, i === 1 ? 1 : 0));
      const ids = created.map((record) => record.id);
      const all = (await app.inject({ method: 'GET', url: base, headers: AUTH })).json();
      assert.deepEqual(all.items.map((/** @type {{ id: string }} */ item) => item.id), ids);
      assert.equal(all.total, 3);
      const page = (await app.inject({ method: 'GET', url: url(base, { limit: '2', offset: '1' }), headers: AUTH })).json();
      assert.deepEqual(page.items.map((/** @type {{ id: string }} */ item) => item.id), ids.slice(1, 3));
      assert.deepEqual([page.total, page.limit, page.offset], [3, 2, 1]);
      const beyond = (await app.inject({ method: 'GET', url: url(base, { offset: '3' }), headers: AUTH })).json();
      assert.deepEqual([beyond.items, beyond.total], [[], 3]);
    });

    test('refuses a bad limit or offset and an unknown parameter with 400', async (t) => {
      const app = build(t);
      const bad = ['limit=0', 'limit=101', 'limit=ten', 'limit=', 'offset=-1', 'offset=1.5', 'limit=1&limit=2', 'unknown=1', 'id=x'];
      for (const query of bad) {
        assertError(await app.inject({ method: 'GET', url: base + '?' + query, headers: AUTH }), 400, 'VALIDATION_FAILED');
      }
      assert.equal((await app.inject({ method: 'GET', url: base + '?limit=100', headers: AUTH })).statusCode, 200);
    });

    for (const field of resource.fields) {
      if (field.type === 'tags') {
        test('does not filter on the list field ' + field.name, async (t) => {
          const app = build(t);
          assertError(await app.inject({ method: 'GET', url: url(base, { [field.name]: 'alpha' }), headers: AUTH }), 400, 'VALIDATION_FAILED');
        });
        continue;
      }
      // The sample records leave an optional reference to their own resource out.
      const sampled = !(field.type === 'reference' && field.references === resource.plural && !field.required);
      if (sampled) test('filters on ' + field.name + ' by equality, total before paging', async (t) => {
        const app = build(t);
        const records = [await createRecord(app, resource, 0), await createRecord(app, resource, 1), await createRecord(app, resource, 0)];
        const wanted = records[0][field.name];
        const matching = records.filter((record) => record[field.name] === wanted).map((record) => record.id);
        const texts = [String(wanted), otherSpelling(field, wanted)].filter((text) => text !== undefined);
        for (const text of texts) {
          const body = (await app.inject({ method: 'GET', url: url(base, { [field.name]: text }), headers: AUTH })).json();
          assert.deepEqual(body.items.map((/** @type {{ id: string }} */ item) => item.id), matching, text);
          assert.equal(body.total, matching.length);
        }
        const paged = (await app.inject({ method: 'GET', url: url(base, { [field.name]: String(wanted), limit: '1' }), headers: AUTH })).json();
        assert.deepEqual([paged.items.length, paged.total], [1, matching.length]);
      });
      test('refuses a filter value that is not a valid ' + field.name + ' with 400', async (t) => {
        const app = build(t);
        for (const text of invalidFilterTexts(field)) {
          assertError(await app.inject({ method: 'GET', url: url(base, { [field.name]: text }), headers: AUTH }), 400, 'VALIDATION_FAILED');
        }
      });
    }
  });
}
