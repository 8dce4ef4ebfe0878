/**
 * The HTTP face of the executor: one Fastify instance with auth, one error
 * handler, the UDC routes, the build API and the progress stream. Nothing here
 * runs builds; routes call `deps.builds` and `deps.registry`.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import { asError } from '../domain/errors.js';
import type { AppDeps } from './deps.js';
import { authRequired, bearerAuth, trackServedRoutes } from './auth.js';
import { registerBuildRateLimit } from './rate-limit.js';
import { requestLogSerializer } from './credential-urls.js';
import { OneLinePerRequest } from './request-log.js';
import { frameworkErrorResponder, registerErrorHandling } from './errors.js';
import { CLOSE_INTERNAL } from './event-stream.js';
import { RequestMetrics } from './metrics.js';
import { acceptUnlabelledJson } from './json-bodies.js';
import { collectRouteCatalog } from './route-catalog.js';
import { registerApiDescription } from './api-description.js';
import { registerDashboard } from './dashboard.js';
import { registerApprovalLinkRoutes } from './routes/approval-links.js';
import { registerBuildFileRoutes } from './routes/build-files.js';
import { registerBuildRoutes } from './routes/builds.js';
import { registerDropletRoutes } from './routes/droplets.js';
import { registerExecutorRoutes } from './routes/executor.js';
import { registerRegistryRoutes } from './routes/registry.js';
import { registerStreamRoute } from './routes/stream.js';
import { registerUdcRoutes } from './routes/udc.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** Stream clients only listen; anything they send beyond a ping-sized frame is refused. */
const WS_MAX_CLIENT_PAYLOAD = 4 * 1024;

function isLoggerInstance(logger: AppDeps['logger']): logger is FastifyBaseLogger {
  return typeof logger === 'object' && logger !== null && typeof (logger as Partial<FastifyBaseLogger>).child === 'function';
}

/**
 * Fastify 5 takes settings as `logger` but a ready pino instance only as `loggerInstance`.
 * Either way request lines mask URLs that carry a credential (an approval link's token).
 */
function loggerOptions(logger: AppDeps['logger']): Pick<FastifyServerOptions, 'logger' | 'loggerInstance'> {
  const serializers = { req: requestLogSerializer };
  if (isLoggerInstance(logger)) return { loggerInstance: logger.child({}, { serializers }) };
  if (!logger) return { logger };
  return { logger: logger === true ? { serializers } : { ...logger, serializers: { ...logger.serializers, ...serializers } } };
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const bodyLimit = deps.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app: FastifyInstance = Fastify({
    ...loggerOptions(deps.logger),
    // One line per request, with its outcome (not Fastify's "incoming" and "completed" pair).
    logController: new OneLinePerRequest(),
    bodyLimit,
    // Build ids run to 126 characters and approval link tokens to ~350; Fastify's default of 100 would refuse valid ones.
    routerOptions: { maxParamLength: 512 },
    frameworkErrors: frameworkErrorResponder(bodyLimit),
  });

  // The API speaks JSON only: a text/plain body is refused with 415 rather than
  // reaching a route as a bare string.
  app.removeContentTypeParser('text/plain');
  acceptUnlabelledJson(app);
  registerErrorHandling(app, bodyLimit);
  const catalog = collectRouteCatalog(app);
  // Every route and its auth policy, for the auth tests over all of them (and a typo'd policy refused).
  trackServedRoutes(app);
  await registerBuildRateLimit(app, deps.buildRateLimit);
  // Before any route: the OpenAPI document (GET /docs/json) collects routes as they register.
  await registerApiDescription(app, { version: deps.info.version, publicUrl: deps.publicUrl });

  const metrics = new RequestMetrics();
  app.addHook('onResponse', async (_request, reply) => {
    metrics.record(reply.elapsedTime, reply.statusCode);
  });

  await app.register(fastifyWebsocket, {
    options: { maxPayload: WS_MAX_CLIENT_PAYLOAD },
    errorHandler: (error, socket, request) => {
      request.log.error({ err: asError(error) }, 'websocket failed');
      if (socket.readyState === socket.OPEN) socket.close(CLOSE_INTERNAL, 'Internal error.');
      else socket.terminate();
    },
  });

  // After the websocket plugin: its onRequest hook must mark upgrade requests first,
  // or a refused upgrade (401) would leave the raw socket open.
  const tokens = { apiToken: deps.apiToken, registryToken: deps.registryToken, dropletToken: deps.dropletToken };
  if (authRequired(tokens)) app.addHook('onRequest', bearerAuth(tokens));

  registerUdcRoutes(app, deps, { catalog, metrics });
  registerExecutorRoutes(app, deps);
  registerBuildRoutes(app, deps);
  registerDropletRoutes(app, deps);
  registerStreamRoute(app, deps);
  if (deps.buildFiles) registerBuildFileRoutes(app, deps.buildFiles);
  if (deps.fleetRegistry) registerRegistryRoutes(app, deps.fleetRegistry);
  if (deps.approvalLinks) registerApprovalLinkRoutes(app, deps.approvalLinks, deps.publicUrl);
  // The dashboard's static files at / and /dashboard/* (public, hidden from the API description).
  await registerDashboard(app);
  return app;
}
