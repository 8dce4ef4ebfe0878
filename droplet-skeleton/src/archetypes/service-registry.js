// @ts-check
// Service registry: droplets register {name, url, metadata} (POST /services), keep their
// registration alive with heartbeats (POST /services/:id/heartbeat) and are looked up by
// name (GET /lookup/:name). A registration silent for longer than its TTL has expired: no
// read returns it, and the next change drops it. Registrations live in DATA_DIR/services.json.
import { randomUUID } from 'node:crypto';
import { HttpError } from '../errors.js';
import { KeyedState } from './keyed-state.js';
import { numberSetting } from './settings.js';
import { WEB_URL_MAX_LENGTH, isWebUrl } from './web-url.js';

/**
 * @typedef {{ id: string, name: string, url: string, metadata: Record<string, string>, ttl_seconds: number,
 *   registered_at: string, last_heartbeat_at: string, expires_at: string }} Service
 */

const NAME = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$' };
const TTL = { type: 'integer', minimum: 1, maximum: 86400 };
const METADATA = { type: 'object', maxProperties: 50, additionalProperties: { type: 'string', maxLength: 500 } };
const registerBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'url'],
  properties: { name: NAME, url: { type: 'string', minLength: 1, maxLength: WEB_URL_MAX_LENGTH }, metadata: METADATA, ttl_seconds: TTL },
};
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 100 } } };
const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 200 } } };
const listQuery = {
  type: 'object',
  additionalProperties: false,
  // Query values are strings (types are never coerced): checked as text, read as numbers.
  properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, limit: { type: 'string', pattern: '^([1-9][0-9]?|100)$' }, offset: { type: 'string', pattern: '^(0|[1-9][0-9]*)$' } },
};

export const endpoints = [
  { method: 'POST', path: '/services', description: 'Register a service instance (name, url, metadata); the same name and url again renews it.' },
  { method: 'GET', path: '/services', description: 'List live service instances, by name.' },
  { method: 'GET', path: '/services/:id', description: 'One live service instance.' },
  { method: 'DELETE', path: '/services/:id', description: 'Deregister a service instance.' },
  { method: 'POST', path: '/services/:id/heartbeat', description: 'Keep a registration alive for another TTL.' },
  { method: 'GET', path: '/lookup/:name', description: 'The live instances registered under a name.' },
];

/**
 * @param {import('./index.js').Settings} planned
 * @param {import('./index.js').Env} env
 */
export function settingsFrom(planned, env) {
  return {
    ttl_seconds: numberSetting({ planned, env, setting: 'ttl_seconds', variable: 'REGISTRY_TTL_SECONDS', min: 1, max: 86400, integer: true }),
    max_services: numberSetting({ planned, env, setting: 'max_services', variable: 'REGISTRY_MAX_SERVICES', min: 1, max: 1000000, integer: true }),
  };
}

/** Whether a registration is still alive at `now` (milliseconds). @param {Service} service @param {number} now */
export const isLive = (service, now) => Date.parse(service.expires_at) > now;

/** @param {Map<string, Service>} entries @param {number} now */
function dropExpired(entries, now) {
  for (const [id, service] of entries) if (!isLive(service, now)) entries.delete(id);
}

/** @param {Service} service @param {number} now */
const renewed = (service, now) => ({ ...service, last_heartbeat_at: new Date(now).toISOString(), expires_at: new Date(now + service.ttl_seconds * 1000).toISOString() });

/**
 * @param {import('fastify').FastifyInstance} app
 * @param {import('./index.js').ArchetypeContext} context
 */
export function register(app, { settings, dataDir, now }) {
  /** @type {KeyedState<Service>} */
  const services = new KeyedState(dataDir, 'services');
  const defaultTtl = Number(settings.ttl_seconds);
  const maxServices = Number(settings.max_services);
  const live = () => services.values().filter((service) => isLive(service, now()));
  /** @param {string} id */
  const missing = (id) => new HttpError(404, 'NOT_FOUND', 'No live service instance has the id "' + id.slice(0, 100) + '"; an expired one must register again.', { id: id.slice(0, 100) });
  /** @param {import('fastify').FastifyRequest} request */
  const idOf = (request) => /** @type {{ id: string }} */ (request.params).id;

  app.post('/services', { schema: { body: registerBody } }, async (request, reply) => {
    const input = /** @type {{ name: string, url: string, metadata?: Record<string, string>, ttl_seconds?: number }} */ (request.body);
    if (!isWebUrl(input.url)) throw new HttpError(400, 'VALIDATION_FAILED', 'url must be an absolute http or https address without credentials.', { field: 'url' });
    const outcome = await services.change((entries) => {
      const at = now();
      dropExpired(entries, at);
      const known = [...entries.values()].find((service) => service.name === input.name && service.url === input.url);
      if (!known && entries.size >= maxServices) throw new HttpError(409, 'CAPACITY_REACHED', 'The registry holds ' + maxServices + ' services already.', { limit: maxServices });
      const stamp = new Date(at).toISOString();
      const base = known ?? { id: randomUUID(), name: input.name, url: input.url, registered_at: stamp };
      const service = renewed({ ...base, metadata: input.metadata ?? {}, ttl_seconds: input.ttl_seconds ?? defaultTtl, last_heartbeat_at: stamp, expires_at: stamp }, at);
      entries.set(service.id, service);
      return { service, created: !known };
    });
    return reply.code(outcome.created ? 201 : 200).send(outcome.service);
  });

  app.get('/services', { schema: { querystring: listQuery } }, async (request) => {
    const query = /** @type {{ name?: string, limit?: string, offset?: string }} */ (request.query);
    const limit = query.limit === undefined ? 50 : Number(query.limit);
    const offset = query.offset === undefined ? 0 : Number(query.offset);
    const found = live().filter((service) => query.name === undefined || service.name === query.name);
    return { items: found.slice(offset, offset + limit), total: found.length, limit, offset };
  });

  app.get('/services/:id', { schema: { params: idParams } }, async (request) => {
    const service = services.get(idOf(request));
    if (!service || !isLive(service, now())) throw missing(idOf(request));
    return service;
  });

  app.delete('/services/:id', { schema: { params: idParams } }, async (request, reply) => {
    const id = idOf(request);
    await services.change((entries) => {
      const at = now();
      const service = entries.get(id);
      dropExpired(entries, at);
      if (!service || !isLive(service, at)) throw missing(id);
      entries.delete(id);
      return true;
    });
    return reply.code(204).send();
  });

  app.post('/services/:id/heartbeat', { schema: { params: idParams } }, async (request) => {
    const id = idOf(request);
    return services.change((entries) => {
      const at = now();
      dropExpired(entries, at);
      const service = entries.get(id);
      if (!service) throw missing(id);
      const alive = renewed(service, at);
      entries.set(id, alive);
      return alive;
    });
  });

  app.get('/lookup/:name', { schema: { params: nameParams } }, async (request) => {
    const { name } = /** @type {{ name: string }} */ (request.params);
    const instances = live().filter((service) => service.name === name);
    if (instances.length === 0) throw new HttpError(404, 'NOT_FOUND', 'No live service is registered as "' + name.slice(0, 100) + '".', { name: name.slice(0, 100) });
    return { name, instances };
  });

  return { count: () => live().length, flushed: () => services.flushed() };
}
