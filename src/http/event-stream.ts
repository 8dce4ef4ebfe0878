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
  request: StreamRequest,
  options: EventStreamOptions = DEFAULT_EVENT_STREAM_OPTIONS,
): void {
  new BuildEventStream(socket, builds, request, options).start();
}

interface StreamRequest {
  buildId: string;
  after: number;
  log: FastifyBaseLogger;
}

/** Pings every interval; a client that has not answered the previous ping is terminated. */
function keepAlive(socket: WebSocket, intervalMs: number, open: () => boolean): NodeJS.Timeout {
  let alive = true;
  const ping = setInterval(() => {
    if (!alive) {
      socket.terminate();
      return;
    }
    alive = false;
    if (open()) socket.ping();
  }, intervalMs);
  ping.unref();
  socket.on('pong', () => {
    alive = true;
  });
  return ping;
}

class BuildEventStream {
  private lastSent: number;
  /**
   * The last build-level event sent: it says whether the build has ended. A paid model
   * call journaled after a cancel is a step event and does not reopen the build.
   */
  private lastBuildEvent: BuildEvent | undefined;
  private replaying = true;
  private closed = false;
  private readonly pending: BuildEvent[] = [];

  constructor(
    private readonly socket: WebSocket,
    private readonly builds: BuildService,
    private readonly request: StreamRequest,
    private readonly options: EventStreamOptions,
  ) {
    this.lastSent = request.after;
  }

  start(): void {
    const { socket, request } = this;
    const unsubscribe = this.builds.subscribe(request.buildId, (event) => {
      if (this.closed) return;
      if (this.replaying) this.pending.push(event);
      else this.deliverLive(event);
    });

    const ping = keepAlive(socket, this.options.pingIntervalMs, () => this.open());

    socket.on('close', () => {
      this.closed = true;
      clearInterval(ping);
      unsubscribe();
      this.pending.length = 0;
    });

    this.replay().catch((thrown: unknown) => {
      const error = asError(thrown);
      if (error instanceof AppError && error.status < 500) {
        this.close(CLOSE_POLICY, error.message);
        return;
      }
      request.log.error({ err: error, build_id: request.buildId }, 'build stream failed');
      this.close(CLOSE_INTERNAL, 'Internal error.');
    });
  }

  private open(): boolean {
    return !this.closed && this.socket.readyState === WebSocket.OPEN;
  }

  private close(code: number, reason: string): void {
    if (this.open()) this.socket.close(code, closeReason(reason));
  }

  /** Sends; resolves at once unless the client is behind, then once the queue has flushed. */
  private send(payload: unknown): Promise<void> | undefined {
    if (!this.open()) return undefined;
    const data = JSON.stringify(payload);
    if (this.socket.bufferedAmount < this.options.highWaterBytes) {
      this.socket.send(data);
      return undefined;
    }
    return new Promise((resolve) => this.socket.send(data, () => resolve()));
  }

  private sendEvent(event: BuildEvent): Promise<void> | undefined {
    if (event.seq <= this.lastSent) return undefined;
    this.lastSent = event.seq;
    if (event.type.startsWith('build.')) this.lastBuildEvent = event;
    return this.send(event);
  }

  private deliverLive(event: BuildEvent): void {
    if (event.seq <= this.lastSent || !this.open()) return;
    // A client this far behind would make us hold its events in memory: drop it; the
    // journal lets it reconnect with `after` and lose nothing.
    if (this.socket.bufferedAmount >= this.options.highWaterBytes) {
      this.close(CLOSE_TRY_AGAIN_LATER, `Client too slow; reconnect with after=${this.lastSent}.`);
      return;
    }
    void this.sendEvent(event);
    if (isTerminalEvent(event)) this.close(CLOSE_NORMAL, event.type);
  }

  private async replay(): Promise<void> {
    const { builds, request } = this;
    const snapshot = await builds.get(request.buildId);
    await this.send({ type: 'snapshot', build: snapshot });
    for (const event of await builds.events(request.buildId, request.after)) {
      if (!this.open()) return;
      await this.sendEvent(event);
    }
    // Events that arrived while the replay waited on a slow client.
    while (this.pending.length > 0 && this.open()) {
      await this.sendEvent(this.pending.shift()!);
    }
    this.replaying = false;
    const finished = this.lastBuildEvent
      ? isTerminalEvent(this.lastBuildEvent)
      : TERMINAL_BUILD_STATUSES.includes(snapshot.status);
    if (finished) this.close(CLOSE_NORMAL, this.lastBuildEvent?.type ?? `build ${snapshot.status}`);
  }
}
