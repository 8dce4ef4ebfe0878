/**
 * Live events after they are committed. In one process, an in-memory fan-out; across
 * executors, LISTEN/NOTIFY to whichever one holds the client's WebSocket.
 */
import type { BuildEvent } from '../events.js';

export type BuildEventListener = (event: BuildEvent) => void;

export interface EventBus {
  /** Returns the unsubscribe function. */
  subscribe(buildId: string, listener: BuildEventListener): () => void;
  /** Every build's events (the announcer listens for failures and approval requests). Returns the unsubscribe function. */
  subscribeAll(listener: BuildEventListener): () => void;
  publish(event: BuildEvent): void;
}
