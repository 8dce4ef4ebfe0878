// @ts-check
// The routes of one resource of plan.json: list (paged, filtered), create, read, replace, change, delete.
import { HttpError } from './errors.js';
import { DEFAULT_PAGE_SIZE, bodySchemas, equalityFilter, isFilterable, listQuerySchema } from './schemas.js';

/** @typedef {import('./plan.js').Resource} Resource */
/** @typedef {import('./store.js').RecordStore} RecordStore */
/** @typedef {Map<string, RecordStore>} Stores */
/** @typedef {{ path: string, method: string, description: string }} Endpoint */

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 100 } },
};

/**
 * The business routes of one resource, in the order they are registered (and listed in /capabilities).
 * @param {Resource} resource
 * @returns {Endpoint[]}
 */
export function resourceEndpoints({ plural, singular }) {
  const base = '/' + plural;
  return [
    { path: base, method: 'GET', description: 'List ' + plural + '.' },
    { path: base, method: 'POST', description: 'Create a ' + singular + '.' },
    { path: base + '/:id', method: 'GET', description: 'Get one ' + singular + ' by id.' },
    { path: base + '/:id', method: 'PUT', description: 'Replace a ' + singular + '.' },
    { path: base + '/:id', method: 'PATCH', description: 'Change some fields of a ' + singular + '.' },
    { path: base + '/:id', method: 'DELETE', description: 'Delete a ' + singular + '.' },
  ];
}

/**
 * A reference field must name a record that exists now: otherwise 422, before anything is stored.
 * @param {Resource} resource
 * @param {Record<string, unknown>} body
 * @param {Stores} stores
 */
function checkReferences(resource, body, stores) {
  for (const field of resource.fields) {
    const id = body[field.name];
    if (field.type !== 'reference' || typeof id !== 'string' || !field.references) continue;
    const target = stores.get(field.references);
    if (target && target.get(id)) continue;
    throw new HttpError(422, 'REFERENCE_NOT_FOUND', field.name + ' names no ' + field.references + ' record with id "' + id + '".', {
      field: field.name,
      resource: field.references,
      id,
    });
  }
}

/**
 * One page of the records whose fields equal the query's filters; `total` counts every match.
 * @param {Resource} resource
 * @param {RecordStore} store
 * @param {Record<string, string>} query
 */
function listPage(resource, store, query) {
  const limit = query.limit === undefined ? DEFAULT_PAGE_SIZE : Number(query.limit);
  const offset = query.offset === undefined ? 0 : Number(query.offset);
  const tests = resource.fields
    .filter((field) => isFilterable(field) && query[field.name] !== undefined)
    .map((field) => ({ name: field.name, matches: equalityFilter(field, query[field.name] ?? '') }));
  const matching = store.list().filter((record) => tests.every((test) => test.matches(record[test.name])));
  return { items: matching.slice(offset, offset + limit), total: matching.length, limit, offset };
}

/**
 * Adds the routes of `resource` to app, over its store in `stores`.
 * @param {import('fastify').FastifyInstance} app
 * @param {Resource} resource
 * @param {Stores} stores
 */
export function registerResource(app, resource, stores) {
  const { plural, singular } = resource;
  const store = /** @type {RecordStore} */ (stores.get(plural));
  const base = '/' + plural;
  const { full, partial } = bodySchemas(resource);
  /** @param {string} id */
  const missing = (id) => new HttpError(404, 'NOT_FOUND', 'There is no ' + singular + ' with id "' + id + '".', { resource: plural, id });
  /** @param {import('fastify').FastifyRequest} request */
  const idOf = (request) => /** @type {{ id: string }} */ (request.params).id;
  /** @param {import('fastify').FastifyRequest} request */
  const bodyOf = (request) => /** @type {Record<string, unknown>} */ (request.body);

  app.get(base, { schema: { querystring: listQuerySchema(resource) } }, async (request) =>
    listPage(resource, store, /** @type {Record<string, string>} */ (request.query)),
  );
  app.post(base, { schema: { body: full } }, async (request, reply) => {
    checkReferences(resource, bodyOf(request), stores);
    return reply.code(201).send(await store.create(bodyOf(request)));
  });
  app.get(base + '/:id', { schema: { params: idParams } }, async (request) => {
    const record = store.get(idOf(request));
    if (!record) throw missing(idOf(request));
    return record;
  });
  app.put(base + '/:id', { schema: { params: idParams, body: full } }, async (request) => {
    if (!store.get(idOf(request))) throw missing(idOf(request));
    checkReferences(resource, bodyOf(request), stores);
    const record = await store.replace(idOf(request), bodyOf(request));
    if (!record) throw missing(idOf(request));
    return record;
  });
  app.patch(base + '/:id', { schema: { params: idParams, body: partial } }, async (request) => {
    if (!store.get(idOf(request))) throw missing(idOf(request));
    checkReferences(resource, bodyOf(request), stores);
    const record = await store.update(idOf(request), bodyOf(request));
    if (!record) throw missing(idOf(request));
    return record;
  });
  app.delete(base + '/:id', { schema: { params: idParams } }, async (request, reply) => {
    if (!(await store.delete(idOf(request)))) throw missing(idOf(request));
    return reply.code(204).send();
  });
}
