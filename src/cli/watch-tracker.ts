/**
 * Holds a watched build's state as its stream moves it, and lets the view wait for a
 * condition on it. The journal is read first (GET …/events), then the stream resumes
 * after its last seq: the state never replays the build's past over its present.
 */
import type { BuildEvent } from '../domain/events.js';
import { buildPath, type ExecutorClient } from './client.js';
import { followBuild, type StreamMessage } from './stream.js';
import { applyMessage, initialState, type WatchState } from './watch-state.js';

type Listener = (state: WatchState) => void;

export class WatchTracker {
  state: WatchState;
  private readonly listeners = new Set<Listener>();
  private failure: Error | null = null;
  /** The stream is over (the build ended, or following it failed). */
  ended = false;

  constructor(buildId: string) {
    this.state = initialState(buildId);
  }

  /** Reads the journal, then follows the stream in the background; resolves once the snapshot is in. */
  async start(client: ExecutorClient, onMessage?: (message: StreamMessage) => void): Promise<void> {
    const journal = await client.request<BuildEvent[]>(buildPath(this.state.buildId, '/events'));
    for (const event of journal) this.apply(event);
    const after = this.state.lastSeq;
    followBuild(client, this.state.buildId, {
      after,
      onMessage: (message) => {
        onMessage?.(message);
        this.apply(message);
      },
    }).then(
      () => this.finish(null),
      (error: Error) => this.finish(error),
    );
    await this.until((state) => state.status !== null);
  }

  apply(message: StreamMessage): void {
    this.state = applyMessage(this.state, message);
    for (const listener of this.listeners) listener(this.state);
    this.wake();
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when `holds` is true of the state, or the stream has ended; rejects if the stream failed. */
  until(holds: (state: WatchState) => boolean): Promise<WatchState> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (this.failure) reject(this.failure);
        else if (holds(this.state) || this.ended) resolve(this.state);
        else return false;
        return true;
      };
      if (check()) return;
      this.waiters.add(check);
    });
  }

  private readonly waiters = new Set<() => boolean>();

  private wake(): void {
    for (const waiter of [...this.waiters]) if (waiter()) this.waiters.delete(waiter);
  }

  private finish(error: Error | null): void {
    this.failure = error;
    this.ended = true;
    this.wake();
  }
}
