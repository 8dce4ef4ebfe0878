/**
 * Runs one build's steps in order from its first unfinished one: stops at a gate
 * that is not yet approved, journals every start, finish and failure in the same
 * transaction as the state it reports, and gives up quietly when a cancel moved
 * the build under it.
 */
import type { Logger } from 'pino';
import { gateBefore, type StepName, STEP_LABELS } from '../domain/build.js';
import type { ErrorInfo } from '../domain/status.js';
import { AppError, asError, ConflictError, isAbortError } from '../domain/errors.js';
import type { BuildStore } from '../store/builds.js';
import type { ModelCallStore } from '../store/model-calls.js';
import { ANSWERS_KEPT_AFTER, createModelJournal } from './model-journal.js';
import { effectiveCap } from '../domain/usage.js';
import { STEPS } from './steps/index.js';
import type { Providers, StepContext, StepLimits } from './types.js';

export interface RunnerDeps {
  store: BuildStore;
  providers: Providers;
  limits: StepLimits;
  log: Logger;
  /** Secrets never reach the journal: messages, details and errors pass through these first. */
  redact: (text: string) => string;
  redactDeep: <T>(value: T) => T;
  modelCalls: ModelCallStore;
  /** MAX_BUILD_COST_USD; a build's own max_cost_usd can only lower it. */
  maxBuildCostUsd: number | null;
}

function errorInfo(error: unknown, redact: (text: string) => string): ErrorInfo {
  if (error instanceof AppError) {
    return { code: error.code, message: redact(error.message), details: JSON.parse(redact(JSON.stringify(error.details))) };
  }
  return { code: 'STEP_CRASHED', message: redact(asError(error).message), details: {} };
}

