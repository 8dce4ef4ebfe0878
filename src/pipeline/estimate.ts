/**
 * When a build should be done. `estimatedSeconds` is the typical run time of recent
 * builds (the median of their steps' summed durations: queue and gate waits excluded),
 * so the time still to run is that, less what this build's finished steps took, and it
 * is counted from where the build is now, not from when it was submitted:
 * - queued: from now, after the builds ahead of it (each round of workers taking a
 *   typical build's time), then its own remaining run;
 * - waiting at a gate: from now, as if approved now;
 * - running: from when its current step started (or the last one ended);
 * - finished: when it finished.
 * Queued and waiting estimates move with the clock: readers render them per read.
 */
import type { BuildRecord, StepRecord } from '../domain/records.js';

export interface EstimateTiming {
  now: Date;
  /** Rounds of builds that must run before a queued one starts (BuildQueue.waitRounds). */
  waitRounds: number;
}

const isFinished = (step: StepRecord) => step.status === 'completed' || step.status === 'skipped';

function secondsOf(step: StepRecord): number {
  if (!step.startedAt || !step.completedAt) return 0;
  return Math.max(0, (Date.parse(step.completedAt) - Date.parse(step.startedAt)) / 1000);
}

/** The run time still ahead of the build, in seconds. */
export function remainingSeconds(build: BuildRecord, steps: readonly StepRecord[]): number {
  const done = steps.filter(isFinished).reduce((sum, step) => sum + secondsOf(step), 0);
  return Math.max(0, build.estimatedSeconds - done);
}

/** Where a running build's remaining time counts from: its current step's start, else the last step's end. */
function runningSince(build: BuildRecord, steps: readonly StepRecord[], now: Date): number {
  const current = steps.find((step) => step.status === 'in_progress');
  if (current?.startedAt) return Date.parse(current.startedAt);
  const ends = steps.map((step) => (step.completedAt ? Date.parse(step.completedAt) : 0));
  const last = Math.max(0, ...ends);
  return last > 0 ? last : Date.parse(build.startedAt ?? now.toISOString());
}

export function estimatedCompletion(build: BuildRecord, steps: readonly StepRecord[], timing: EstimateTiming): string {
  const remainingMs = remainingSeconds(build, steps) * 1000;
  const now = timing.now.getTime();
  switch (build.status) {
    case 'queued':
      return new Date(now + timing.waitRounds * build.estimatedSeconds * 1000 + remainingMs).toISOString();
    case 'waiting_approval':
      return new Date(now + remainingMs).toISOString();
    case 'in_progress':
      return new Date(runningSince(build, steps, timing.now) + remainingMs).toISOString();
    default:
      return build.completedAt ?? timing.now.toISOString();
  }
}

/** Statuses whose estimate moves with the clock (a cached view's is stale). */
export function estimateMovesWithClock(build: BuildRecord): boolean {
  return build.status === 'queued' || build.status === 'waiting_approval';
}
