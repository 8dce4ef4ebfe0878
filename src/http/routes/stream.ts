/** `WS /executor/builds/:id/stream?after=SEQ`: a build's progress, live. */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.js';
import { UpgradeRequiredError } from '../errors.js';
import { type EventStreamOptions, DEFAULT_EVENT_STREAM_OPTIONS, streamBuildEvents } from '../event-stream.js';
import { afterQuery, buildIdParams, parseOrThrow } from '../schemas.js';

function streamRequest(params: unknown, query: unknown): { buildId: string; after: number } {
  return {
    buildId: parseOrThrow(buildIdParams, params, 'build id').id,
    after: parseOrThrow(afterQuery, query, 'stream query').after,
  };
}

export function registerStreamRoute(
  app: FastifyInstance,
  deps: AppDeps,
  options: EventStreamOptions = DEFAULT_EVENT_STREAM_OPTIONS,
): void {
  app.route({
    method: 'GET',
    url: '/executor/builds/:id/stream',
    config: {
      description: 'WebSocket: a snapshot, the journal after `after`, then live events; closes 1000 after the build ends.',
    },
    // Runs before the upgrade, so a bad id or an unknown build is answered with a
    // plain HTTP 400/404 in the UDC shape instead of an opened-then-closed socket.
    preValidation: async (request) => {
      const { buildId } = streamRequest(request.params, request.query);
      await deps.builds.get(buildId);
    },
    handler: async (request) => {
      throw new UpgradeRequiredError(request.url.split('?')[0] ?? '');
    },
    wsHandler: (socket, request) => {
      const { buildId, after } = streamRequest(request.params, request.query);
      streamBuildEvents(socket, deps.builds, { buildId, after, log: request.log }, options);
    },
  });
}
