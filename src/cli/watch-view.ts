/**
 * The live view of one build (listr2): the steps up to the next gate as tasks whose titles
 * carry their durations (and the verifier's attempts, repairs and acceptance results) and
 * whose output is the step's latest line; at a gate, the review and the question; at the
 * end, every step and the outcome.
 */
import { Listr, type ListrTask } from 'listr2';
import { type Gate, gatesFor, STEP_COUNT } from '../domain/build.js';
import type { BuildView } from '../domain/status.js';
import { buildPath, type ExecutorClient } from './client.js';
import { finalReport, stepTitle } from './format.js';
import { askDecision, gateReview, howToDecide } from './gate-prompt.js';
import { WatchTracker } from './watch-tracker.js';
import { isStepFinished, isTerminal, type WatchState } from './watch-state.js';

export interface WatchOptions {
  /** Ask at a gate (stdin and stdout are a terminal); otherwise say how to decide and wait. */
  interactive: boolean;
  print: (line: string) => void;
}

function firstUnfinished(state: WatchState): number {
  return state.steps.find((step) => !isStepFinished(step))?.number ?? STEP_COUNT + 1;
}

function waitingAtOrBefore(state: WatchState, stepNumber: number): boolean {
  return state.status === 'waiting_approval' && (state.pendingApproval?.step_number ?? Infinity) <= stepNumber;
}

function stepTask(tracker: WatchTracker, stepNumber: number): ListrTask {
  const current = () => tracker.state.steps[stepNumber - 1]!;
  return {
    title: stepTitle(current(), tracker.state.verifier),
    task: async (_context, task) => {
      const show = (state: WatchState) => {
        const step = state.steps[stepNumber - 1]!;
        task.title = stepTitle(step, state.verifier);
        if (step.latestLine) task.output = step.latestLine;
      };
      const off = tracker.onChange(show);
      try {
        const state = await tracker.until((s) => isStepFinished(s.steps[stepNumber - 1]!) || isTerminal(s) || waitingAtOrBefore(s, stepNumber));
        show(state);
        const step = current();
        if (step.status === 'failed' || (state.status === 'failed' && !isStepFinished(step))) {
          throw new Error(state.error ? `${state.error.code}: ${state.error.message}` : step.latestLine ?? 'failed');
        }
        if (step.status === 'skipped') task.skip(stepTitle(step, state.verifier));
        else if (!isStepFinished(step)) task.skip(`${stepTitle(step, state.verifier)} [${state.status === 'waiting_approval' ? 'waiting for approval' : state.status}]`);
      } finally {
        off();
      }
    },
  };
}

/** The next gate at or after step `from` that the build has not passed. */
function nextGate(state: WatchState, from: number): Gate | undefined {
  const passed = (gate: Gate) => state.approvals.some((approval) => approval.gate === gate.name && approval.stepNumber === gate.beforeStep);
  return gatesFor(state.approvalMode ?? 'auto').find((gate) => gate.beforeStep >= from && !passed(gate));
}

async function runSegment(tracker: WatchTracker, from: number, to: number): Promise<void> {
  const tasks: ListrTask[] = [];
  for (let step = from; step <= to; step += 1) tasks.push(stepTask(tracker, step));
  // A pseudo-terminal without a size (script, some CI runners) says 0 columns; listr2 would wrap every character.
  if (process.stdout.isTTY && !process.stdout.columns) process.stdout.columns = 100;
  const list = new Listr(tasks, { concurrent: false, exitOnError: true, rendererOptions: { collapseSkips: false } });
  // A failed step is reported by the final report and the exit code; the renderer has shown it.
  await list.run().catch(() => undefined);
}

async function decideAtGate(client: ExecutorClient, tracker: WatchTracker, options: WatchOptions): Promise<void> {
  const { buildId } = tracker.state;
  const view = await client.request<BuildView>(buildPath(buildId, '/status'));
  if (view.status !== 'waiting_approval') return;
  for (const line of gateReview(view)) options.print(line);
  const requestedAt = view.pending_approval?.requested_at;
  if (options.interactive) {
    const decision = await askDecision(process.stdin, process.stdout);
    await client.request(buildPath(buildId, '/approve'), { body: decision });
    options.print(decision.approved ? 'approved; continuing' : 'rejected');
  } else {
    options.print(howToDecide(buildId));
  }
  await tracker.until((s) => isTerminal(s) || s.status !== 'waiting_approval' || s.pendingApproval?.requested_at !== requestedAt);
}

/** Follows the build until it ends; answers its final state. */
export async function watchBuild(client: ExecutorClient, buildId: string, options: WatchOptions): Promise<WatchState> {
  const tracker = new WatchTracker(buildId);
  await tracker.start(client);
  while (!isTerminal(tracker.state) && !tracker.ended) {
    if (tracker.state.status === 'waiting_approval') {
      await decideAtGate(client, tracker, options);
      continue;
    }
    const from = firstUnfinished(tracker.state);
    const gate = nextGate(tracker.state, from);
    if (from > STEP_COUNT || gate?.beforeStep === from) {
      // Every step shown has finished: the gate is about to open, or the end to be journaled.
      await tracker.until((s) => isTerminal(s) || s.status === 'waiting_approval' || firstUnfinished(s) > from || nextGate(s, from) !== gate);
      continue;
    }
    const to = gate ? gate.beforeStep - 1 : STEP_COUNT;
    await runSegment(tracker, from, to);
    await tracker.until((s) => isTerminal(s) || s.status === 'waiting_approval' || firstUnfinished(s) > to);
  }
  const final = await client.request<BuildView>(buildPath(buildId, '/status'));
  tracker.apply({ type: 'snapshot', build: final });
  for (const line of finalReport(tracker.state)) options.print(line);
  return tracker.state;
}
