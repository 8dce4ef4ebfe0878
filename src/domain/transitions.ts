/**
 * The build and step state machines as one table each. The store applies a transition
 * only while the build (or step) is in one of its `from` states, so a change that lost
 * a race (a cancel landing as a step finishes) is refused as a conflict.
 */
import type { BuildStatus, StepStatus } from './build.js';

interface Transition<S> {
  readonly from: readonly S[];
  readonly to: S;
}

const UNFINISHED: readonly BuildStatus[] = ['queued', 'in_progress', 'waiting_approval'];

export const BUILD_TRANSITIONS = {
  /** A worker takes a queued build. */
  claim: { from: ['queued'], to: 'in_progress' },
  /** A gate is due and not yet approved. */
  awaitApproval: { from: ['in_progress'], to: 'waiting_approval' },
  approve: { from: ['waiting_approval'], to: 'queued' },
  reject: { from: ['waiting_approval'], to: 'cancelled' },
  cancel: { from: UNFINISHED, to: 'cancelled' },
  fail: { from: ['in_progress'], to: 'failed' },
  complete: { from: ['in_progress'], to: 'completed' },
  retry: { from: ['failed', 'cancelled'], to: 'queued' },
  /** At start-up: a build whose executor died mid-step goes back to the queue. */
  resume: { from: ['in_progress'], to: 'queued' },
} as const satisfies Record<string, Transition<BuildStatus>>;

export type BuildTransition = keyof typeof BUILD_TRANSITIONS;

export const STEP_TRANSITIONS = {
  /** A failed or cancelled step runs again when its build is retried or resumed. */
  start: { from: ['pending', 'failed', 'cancelled'], to: 'in_progress' },
  complete: { from: ['in_progress'], to: 'completed' },
  skip: { from: ['in_progress'], to: 'skipped' },
  fail: { from: ['in_progress'], to: 'failed' },
  /** A step cut short by a crash (or a restart) goes back to pending: it resumes. */
  interrupt: { from: ['in_progress'], to: 'pending' },
  /** The step a cancel (or a reject) cut short: the running one, or the gate's step the build waited at. */
  cancel: { from: ['in_progress', 'pending'], to: 'cancelled' },
} as const satisfies Record<string, Transition<StepStatus>>;

export type StepTransition = keyof typeof STEP_TRANSITIONS;

export function isFinishedStep(status: StepStatus): boolean {
  return status === 'completed' || status === 'skipped';
}
