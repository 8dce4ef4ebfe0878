/**
 * Where queued builds wait for a worker. In one process it is a bounded FIFO; across
 * executors it becomes a job queue with leases (pg-boss), behind the same operations.
 */
export type RunBuild = (buildId: string, signal: AbortSignal) => Promise<void>;

export interface BuildQueue {
  /** Queues the build (again, if it is running right now: it runs once more after). */
  enqueue(buildId: string): void;
  /**
   * For a queued build: how many rounds of builds (one per worker) run before it starts,
   * 0 when it starts at once (one not enqueued yet counts as last in line). Its estimated
   * completion counts them.
   */
  waitRounds(buildId: string): number;
  /** Drops a queued build, or aborts a running one and resolves once it has stopped. */
  abort(buildId: string): Promise<void>;
  /** Stops taking work, aborts what runs and waits for it, for a bounded time; answers the builds still running then. */
  close(graceMs?: number): Promise<string[]>;
}
