/**
 * Runs one build's steps in order from its first unfinished one: stops at a gate that
 * is not yet approved, has the store journal every start, finish and failure with the
 * state it reports, and gives up quietly when a cancel moved the build under it.
 */
import type { Logger } from 'pino';
import { gateBefore, type StepName } from '../domain/build.js';
import { traitsOf } from '../domain/error-codes.js';
import { AppError, asError, ConflictError, isAbortError } from '../domain/errors.js';
import type { BuildStore } from '../domain/ports/build-store.js';
import type { RunBuild } from '../domain/ports/queue.js';
import type { BuildRecord } from '../domain/records.js';
import type { ErrorInfo } from '../domain/status.js';
import { isFinishedStep } from '../domain/transitions.js';
import { createStepRun, runStep, type StepRun } from './step-context.js';
import { STEPS } from './steps/index.js';
import type { RunnerDeps, Step, StepResult } from './types.js';

type Verdict = 'next' | 'stop';

/** One run of one step, as the functions that journal its end see it. */
interface StepAttempt {
  build: BuildRecord;
  step: Step;
  stepNumber: number;
  run: StepRun;
  signal: AbortSignal;
  log: Logger;
  outputs: Map<StepName, unknown>;
  startedAt: number;
}

function errorInfo(error: unknown, redact: (text: string) => string): ErrorInfo {
  if (error instanceof AppError) {
    return { code: error.code, message: redact(error.message), details: JSON.parse(redact(JSON.stringify(error.details))) as ErrorInfo['details'] };
  }
  return { code: 'STEP_CRASHED', message: redact(asError(error).message), details: {} };
}

const GATE_SUMMARIES = {
  after_spec: () => 'Review the SPEC, its acceptance scenarios and its API operations (steps[1].details.spec, .scenarios, .operations) before the repository and code are written.',
  before_deploy: (build: BuildRecord) => `Review the verified droplet before it is deployed (${build.repositoryPath ?? 'repository'}).`,
};

async function loadOutputs(store: BuildStore, buildId: string): Promise<Map<StepName, unknown>> {
  const outputs = new Map<StepName, unknown>();
  for (const step of await store.steps(buildId, { withOutput: true })) if (step.output !== null) outputs.set(step.name, step.output);
  return outputs;
}

/** Ignores the ConflictError of a change that lost its race with a cancel: the build has moved on. */
async function unlessMoved(change: Promise<void>): Promise<Verdict> {
  try {
    await change;
    return 'next';
  } catch (error) {
    if (error instanceof ConflictError) return 'stop';
    throw error;
  }
}

export function createRunner(deps: RunnerDeps): RunBuild {
  const { store } = deps;

  /** A gate due before this step and not yet approved: the build waits there and the worker is released. */
  async function stopsAtGate(build: BuildRecord, stepNumber: number, log: Logger): Promise<boolean> {
    const gate = gateBefore(build.approvalMode, stepNumber);
    if (!gate || (await store.isApproved(build.id, stepNumber))) return false;
    const summary = GATE_SUMMARIES[gate.name](build);
    const approval = { gate: gate.name, step_number: stepNumber, requested_at: new Date().toISOString(), summary };
    // A cancel may land between the check above and this change: the build stops either way.
    if ((await unlessMoved(store.awaitApproval(build.id, approval))) === 'next') log.info({ gate: gate.name }, 'waiting for approval');
    return true;
  }

  async function succeed(attempt: StepAttempt, result: StepResult<unknown>): Promise<Verdict> {
    const { build, step, stepNumber, run, signal, outputs } = attempt;
    await run.calls.settle(true);
    if (signal.aborted) return 'stop';
    const usage = await deps.ledger.usageOf(build.id, stepNumber);
    // Each step's details carry the model usage it caused, next to what the step itself reports.
    const details = deps.redaction.redactDeep(usage ? { ...result.details, usage } : result.details);
    const output = deps.redaction.redactDeep(result.output);
    const durationSeconds = Math.round((Date.now() - attempt.startedAt) / 10) / 100;
    const outcome = { skipped: result.skipped === true, details, output: output ?? null, durationSeconds };
    const verdict = await unlessMoved(store.completeStep(build.id, stepNumber, outcome));
    if (verdict === 'next' && output !== undefined) outputs.set(step.name, output);
    return verdict;
  }

  async function fail(attempt: StepAttempt, thrown: unknown): Promise<Verdict> {
    const { build, step, stepNumber, run, signal } = attempt;
    // A cancel or an outage says nothing against the model's answers; anything else might.
    const keepAnswers = signal.aborted || isAbortError(thrown) || (thrown instanceof AppError && traitsOf(thrown.code).keepsAnswers === true);
    await run.calls.settle(keepAnswers);
    // Only the build's state says whether a cancel moved it: a step may throw a
    // ConflictError of its own (a registry clash) and that is a failure like any other.
    // An AbortError the build's own signal did not cause (a provider's timeout) is a failure, not a cancel.
    if (signal.aborted || (await store.get(build.id))?.status !== 'in_progress') return 'stop';
    const error = errorInfo(thrown, deps.redaction.redact);
    attempt.log.warn({ step: step.name, code: error.code, err: error.message }, 'step failed');
    await unlessMoved(store.failStep(build.id, stepNumber, error));
    return 'stop';
  }

  /** One step: skip it when done, stop at its gate, else start, run and journal it. */
  async function runStepAt(buildId: string, step: Step, stepNumber: number, outputs: Map<StepName, unknown>, signal: AbortSignal, log: Logger): Promise<Verdict> {
    const stored = (await store.steps(buildId))[stepNumber - 1]!;
    if (isFinishedStep(stored.status)) return 'next';
    const build = (await store.get(buildId))!;
    if (signal.aborted || build.status !== 'in_progress') return 'stop';
    if (await stopsAtGate(build, stepNumber, log)) return 'stop';
    if (!(await store.startStep(buildId, stepNumber))) return 'stop';

    const run = createStepRun({ ...deps, log }, build, step, outputs, signal);
    const attempt: StepAttempt = { build, step, stepNumber, run, signal, log, outputs, startedAt: Date.now() };
    try {
      const result = await runStep(step, run, outputs);
      await run.journal.flush();
      return await succeed(attempt, result);
    } catch (thrown) {
      await run.journal.flush().catch(() => undefined);
      return fail(attempt, thrown);
    }
  }

  return async function runBuild(buildId: string, signal: AbortSignal): Promise<void> {
    if (!(await store.claim(buildId))) return;
    const log = deps.log.child({ build_id: buildId });
    const outputs = await loadOutputs(store, buildId);
    for (const [index, step] of STEPS.entries()) {
      if ((await runStepAt(buildId, step, index + 1, outputs, signal, log)) === 'stop') return;
    }
    if ((await unlessMoved(store.completeBuild(buildId))) === 'next') log.info('build completed');
  };
}

/**
 * The last resort when a runner itself crashed (its failure could not be journaled):
 * a build left `in_progress` with no runner would otherwise hang until the next restart.
 */
export async function failCrashedBuild(store: BuildStore, buildId: string, error: unknown, redact: (text: string) => string): Promise<void> {
  try {
    await store.failBuild(buildId, { code: 'RUNNER_CRASHED', message: redact(asError(error).message), details: {} });
  } catch {
    // Not in progress any more (cancelled meanwhile): nothing to repair.
  }
}
