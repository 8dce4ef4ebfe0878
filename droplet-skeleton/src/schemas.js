// @ts-check
// JSON schemas built from plan.json: what a request body and a list query must look like.
// fieldSchema is the executor's definition (src/authors/offline/field-schema.ts) in
// JavaScript; the executor's tests check that the two agree for every field type.

/** @typedef {import('./plan.js').Field} Field */
/** @typedef {import('./plan.js').Resource} Resource */
/** @typedef {Record<string, unknown>} JsonSchema */

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

const ID_SCHEMA = { type: 'string', minLength: 1, maxLength: 100 };
const INTEGER_TEXT = '^-?(0|[1-9][0-9]*)$';
const NUMBER_TEXT = '^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?$';

/**
 * The schema of one field's value in a request body.
 * @param {Field} field
 * @returns {JsonSchema}
 */
export function fieldSchema(field) {
  /** @param {JsonSchema} schema */
  const described = (schema) => ({ ...schema, description: field.description });
  switch (field.type) {
    case 'integer':
      return described({ type: 'integer' });
    case 'number':
      return described({ type: 'number' });
    case 'boolean':
      return described({ type: 'boolean' });
    case 'tags':
      return described({ type: 'array', maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 50 } });
    case 'url':
      return described({ type: 'string', format: 'uri', maxLength: field.maxLength ?? 2000 });
    case 'email':
      return described({ type: 'string', format: 'email', maxLength: field.maxLength ?? 254 });
    case 'datetime':
      return described({ type: 'string', format: 'date-time' });
    case 'date':
      return described({ type: 'string', format: 'date' });
    case 'reference':
      return described(ID_SCHEMA);
    case 'string':
      return field.enum
        ? described({ type: 'string', enum: field.enum })
        : described({ type: 'string', minLength: 1, maxLength: field.maxLength ?? 200 });
  }
}

/**
 * Whether list routes filter on the field by equality (`?severity=error`): every scalar field.
 * @param {Field} field
 */
export function isFilterable(field) {
  return field.type !== 'tags';
}

/**
 * The schemas of a resource, made once: the shared compiler (app.js) knows a schema it
 * compiled before by its identity.
 * @template T
 * @param {(resource: Resource) => T} make
 * @returns {(resource: Resource) => T}
 */
function once(make) {
  /** @type {WeakMap<Resource, T>} */
  const made = new WeakMap();
  return (resource) => {
    if (!made.has(resource)) made.set(resource, make(resource));
    return /** @type {T} */ (made.get(resource));
  };
}

/**
 * The bodies of POST and PUT (every required field) and of PATCH (at least one field).
 * Unknown fields are refused, not dropped.
 */
export const bodySchemas = once((resource) => {
  const properties = Object.fromEntries(resource.fields.map((field) => [field.name, fieldSchema(field)]));
  const required = resource.fields.filter((field) => field.required).map((field) => field.name);
  return {
    full: { type: 'object', additionalProperties: false, required, properties },
    partial: { type: 'object', additionalProperties: false, minProperties: 1, properties },
  };
});

/**
 * A query value is text: the schema says which texts stand for a valid value of the field.
 * @param {Field} field
 * @returns {JsonSchema}
 */
function filterSchema(field) {
  switch (field.type) {
    case 'integer':
      return { type: 'string', pattern: INTEGER_TEXT };
    case 'number':
      return { type: 'string', pattern: NUMBER_TEXT };
    case 'boolean':
      return { type: 'string', enum: ['true', 'false'] };
    default: {
      const { description: _description, ...schema } = fieldSchema(field);
      return schema;
    }
  }
}

/**
 * `?limit=&offset=&<field>=<value>`: anything else, or a value that is not one of the
 * field's, is refused.
 */
export const listQuerySchema = once((resource) => {
  const filters = resource.fields.filter(isFilterable).map((field) => [field.name, filterSchema(field)]);
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: { type: 'string', pattern: '^([1-9][0-9]?|100)$' },
      offset: { type: 'string', pattern: '^(0|[1-9][0-9]*)$' },
      ...Object.fromEntries(filters),
    },
  };
});

/**
 * A test of a record's field against a query value the schema accepted, compared as the
 * field's type: numbers by value, booleans as true/false, times as instants.
 * @param {Field} field
 * @param {string} text
 * @returns {(value: unknown) => boolean}
 */
export function equalityFilter(field, text) {
  switch (field.type) {
    case 'integer':
    case 'number': {
      const wanted = Number(text);
      return (value) => value === wanted;
    }
    case 'boolean': {
      const wanted = text === 'true';
      return (value) => value === wanted;
    }
    case 'datetime': {
      const wanted = Date.parse(text);
      return (value) => typeof value === 'string' && Date.parse(value) === wanted;
    }
    default:
      return (value) => value === text;
  }
}
