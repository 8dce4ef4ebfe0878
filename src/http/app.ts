/**
 * The HTTP face of the executor: one Fastify instance with auth, one error
 * handler, the UDC routes, the build API and the progress stream. Nothing here
 * runs builds; routes call `deps.builds` and `deps.registry`.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import { asError } from '../domain/errors.js';
import type { AppDeps } from './deps.js';
import { bearerAuth } from './auth.js';
import { frameworkErrorResponder, registerErrorHandling } from './errors.js';
import { CLOSE_INTERNAL } from './event-stream.js';
import { RequestMetrics } from './metrics.js';
import { collectRouteCatalog } from './route-catalog.js';
import { registerBuildRoutes } from './routes/builds.js';
import { registerDropletRoutes } from './routes/droplets.js';
import { registerExecutorRoutes } from './routes/executor.js';
import { registerStreamRoute } from './routes/stream.js';
import { registerUdcRoutes } from './routes/udc.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** Stream clients only listen; anything they send beyond a ping-sized frame is refused. */
const WS_MAX_CLIENT_PAYLOAD = 4 * 1024;

function isLoggerInstance(logger: AppDeps['logger']): logger is FastifyBaseLogger {
  return typeof logger === 'object' && logger !== null && typeof (logger as Partial<FastifyBaseLogger>).child === 'function';
}

/** Fastify 5 takes settings as `logger` but a ready pino instance only as `loggerInstance`. */
function loggerOptions(logger: AppDeps['logger']): Pick<FastifyServerOptions, 'logger' | 'loggerInstance'> {
  return isLoggerInstance(logger) ? { loggerInstance: logger } : { logger };
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const bodyLimit = deps.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app: FastifyInstance = Fastify({
    ...loggerOptions(deps.logger),
    bodyLimit,
    // Build ids run to 126 characters; Fastify's default of 100 would refuse valid ones.
    routerOptions: { maxParamLength: 256 },
    frameworkErrors: frameworkErrorResponder(bodyLimit),
  });

  // The API speaks JSON only: a text/plain body is refused with 415 rather than
  // reaching a route as a bare string.
  app.removeContentTypeParser('text/plain');
  registerErrorHandling(app, bodyLimit);
  const catalog = collectRouteCatalog(app);

  const metrics = new RequestMetrics();
  app.addHook('onResponse', async (_request, reply) => {
    metrics.record(reply.elapsedTime, reply.statusCode >= 500);
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
  if (deps.apiToken) app.addHook('onRequest', bearerAuth(deps.apiToken));

  registerUdcRoutes(app, deps, { catalog, metrics });
  registerExecutorRoutes(app, deps);
  registerBuildRoutes(app, deps);
  registerDropletRoutes(app, deps);
  registerStreamRoute(app, deps);
  return app;
}
