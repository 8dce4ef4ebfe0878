// @ts-check
// What this droplet is and what it keeps, read from two data files next to this module:
// manifest.json (name, version, capabilities) and plan.json (resources and their fields).
// Change plan.json to change what is stored; the routes, schemas and tests follow it.
import { readFileSync } from 'node:fs';
import { StartupError } from './errors.js';

/**
 * @typedef {'string' | 'url' | 'email' | 'datetime' | 'date' | 'integer' | 'number' | 'boolean' | 'tags' | 'reference'} FieldType
 * @typedef {{ name: string, type: FieldType, required: boolean, description: string,
 *   maxLength?: number, enum?: string[], references?: string }} Field
 * @typedef {{ plural: string, singular: string, maxRecords: number, fields: Field[] }} Resource
 * @typedef {{ kind: string, settings: Record<string, number | string | boolean> }} PlannedArchetype
 * @typedef {{ resources: Resource[], archetype?: PlannedArchetype }} Plan
 * @typedef {{ name: string, dropletId: number, version: string, description: string,
 *   capabilities: string[], supportedOperations: string[] }} Manifest
 */

export const FIELD_TYPES = ['string', 'url', 'email', 'datetime', 'date', 'integer', 'number', 'boolean', 'tags', 'reference'];
/** Set by the droplet, or taken by the list route's query: never a planned field. */
const RESERVED_FIELDS = ['id', 'created_at', 'updated_at', 'limit', 'offset'];
/** Paths the UDC owns. */
const RESERVED_PATHS = ['health', 'capabilities', 'state', 'dependencies', 'message'];
const FIELD_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const RESOURCE_NAME = /^[a-z][a-z0-9-]{0,63}$/;

/** @param {string} file */
function readJson(file) {
  const url = new URL(file, import.meta.url);
  try {
    return JSON.parse(readFileSync(url, 'utf8'));
  } catch (error) {
    throw new StartupError('src/' + file + ' could not be read as JSON: ' + (error instanceof Error ? error.message : String(error)));
  }
}

/**
 * @param {boolean} ok
 * @param {string} message
 * @returns {asserts ok}
 */
function check(ok, message) {
  if (!ok) throw new StartupError('src/plan.json: ' + message);
}

/** @param {Field} field @param {string} where @param {Set<string>} plurals */
function checkField(field, where, plurals) {
  check(typeof field === 'object' && field !== null, where + ' must be an object.');
  check(FIELD_NAME.test(String(field.name)) && !RESERVED_FIELDS.includes(field.name), where + ' has an invalid or reserved name "' + field.name + '".');
  check(FIELD_TYPES.includes(field.type), where + ' has an unknown type "' + field.type + '".');
  check(typeof field.required === 'boolean', where + ' must say whether it is required.');
  check(field.maxLength === undefined || (Number.isInteger(field.maxLength) && field.maxLength > 0), where + ' has an invalid maxLength.');
  check(field.enum === undefined || (Array.isArray(field.enum) && field.enum.length > 0 && field.enum.every((v) => typeof v === 'string')), where + ' has an invalid enum.');
  if (field.type === 'reference') {
    check(typeof field.references === 'string' && plurals.has(field.references), where + ' references "' + field.references + '", which is not a resource of this plan.');
  }
}

/** @param {Resource} resource @param {string} where */
function checkSelfReferences(resource, where) {
  for (const field of resource.fields) {
    // The first record could never be created.
    check(!(field.type === 'reference' && field.required && field.references === resource.plural), where + ' field ' + field.name + ' is a required reference to its own resource.');
  }
}

/** Kinds of src/archetypes/ (the loader there knows which file each is). */
const ARCHETYPE_KINDS = ['rate-limiter', 'url-shortener', 'metrics', 'scheduler', 'service-registry', 'notification-hub'];

/** @param {Plan} plan */
function checkArchetype(plan) {
  const archetype = plan.archetype;
  if (archetype === undefined) return;
  check(typeof archetype === 'object' && archetype !== null && ARCHETYPE_KINDS.includes(archetype.kind), '"archetype.kind" must be one of ' + ARCHETYPE_KINDS.join(', ') + '.');
  check(typeof archetype.settings === 'object' && archetype.settings !== null && !Array.isArray(archetype.settings), '"archetype.settings" must be an object.');
}

/**
 * A plan a person may have edited: refused at boot with the reason, never half-served.
 * @param {unknown} value
 * @returns {Plan}
 */
export function checkPlan(value) {
  const plan = /** @type {Plan} */ (value);
  check(typeof plan === 'object' && plan !== null && Array.isArray(plan.resources), 'needs a "resources" list.');
  checkArchetype(plan);
  check(plan.resources.length > 0 || plan.archetype !== undefined, 'needs a non-empty "resources" list, or an archetype.');
  const plurals = new Set(plan.resources.map((resource) => resource.plural));
  check(plurals.size === plan.resources.length, 'resource names must be unique.');
  for (const resource of plan.resources) {
    const where = 'resource "' + resource.plural + '"';
    check(RESOURCE_NAME.test(String(resource.plural)) && !RESERVED_PATHS.includes(resource.plural), where + ' has an invalid or reserved name.');
    check(typeof resource.singular === 'string' && resource.singular.length > 0, where + ' needs a singular.');
    check(Number.isInteger(resource.maxRecords) && resource.maxRecords > 0, where + ' needs a positive maxRecords.');
    check(Array.isArray(resource.fields) && resource.fields.length > 0, where + ' needs fields.');
    const names = new Set(resource.fields.map((field) => field.name));
    check(names.size === resource.fields.length, where + ' has two fields with the same name.');
    resource.fields.forEach((field, index) => checkField(field, where + ' field ' + (field.name ?? index), plurals));
    checkSelfReferences(resource, where);
  }
  return plan;
}

/** @type {Manifest | undefined} */
let manifest;
/** @type {Plan | undefined} */
let plan;

/** src/manifest.json, read once. @throws StartupError */
export function loadManifest() {
  manifest ??= /** @type {Manifest} */ (readJson('manifest.json'));
  return manifest;
}

/** src/plan.json, read and checked once. @throws StartupError */
export function loadPlan() {
  plan ??= checkPlan(readJson('plan.json'));
  return plan;
}
