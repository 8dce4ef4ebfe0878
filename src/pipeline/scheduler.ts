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

  /** Stops taking work, aborts what runs and waits for it (graceful shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    const all = [...this.running.values()];
    for (const running of all) running.controller.abort();
    await Promise.all(all.map((running) => running.done));
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
