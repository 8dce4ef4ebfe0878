/** `WS /executor/builds/:id/stream?after=SEQ`: a build's progress, live. */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.js';
import { UpgradeRequiredError } from '../errors.js';
import { type EventStreamOptions, DEFAULT_EVENT_STREAM_OPTIONS, streamBuildEvents } from '../event-stream.js';
import { errorResponses } from '../response-schemas.js';
import { afterQuery, buildIdParams, parseOrThrow } from '../schemas.js';
import { z } from 'zod';

/** The stream's query: `after`, and the API token for browsers, which cannot set a WebSocket's headers. */
const streamQuery = afterQuery.extend({
  token: z.string().optional().describe('The API token, for clients that cannot send `Authorization: Bearer` on a WebSocket (browsers); accepted on the upgrade only.'),
});

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
    schema: {
      params: buildIdParams,
      querystring: streamQuery,
      response: {
        101: z.undefined().describe('Switching Protocols: the WebSocket stream. Messages are JSON: a `snapshot` (the BuildView), then each BuildEvent after `after`, live.'),
        ...errorResponses(404, 426),
      },
    },
    config: {
      description: 'WebSocket: a snapshot, the journal after `after`, then live events; closes 1000 after the build ends.',
      // The one route whose upgrade may carry the API token as `?token=` (see http/auth.ts).
      tokenInQuery: true,
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
