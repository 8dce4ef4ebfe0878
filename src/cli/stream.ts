/**
 * Follows `WS /executor/builds/:id/stream`: a snapshot, the journal after `after`, then
 * live events until the build ends (close 1000). A dropped connection is resumed with
 * `after=<last seq>`, so nothing is lost or repeated.
 */
import WebSocket from 'ws';
import type { BuildEvent } from '../domain/events.js';
import type { BuildView } from '../domain/status.js';
import { apiErrorFrom, buildPath, CliError, type ExecutorClient, unreachable } from './client.js';

export type StreamMessage = { type: 'snapshot'; build: BuildView } | BuildEvent;

export interface FollowOptions {
  after?: number;
  onMessage: (message: StreamMessage) => void;
  /** Gives up after this many reconnects in a row without a message in between. */
  maxReconnects?: number;
}

const CLOSE_NORMAL = 1000;
const RECONNECT_DELAY_MS = 500;

type Outcome = { ended: true } | { ended: false; reason: string };

/** One connection: resolves when it closes; rejects on an HTTP refusal or a refused connection. */
function connectOnce(client: ExecutorClient, buildId: string, after: number, onMessage: (message: StreamMessage) => void): Promise<Outcome> {
  const url = client.url(buildPath(buildId, '/stream'), { after }).replace(/^http/, 'ws');
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: client.authHeaders() });
    // The server refused the upgrade (401, 404…) with a UDC error body.
    socket.on('unexpected-response', (request, response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      response.on('end', () => {
        reject(apiErrorFrom(response.statusCode ?? 0, text));
        request.destroy();
      });
    });
    socket.on('message', (data: Buffer) => onMessage(JSON.parse(data.toString('utf8')) as StreamMessage));
    socket.on('error', (error: Error & { code?: string }) => {
      if (socket.readyState !== WebSocket.OPEN && error.code) reject(unreachable(client.settings.baseUrl, error.code));
    });
    socket.on('close', (code, reason) => resolve(code === CLOSE_NORMAL ? { ended: true } : { ended: false, reason: `${code} ${String(reason)}` }));
  });
}

/** Resolves once the build has ended and the server closed the stream normally. */
export async function followBuild(client: ExecutorClient, buildId: string, options: FollowOptions): Promise<void> {
  let lastSeq = options.after ?? 0;
  let quietReconnects = 0;
  const limit = options.maxReconnects ?? 20;
  for (;;) {
    let heard = false;
    const outcome = await connectOnce(client, buildId, lastSeq, (message) => {
      heard = true;
      if (message.type !== 'snapshot') lastSeq = Math.max(lastSeq, message.seq);
      options.onMessage(message);
    });
    if (outcome.ended) return;
    quietReconnects = heard ? 0 : quietReconnects + 1;
    if (quietReconnects > limit) throw new CliError('STREAM_LOST', `the build stream keeps closing (${outcome.reason})`, 3);
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_DELAY_MS));
  }
}
