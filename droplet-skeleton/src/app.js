// @ts-check
// buildApp(config): the whole droplet as a Fastify instance, its records loaded from
// config.dataDir. It never listens and never reads process.env.
import { AjvCompiler } from '@fastify/ajv-compiler';
import Fastify from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { registerResource, resourceEndpoints } from './crud.js';
import { HttpError, errorBody, toErrorResponse } from './errors.js';
import { RequestMetrics } from './metrics.js';
import { loadPlan } from './plan.js';
import { RecordStore } from './store.js';
import { registerUdcRoutes } from './udc.js';
import { plannedArchetype } from './archetypes/index.js';

/**
 * One schema compiler for every app this process builds: a schema is compiled once, not
 * once per app (the tests build an app per test; compiling is most of what that costs).
 */
const sharedValidatorCompiler = AjvCompiler();

/** @param {string} text */
function digest(text) {
  return createHash('sha256').update(text).digest();
}

/**
 * Constant-time check of "Authorization: Bearer <token>".
 * @param {string | undefined} header
 * @param {Buffer} expectedDigest
 */
function hasToken(header, expectedDigest) {
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  return timingSafeEqual(digest(header.slice('Bearer '.length)), expectedDigest);
}

/** @param {import('fastify').FastifyRequest} request */
function isHealthProbe(request) {
  return (request.method === 'GET' || request.method === 'HEAD') && request.routeOptions.url === '/health';
}

/**
 * Routes anyone may call: liveness, and those an archetype serves to the public (a short link's redirect).
 * @param {import('fastify').FastifyRequest} request
 * @param {readonly string[]} publicRoutes
 */
function isPublic(request, publicRoutes) {
  return isHealthProbe(request) || ((request.method === 'GET' || request.method === 'HEAD') && publicRoutes.includes(request.routeOptions.url ?? ''));
}

/**
 * @param {import('fastify').FastifyInstance} app
 * @param {import('./config.js').Config} config
 * @param {RequestMetrics} metrics
 * @param {readonly string[]} publicRoutes
 */
function addGuards(app, config, metrics, publicRoutes) {
  const tokenDigest = config.apiToken ? digest(config.apiToken) : undefined;
  // Before routing, so that unknown paths are not discoverable without the token.
  app.addHook('onRequest', async (request) => {
    if (!tokenDigest || isPublic(request, publicRoutes)) return;
    if (!hasToken(request.headers.authorization, tokenDigest)) {
      throw new HttpError(401, 'UNAUTHORIZED', 'A valid bearer token is required.');
    }
  });
  // Liveness probes are not traffic: leaving them out keeps /state about real use.
  app.addHook('onResponse', async (request, reply) => {
    if (!isHealthProbe(request)) metrics.record(reply.statusCode, reply.elapsedTime);
  });
  app.setErrorHandler((error, request, reply) => {
    const [status, body] = toErrorResponse(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ status, code: body.error.code }, 'request refused');
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = (request.url.split('?')[0] ?? '').slice(0, 200);
    return reply
      .code(404)
      .send(errorBody('NOT_FOUND', 'There is no route ' + request.method + ' ' + path + '.', { method: request.method, path }));
  });
}

/**
 * @param {import('./config.js').Config} config
 * @throws {import('./errors.js').StartupError} when plan.json or a data file cannot be used
 */
export function buildApp(config) {
  const { resources } = loadPlan();
  const archetype = plannedArchetype()?.module;
  const stores = new Map(resources.map((resource) => [resource.plural, new RecordStore(resource, config.dataDir)]));
  const app = Fastify({
    logger: {
      level: config.logLevel,
      base: { service: config.serviceName, droplet_id: config.dropletId },
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
    },
    bodyLimit: config.bodyLimit,
    // Refuse unknown fields and wrong types instead of silently dropping or converting them.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
    schemaController: { compilersFactory: { buildValidator: sharedValidatorCompiler } },
  });
  const metrics = new RequestMetrics();
  addGuards(app, config, metrics, archetype?.publicRoutes ?? []);
  const served = archetype?.register(app, { settings: config.archetype, dataDir: config.dataDir, now: Date.now, apiToken: config.apiToken });
  for (const resource of resources) registerResource(app, resource, stores);
  registerUdcRoutes(app, {
    config,
    metrics,
    endpoints: [...(archetype?.endpoints ?? []), ...resources.flatMap(resourceEndpoints)],
    recordCount: () => [...stores.values()].reduce((sum, store) => sum + store.size, served?.count() ?? 0),
  });
  app.addHook('onClose', async () => {
    await Promise.all([...stores.values()].map((store) => store.flushed()));
    await served?.flushed();
  });
  return app;
}
