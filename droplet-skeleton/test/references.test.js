// @ts-check
// A reference field must name an existing record of the resource it references: 422 otherwise.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPlan } from '../src/plan.js';
import { AUTH, assertError, build } from './support/app.js';
import { createRecord, resourceNamed, validBody } from './support/samples.js';

const MISSING_ID = '00000000-0000-4000-8000-000000000000';

const { resources } = loadPlan();

test('every reference in plan.json names a resource of the plan', () => {
  const plurals = resources.map((resource) => resource.plural);
  for (const field of resources.flatMap((resource) => resource.fields)) {
    if (field.type === 'reference') assert.ok(plurals.includes(String(field.references)), field.name);
  }
});

for (const resource of resources) {
  const base = '/' + resource.plural;
  for (const field of resource.fields) {
    if (field.type !== 'reference' || !field.references) continue;
    const target = resourceNamed(field.references);

    describe(base + ' ' + field.name, () => {
      test('POST, PUT and PATCH with an id of no ' + target.singular + ' are 422 and change nothing', async (t) => {
        const app = build(t);
        const record = await createRecord(app, resource);
        const body = { ...(await validBody(app, resource, 1)), [field.name]: MISSING_ID };
        const attempts = [
          { method: 'POST', url: base, payload: body },
          { method: 'PUT', url: base + '/' + record.id, payload: body },
          { method: 'PATCH', url: base + '/' + record.id, payload: { [field.name]: MISSING_ID } },
        ];
        for (const attempt of attempts) {
          const response = await app.inject({ ...attempt, method: /** @type {'POST'} */ (attempt.method), headers: AUTH });
          const error = assertError(response, 422, 'REFERENCE_NOT_FOUND');
          assert.deepEqual(error.details, { field: field.name, resource: target.plural, id: MISSING_ID });
        }
        assert.deepEqual((await app.inject({ method: 'GET', url: base + '/' + record.id, headers: AUTH })).json(), record);
        assert.equal((await app.inject({ method: 'GET', url: base, headers: AUTH })).json().total, 1);
      });

      test('accepts the id of an existing ' + target.singular + ' and keeps it', async (t) => {
        const app = build(t);
        const referenced = await createRecord(app, target);
        const record = await createRecord(app, resource);
        const response = await app.inject({ method: 'PATCH', url: base + '/' + record.id, headers: AUTH, payload: { [field.name]: referenced.id } });
        assert.equal(response.statusCode, 200, response.body);
        assert.equal(response.json()[field.name], referenced.id);
      });
    });
  }
}
