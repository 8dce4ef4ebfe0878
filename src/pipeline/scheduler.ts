/**
 * Runs builds with bounded concurrency, first in first out. Holds the abort
 * controller of every running build so a cancel can stop it and wait for it.
 */
import type { BuildQueue, RunBuild } from '../domain/ports/queue.js';

interface Running {
  controller: AbortController;
  done: Promise<void>;
  /** Enqueued again while running (approved right as the runner was leaving). */
  again: boolean;
}

export class BuildScheduler implements BuildQueue {
  private readonly queue: string[] = [];
  private readonly running = new Map<string, Running>();
  private closed = false;

  constructor(
    private readonly concurrency: number,
    private readonly runBuild: RunBuild,
    /** May return a promise: the build's slot is held until it settles. */
    private readonly onError: (buildId: string, error: unknown) => void | Promise<void>,
  ) {}

  enqueue(buildId: string): void {
    if (this.closed) return;
    const running = this.running.get(buildId);
    if (running) {
      running.again = true;
      return;
    }
    if (!this.queue.includes(buildId)) this.queue.push(buildId);
    this.pump();
  }

  isActive(buildId: string): boolean {
    return this.running.has(buildId) || this.queue.includes(buildId);
  }

  waitRounds(buildId: string): number {
    if (this.running.has(buildId)) return 0;
    // Not queued here yet (the service renders a build's answer just before enqueueing it): it goes last.
    const queued = this.queue.indexOf(buildId);
    const position = queued < 0 ? this.queue.length : queued;
    // Every running build and every one queued ahead holds a worker for about one build's time.
    // (A scheduler of no workers, as some tests make, counts as one: the estimate stays a time.)
    return Math.floor((this.running.size + position) / Math.max(1, this.concurrency));
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Removes a queued build, or aborts a running one and waits until it has stopped. */
  async abort(buildId: string): Promise<void> {
    const index = this.queue.indexOf(buildId);
    if (index >= 0) this.queue.splice(index, 1);
    const running = this.running.get(buildId);
    if (!running) return;
    running.again = false;
    running.controller.abort();
    await running.done;
  }

  /**
   * Stops taking work, aborts what runs and waits for it (graceful shutdown), but no
   * longer than `graceMs`: a stop must end even if an aborted build never settles (it
   * stays in progress in the store and resumes at the next start). Returns the builds
   * that had not stopped by then.
   */
  async close(graceMs = 20_000): Promise<string[]> {
    this.closed = true;
    this.queue.length = 0;
    const all = [...this.running.entries()];
    for (const [, running] of all) running.controller.abort();
    const stopped = new Set<string>();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(all.map(([id, running]) => running.done.then(() => void stopped.add(id)))), grace]);
    clearTimeout(timer);
    return all.map(([id]) => id).filter((id) => !stopped.has(id));
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.concurrency && this.queue.length > 0) {
      const buildId = this.queue.shift()!;
      const controller = new AbortController();
      const entry: Running = { controller, again: false, done: Promise.resolve() };
      entry.done = this.runBuild(buildId, controller.signal)
        .catch((error: unknown) => this.onError(buildId, error))
        // The error handler is the last resort: if it fails too, nothing is left to tell.
        .catch(() => undefined)
        .finally(() => {
          this.running.delete(buildId);
          if (entry.again) this.queue.unshift(buildId);
          this.pump();
        });
      this.running.set(buildId, entry);
    }
  }
}
