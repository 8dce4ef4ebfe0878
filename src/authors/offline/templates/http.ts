/** The generated droplet's HTTP layer: app, UDC routes and the CRUD routes of each resource. */
import { fieldSchema } from '../field-schema.js';
import type { DropletPlan, ResourcePlan } from '../plan.js';

export const APP_JS = String.raw`// buildApp(config): the whole droplet as a Fastify instance. It never listens and never reads process.env.
import Fastify from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError, errorBody, toErrorResponse } from './errors.js';
import { RequestMetrics } from './metrics.js';
import { resources } from './resources/index.js';
import { registerUdcRoutes } from './udc.js';

function digest(text) {
  return createHash('sha256').update(text).digest();
}

/** Constant-time check of "Authorization: Bearer <token>". */
function hasToken(header, expectedDigest) {
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  return timingSafeEqual(digest(header.slice('Bearer '.length)), expectedDigest);
}

function isHealthProbe(request) {
  return (request.method === 'GET' || request.method === 'HEAD') && request.routeOptions.url === '/health';
}

export function buildApp(config) {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      base: { service: config.serviceName, droplet_id: config.dropletId },
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
    },
    bodyLimit: config.bodyLimit,
    // Refuse unknown fields and wrong types instead of silently dropping or converting them.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  });
  const metrics = new RequestMetrics();
  const tokenDigest = config.apiToken ? digest(config.apiToken) : undefined;

  // Before routing, so that unknown paths are not discoverable without the token.
  app.addHook('onRequest', async (request) => {
    if (!tokenDigest || isHealthProbe(request)) return;
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
    const path = request.url.split('?')[0].slice(0, 200);
    return reply
      .code(404)
      .send(errorBody('NOT_FOUND', 'There is no route ' + request.method + ' ' + path + '.', { method: request.method, path }));
  });

  const stores = resources.map((resource) => resource.register(app));
  registerUdcRoutes(app, {
    config,
    metrics,
    endpoints: resources.flatMap((resource) => resource.endpoints),
    recordCount: () => stores.reduce((sum, store) => sum + store.size, 0),
  });
  return app;
}
`;

export const UDC_JS = String.raw`// The five endpoints every droplet answers (the UDC).
import { randomUUID } from 'node:crypto';
import { manifest } from './manifest.js';

export const MESSAGE_TYPES = ['task_assignment', 'status_update', 'query', 'command', 'event', 'status'];
const PROBE_TIMEOUT_MS = 1000;
const PROBE_CACHE_MS = 5000;

const messageSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['from_service', 'message_type', 'payload'],
    properties: {
      from_service: { type: 'string', minLength: 1, maxLength: 200 },
      message_type: { type: 'string', enum: MESSAGE_TYPES },
      payload: { type: 'object' },
      reply_to: { type: 'string', maxLength: 2000 },
      trace_id: { type: 'string', maxLength: 200 },
    },
  },
};

/** Whether the registry answers now; cached briefly so /dependencies stays cheap. */
function registryProbe(registryUrl) {
  // Only the origin is shown: a URL may carry credentials.
  const origin = new URL(registryUrl).origin;
  let cached;
  return async () => {
    if (cached && Date.now() - cached.at < PROBE_CACHE_MS) return cached.entry;
    let status = 'unavailable';
    try {
      const response = await fetch(registryUrl + '/health', {
        redirect: 'manual',
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      await response.body?.cancel();
      if (response.ok) status = 'available';
    } catch {
      status = 'unavailable';
    }
    const entry = { name: 'registry', status, url: origin, checked_at: new Date().toISOString() };
    cached = { at: Date.now(), entry };
    return entry;
  };
}

export function registerUdcRoutes(app, { config, metrics, endpoints, recordCount }) {
  const startedAt = Date.now();
  const uptimeSeconds = () => Math.floor((Date.now() - startedAt) / 1000);
  const probeRegistry = config.registryUrl ? registryProbe(config.registryUrl) : undefined;

  const capabilities = {
    service_name: config.serviceName,
    droplet_id: config.dropletId,
    version: manifest.version,
    description: manifest.description,
    capabilities: manifest.capabilities,
    supported_operations: manifest.supportedOperations,
    integration_endpoints: endpoints,
  };
  if (config.apiToken) capabilities.authentication = { type: 'bearer', env: 'API_TOKEN' };

  app.get('/health', async () => ({
    status: 'healthy',
    timestamp: new Date().toISOString(),
    uptime_seconds: uptimeSeconds(),
    version: manifest.version,
  }));

  app.get('/capabilities', async () => capabilities);

  app.get('/state', async () => ({
    status: 'active',
    mode: config.environment === 'production' ? 'production' : 'development',
    environment: config.environment,
    last_activity: metrics.lastActivity,
    uptime_seconds: uptimeSeconds(),
    metrics: { ...metrics.snapshot(), records_stored: recordCount() },
  }));

  app.get('/dependencies', async () => ({
    required_services: [],
    optional_services: probeRegistry ? [await probeRegistry()] : [],
    external_apis: [],
  }));

  app.post('/message', { schema: messageSchema }, async (request) => {
    const { from_service, message_type, trace_id } = request.body;
    const message_id = randomUUID();
    request.log.info({ message_id, from_service, message_type, trace_id }, 'message received');
    return { received: true, message_id, status: 'completed' };
  });
}
`;

