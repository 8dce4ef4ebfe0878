/**
 * One client following one build over a WebSocket: a snapshot, the journal after
 * the client's last `seq`, then live events, with no duplicates and no gaps.
 *
 * The order matters: subscribe first (buffering), then read the snapshot and the
 * journal, then flush the buffer skipping what the journal already delivered. An
 * event committed at any moment is therefore either in the journal read or in the
 * buffer (or both, and then it is sent once).
 */
import type { FastifyBaseLogger } from 'fastify';
import { WebSocket } from 'ws';
import { AppError, asError } from '../domain/errors.js';
import { TERMINAL_BUILD_STATUSES } from '../domain/build.js';
import { type BuildEvent, TERMINAL_EVENT_TYPES } from '../domain/events.js';
import type { BuildService } from '../pipeline/service.js';

export interface EventStreamOptions {
  /** Bytes queued for a client beyond which a replay waits and a live stream drops the client. */
  highWaterBytes: number;
  /** Interval of keep-alive pings; a client that misses one pong is dropped. */
  pingIntervalMs: number;
}

export const DEFAULT_EVENT_STREAM_OPTIONS: EventStreamOptions = { highWaterBytes: 4 * 1024 * 1024, pingIntervalMs: 30_000 };

/** WebSocket close codes used here (RFC 6455 §7.4.1, IANA registry). */
export const CLOSE_NORMAL = 1000;
export const CLOSE_POLICY = 1008;
export const CLOSE_INTERNAL = 1011;
export const CLOSE_TRY_AGAIN_LATER = 1013;

const TERMINAL_TYPES: ReadonlySet<string> = new Set(TERMINAL_EVENT_TYPES);

export function isTerminalEvent(event: BuildEvent): boolean {
  return TERMINAL_TYPES.has(event.type);
}

/** A close reason must fit in 123 bytes of UTF-8. */
function closeReason(reason: string): string {
  let text = reason;
  while (Buffer.byteLength(text) > 123) text = text.slice(0, -1);
  return text;
}

export function streamBuildEvents(
  socket: WebSocket,
  builds: BuildService,
  request: { buildId: string; after: number; log: FastifyBaseLogger },
  options: EventStreamOptions = DEFAULT_EVENT_STREAM_OPTIONS,
): void {
  const { buildId, log } = request;
  let lastSent = request.after;
  let lastSentEvent: BuildEvent | undefined;
  let replaying = true;
  let closed = false;
  const pending: BuildEvent[] = [];

  const open = (): boolean => !closed && socket.readyState === WebSocket.OPEN;
  const close = (code: number, reason: string): void => {
    if (open()) socket.close(code, closeReason(reason));
  };

  /** Sends; resolves at once unless the client is behind, then once the queue has flushed. */
  const send = (payload: unknown): Promise<void> | undefined => {
    if (!open()) return undefined;
    const data = JSON.stringify(payload);
    if (socket.bufferedAmount < options.highWaterBytes) {
      socket.send(data);
      return undefined;
    }
    return new Promise((resolve) => socket.send(data, () => resolve()));
  };

  const sendEvent = (event: BuildEvent): Promise<void> | undefined => {
    if (event.seq <= lastSent) return undefined;
    lastSent = event.seq;
    lastSentEvent = event;
    return send(event);
  };

  const deliverLive = (event: BuildEvent): void => {
    if (event.seq <= lastSent || !open()) return;
    // A client this far behind would make us hold its events in memory: drop it; the
    // journal lets it reconnect with `after` and lose nothing.
    if (socket.bufferedAmount >= options.highWaterBytes) {
      close(CLOSE_TRY_AGAIN_LATER, `Client too slow; reconnect with after=${lastSent}.`);
      return;
    }
    void sendEvent(event);
    if (isTerminalEvent(event)) close(CLOSE_NORMAL, event.type);
  };

  const unsubscribe = builds.subscribe(buildId, (event) => {
    if (closed) return;
    if (replaying) pending.push(event);
    else deliverLive(event);
  });

  let alive = true;
  const ping = setInterval(() => {
    if (!alive) {
      socket.terminate();
      return;
    }
    alive = false;
    if (open()) socket.ping();
  }, options.pingIntervalMs);
  ping.unref();
  socket.on('pong', () => {
    alive = true;
  });

  socket.on('close', () => {
    closed = true;
    clearInterval(ping);
    unsubscribe();
    pending.length = 0;
  });

  const replay = async (): Promise<void> => {
    const snapshot = await builds.get(buildId);
    await send({ type: 'snapshot', build: snapshot });
    for (const event of await builds.events(buildId, request.after)) {
      if (!open()) return;
      await sendEvent(event);
    }
    // Events that arrived while the replay waited on a slow client.
    while (pending.length > 0 && open()) {
      await sendEvent(pending.shift()!);
    }
    replaying = false;
    const finished = lastSentEvent
      ? isTerminalEvent(lastSentEvent)
      : TERMINAL_BUILD_STATUSES.includes(snapshot.status);
    if (finished) close(CLOSE_NORMAL, lastSentEvent?.type ?? `build ${snapshot.status}`);
  };

  replay().catch((thrown: unknown) => {
    const error = asError(thrown);
    if (error instanceof AppError && error.status < 500) {
      close(CLOSE_POLICY, error.message);
      return;
    }
    log.error({ err: error, build_id: buildId }, 'build stream failed');
    close(CLOSE_INTERNAL, 'Internal error.');
  });
}