export function createRunner(deps: RunnerDeps) {
  const { store, providers, limits } = deps;

  return async function runBuild(buildId: string, signal: AbortSignal): Promise<void> {
    const initial = store.get(buildId);
    if (!initial || initial.status !== 'queued') return;
    const log = deps.log.child({ build_id: buildId });
    store.change(buildId, () => {
      store.setStatus(buildId, ['queued'], 'in_progress');
      return [{ type: 'build.started', data: { from_step: initial.currentStep } }];
    });

    const outputs = new Map<StepName, unknown>();
    for (const step of store.steps(buildId, { withOutput: true })) if (step.output !== null) outputs.set(step.name as StepName, step.output);

    for (const [index, step] of STEPS.entries()) {
      const stepNumber = index + 1;
      const stored = store.steps(buildId)[index]!;
      if (stored.status === 'completed' || stored.status === 'skipped') continue;
      const build = store.get(buildId)!;
      if (signal.aborted || build.status !== 'in_progress') return;

      const gate = gateBefore(build.approvalMode, stepNumber);
      if (gate && !store.isApproved(buildId, stepNumber)) {
        const summary = gate.name === 'after_spec'
          ? 'Review the SPEC (steps[1].details.spec) before the repository and code are written.'
          : `Review the verified droplet before it is deployed (${build.repositoryPath ?? 'repository'}).`;
        store.change(buildId, () => {
          store.setStatus(buildId, ['in_progress'], 'waiting_approval', {
            pending_approval: { gate: gate.name, step_number: stepNumber, requested_at: new Date().toISOString(), summary },
          });
          return [{ type: 'build.waiting_approval', data: { gate: gate.name, step_number: stepNumber, summary } }];
        });
        log.info({ gate: gate.name }, 'waiting for approval');
        return;
      }

      const startedAt = Date.now();
      try {
        store.change(buildId, () => {
          store.requireStatus(buildId, ['in_progress']);
          store.setStepStatus(buildId, stepNumber, ['pending', 'failed'], 'in_progress');
          return [{ type: 'step.started', data: { step: step.name, step_number: stepNumber, name: STEP_LABELS[step.name] } }];
        });
      } catch (error) {
        if (error instanceof ConflictError) return;
        throw error;
      }

      const progress: StepContext['progress'] = (message, data = {}) => {
        if (signal.aborted) return;
        store.change(buildId, () => [
          { type: 'step.progress', data: deps.redactDeep({ step: step.name, step_number: stepNumber, message, ...data }) },
        ]);
      };
      // Each step's details carry the model usage it caused, next to what the step itself reports.
      const withUsage = (details: Record<string, unknown>) => {
        const usage = deps.modelCalls.usageOf(buildId, stepNumber);
        return usage ? { ...details, usage } : details;
      };
      const calls = createModelJournal({
        calls: deps.modelCalls,
        buildId,
        stepNumber,
        capUsd: effectiveCap(deps.maxBuildCostUsd, build.maxCostUsd),
        // Paid for is paid for: the row and its event are written even after a cancel.
        recordCall: (call, message, data) =>
          store.change(buildId, () => {
            deps.modelCalls.record(buildId, stepNumber, deps.redactDeep(call));
            return [{ type: 'step.progress', data: deps.redactDeep({ step: step.name, step_number: stepNumber, message, ...data }) }];
          }),
      });
      const context: StepContext = {
        build,
        droplet: { dropletId: build.dropletId, name: build.dropletName },
        providers,
        limits,
        signal,
        log: log.child({ step: step.name }),
        outputOf: <T>(name: StepName) => outputs.get(name) as T | undefined,
        progress,
        calls,
        setBuildFields: (fields) => store.setBuildFields(buildId, fields),
      };

      try {
        const run = await step.run(context);
        calls.settle(true);
        if (signal.aborted) return;
        const result = { ...run, details: deps.redactDeep(withUsage(run.details)), output: deps.redactDeep(run.output) };
        const durationSeconds = Math.round((Date.now() - startedAt) / 10) / 100;
        store.change(buildId, () => {
          store.requireStatus(buildId, ['in_progress']);
          store.setStepStatus(buildId, stepNumber, ['in_progress'], result.skipped ? 'skipped' : 'completed', {
            details: result.details,
            output: result.output ?? null,
          });
          return [
            {
              type: result.skipped ? 'step.skipped' : 'step.completed',
              data: { step: step.name, step_number: stepNumber, duration_seconds: durationSeconds, details: result.details },
            },
          ];
        });
        if (result.output !== undefined) outputs.set(step.name, result.output);
      } catch (thrown) {
        // A cancel or an outage says nothing against the model's answers; anything else might.
        calls.settle(signal.aborted || isAbortError(thrown) || (thrown instanceof AppError && ANSWERS_KEPT_AFTER.has(thrown.code)));
        // Only the build's state says whether a cancel moved it: a step may throw a
        // ConflictError of its own (a registry clash) and that is a failure like any other.
        if (signal.aborted || store.get(buildId)?.status !== 'in_progress') return;
        if (isAbortError(thrown)) return;
        const error = errorInfo(thrown, deps.redact);
        log.warn({ step: step.name, code: error.code, err: error.message }, 'step failed');
        store.change(buildId, () => {
          const usage = deps.modelCalls.usageOf(buildId, stepNumber);
          store.setStepStatus(buildId, stepNumber, ['in_progress'], 'failed', { error, ...(usage ? { details: { usage } } : {}) });
          store.setStatus(buildId, ['in_progress'], 'failed', { error: { ...error, details: { step: step.name, step_number: stepNumber } } });
          return [
            { type: 'step.failed', data: { step: step.name, step_number: stepNumber, error } },
            { type: 'build.failed', data: { step: step.name, step_number: stepNumber, error: { code: error.code, message: error.message } } },
          ];
        });
        return;
      }
    }

    store.change(buildId, () => {
      const build = store.requireStatus(buildId, ['in_progress']);
      store.setStatus(buildId, ['in_progress'], 'completed');
      return [{ type: 'build.completed', data: { deployment_url: build.deploymentUrl, repository_path: build.repositoryPath } }];
    });
    log.info('build completed');
  };
}

/**
 * The last resort when a runner itself crashed (its failure could not be journaled):
 * a build left `in_progress` with no runner would otherwise hang until the next restart.
 */
export function failCrashedBuild(store: BuildStore, buildId: string, error: unknown, redact: (text: string) => string): void {
  try {
    store.change(buildId, () => {
      store.resetInProgressSteps(buildId);
      const info = { code: 'RUNNER_CRASHED', message: redact(asError(error).message), details: {} };
      store.setStatus(buildId, ['in_progress'], 'failed', { error: info });
      return [{ type: 'build.failed', data: { error: { code: info.code, message: info.message } } }];
    });
  } catch {
    // Not in progress any more (cancelled meanwhile): nothing to repair.
  }
}
