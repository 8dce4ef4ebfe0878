// @ts-check
// Valid example records for any resource of plan.json. The same values as the executor's
// samples.ts (its tests check that the two agree), so these tests send what the SPEC shows.
import assert from 'node:assert/strict';
import { loadPlan } from '../../src/plan.js';
import { AUTH } from './app.js';

/** @typedef {import('../../src/plan.js').Field} Field */
/** @typedef {import('../../src/plan.js').Resource} Resource */
/** @typedef {string | number | boolean | string[]} SampleValue */

/**
 * Variant 0 is used to create a record, variant 1 to change it; the two always differ.
 * @param {Field} field
 * @param {0 | 1} variant
 * @returns {SampleValue}
 */
export function sampleValue(field, variant) {
  switch (field.type) {
    case 'integer':
      return variant === 0 ? 12 : 3;
    case 'number':
      return variant === 0 ? 42.5 : 7;
    case 'boolean':
      return variant === 0;
    case 'tags':
      return variant === 0 ? ['alpha', 'beta'] : ['gamma'];
    case 'url':
      return variant === 0 ? 'https://example.org/first' : 'https://example.com/second';
    case 'email':
      return variant === 0 ? 'ada@example.org' : 'grace@example.com';
    case 'datetime':
      return variant === 0 ? '2030-01-02T09:30:00.000Z' : '2031-06-15T17:45:00.000Z';
    case 'date':
      return variant === 0 ? '2030-01-02' : '2031-06-15';
    case 'reference':
      // A placeholder for the id of a record created first (see validBody).
      return '{{' + field.name + '}}';
    case 'string': {
      if (field.enum) return /** @type {string} */ (field.enum[variant % field.enum.length]);
      return ((variant === 0 ? 'Example' : 'Changed') + ' ' + field.name).slice(0, field.maxLength ?? 200);
    }
  }
}

/**
 * @param {Resource} resource
 * @param {0 | 1} variant
 * @returns {Record<string, SampleValue>}
 */
export function sample(resource, variant) {
  return Object.fromEntries(resource.fields.map((field) => [field.name, sampleValue(field, variant)]));
}

/** @param {string} plural */
export function resourceNamed(plural) {
  const resource = loadPlan().resources.find((candidate) => candidate.plural === plural);
  assert.ok(resource, 'no resource ' + plural + ' in plan.json');
  return resource;
}

/**
 * A sample body whose references name records that exist: each referenced record is created first.
 * @param {import('fastify').FastifyInstance} app
 * @param {Resource} resource
 * @param {0 | 1} variant
 * @param {number} [depth] guards against a cycle of references
 */
export async function validBody(app, resource, variant, depth = 0) {
  assert.ok(depth < 10, 'references in plan.json form a cycle');
  const body = sample(resource, variant);
  for (const field of resource.fields) {
    if (field.type !== 'reference' || !field.references) continue;
    if (field.references === resource.plural && !field.required) {
      delete body[field.name];
      continue;
    }
    body[field.name] = (await createRecord(app, resourceNamed(field.references), 0, depth + 1)).id;
  }
  return body;
}

/**
 * Creates a valid record (and whatever it references) and returns it.
 * @param {import('fastify').FastifyInstance} app
 * @param {Resource} resource
 * @param {0 | 1} [variant]
 * @param {number} [depth]
 */
export async function createRecord(app, resource, variant = 0, depth = 0) {
  const payload = await validBody(app, resource, variant, depth);
  const response = await app.inject({ method: 'POST', url: '/' + resource.plural, headers: AUTH, payload });
  assert.equal(response.statusCode, 201, response.body);
  return response.json();
}