export const CRUD_JS = String.raw`// defineResource: the JSON schemas, endpoints and routes of one kind of record.
import { HttpError } from './errors.js';
import { RecordStore } from './store.js';

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 100 } },
};

export function defineResource({ plural, singular, properties, required }) {
  const base = '/' + plural;
  const fullBody = { type: 'object', additionalProperties: false, required, properties };
  const partialBody = { type: 'object', additionalProperties: false, minProperties: 1, properties };
  const endpoints = [
    { path: base, method: 'GET', description: 'List ' + plural + '.' },
    { path: base, method: 'POST', description: 'Create a ' + singular + '.' },
    { path: base + '/:id', method: 'GET', description: 'Get one ' + singular + ' by id.' },
    { path: base + '/:id', method: 'PUT', description: 'Replace a ' + singular + '.' },
    { path: base + '/:id', method: 'PATCH', description: 'Change some fields of a ' + singular + '.' },
    { path: base + '/:id', method: 'DELETE', description: 'Delete a ' + singular + '.' },
  ];

  function missing(id) {
    return new HttpError(404, 'NOT_FOUND', 'There is no ' + singular + ' with id "' + id + '".', { resource: plural, id });
  }

  /** Adds the routes to app with a fresh store, and returns that store. */
  function register(app) {
    const store = new RecordStore(plural);
    app.get(base, async () => {
      const items = store.list();
      return { items, total: items.length };
    });
    app.post(base, { schema: { body: fullBody } }, async (request, reply) => {
      return reply.code(201).send(store.create(request.body));
    });
    app.get(base + '/:id', { schema: { params: idParams } }, async (request) => {
      const record = store.get(request.params.id);
      if (!record) throw missing(request.params.id);
      return record;
    });
    app.put(base + '/:id', { schema: { params: idParams, body: fullBody } }, async (request) => {
      const record = store.replace(request.params.id, request.body);
      if (!record) throw missing(request.params.id);
      return record;
    });
    app.patch(base + '/:id', { schema: { params: idParams, body: partialBody } }, async (request) => {
      const record = store.update(request.params.id, request.body);
      if (!record) throw missing(request.params.id);
      return record;
    });
    app.delete(base + '/:id', { schema: { params: idParams } }, async (request, reply) => {
      if (!store.delete(request.params.id)) throw missing(request.params.id);
      return reply.code(204).send();
    });
    return store;
  }

  return { plural, singular, endpoints, register };
}
`;

export function resourceExportName(resource: ResourcePlan): string {
  return `${resource.plural}Resource`;
}

export function resourceJs(resource: ResourcePlan): string {
  const required = resource.fields.filter((field) => field.required).map((field) => field.name);
  const properties = resource.fields.map((field) => `    ${field.name}: ${JSON.stringify(fieldSchema(field))},`);
  return [
    `// ${resource.plural}: the records this droplet keeps. Change the schema here to change what is stored.`,
    `import { defineResource } from '../crud.js';`,
    '',
    `export const ${resourceExportName(resource)} = defineResource({`,
    `  plural: ${JSON.stringify(resource.plural)},`,
    `  singular: ${JSON.stringify(resource.singular)},`,
    `  required: ${JSON.stringify(required)},`,
    '  properties: {',
    ...properties,
    '  },',
    '});',
    '',
  ].join('\n');
}

export function resourcesIndexJs(plan: DropletPlan): string {
  const imports = plan.resources.map(
    (resource) => `import { ${resourceExportName(resource)} } from './${resource.plural}.js';`,
  );
  return [
    '// Every resource the droplet serves, in the order its routes are listed in /capabilities.',
    ...imports,
    '',
    `export const resources = [${plan.resources.map(resourceExportName).join(', ')}];`,
    '',
  ].join('\n');
}
