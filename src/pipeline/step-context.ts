/**
 * What a step is handed: its prerequisites (checked here, with one error), a progress
 * journal that keeps events in order, the model-call ledger and the document helper.
 */
import { type StepName, stepNumberOf } from '../domain/build.js';
import { StepError } from '../domain/errors.js';
import type { BuildRecord } from '../domain/records.js';
import { effectiveCap } from '../domain/usage.js';
import { createModelJournal, type StepModelJournal } from './model-journal.js';
import type { ProgressData, RunnerDeps, Step, StepContext, StepResult } from './types.js';

/** Journal writes of one step, one after another; the step's end waits for them. */
export class StepJournal {
  private tail: Promise<void> = Promise.resolve();
  private failure: unknown;

  /** Queues a write; the promise settles when it has been written. */
  write(action: () => Promise<void>): Promise<void> {
    const written = this.tail.then(action);
    this.tail = written.catch((error: unknown) => {
      this.failure ??= error;
    });
    return written;
  }

  /** Waits for every queued write; throws the first that failed. */
  async flush(): Promise<void> {
    await this.tail;
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows the failed write's rejection reason unchanged
    if (this.failure !== undefined) throw this.failure;
  }
}

export interface StepRun {
  context: StepContext<StepName, StepName>;
  calls: StepModelJournal;
  journal: StepJournal;
}

/** The earlier outputs a step needs but that are missing, as one error naming where to retry from. */
function missingPrerequisites(step: Step, outputs: ReadonlyMap<StepName, unknown>): StepError | null {
  const missing = step.needs.filter((name) => !outputs.has(name));
  if (missing.length === 0) return null;
  const from = Math.min(...missing.map(stepNumberOf));
  return new StepError(
    'MISSING_PRIOR_OUTPUT',
    `Step ${step.name} needs what ${missing.join(' and ')} saved, and it is not there; retry from step ${from}.`,
    { missing, retry_from_step: from },
  );
}

function outputsNamed(names: readonly StepName[], outputs: ReadonlyMap<StepName, unknown>): Record<string, unknown> {
  return Object.fromEntries(names.filter((name) => outputs.has(name)).map((name) => [name, outputs.get(name)]));
}

export function createStepRun(
  deps: RunnerDeps,
  build: BuildRecord,
  step: Step,
  outputs: ReadonlyMap<StepName, unknown>,
  signal: AbortSignal,
): StepRun {
  const { store, redaction } = deps;
  const stepNumber = stepNumberOf(step.name);
  const journal = new StepJournal();
  const progressEvent = (message: string, data: ProgressData) => redaction.redactDeep({ message, ...data });
  const calls = createModelJournal({
    ledger: deps.ledger,
    buildId: build.id,
    stepNumber,
    capUsd: effectiveCap(deps.maxBuildCostUsd, build.maxCostUsd),
    // Paid for is paid for: the row and its event are written even after a cancel.
    recordCall: (call, message, data) =>
      journal.write(() => store.recordModelCall(build.id, stepNumber, redaction.redactDeep(call), progressEvent(message, data))),
  });
  const droplet = { dropletId: build.dropletId, name: build.dropletName };
  const context: StepContext<StepName, StepName> = {
    build,
    droplet,
    providers: deps.providers,
    limits: deps.limits,
    signal,
    log: deps.log.child({ step: step.name }),
    needs: outputsNamed(step.needs, outputs) as StepContext<StepName, StepName>['needs'],
    uses: outputsNamed(step.uses, outputs),
    progress(message, data = {}) {
      if (signal.aborted) return;
      // Checked again when the write's turn comes: nothing but paid model calls is journaled after a cancel.
      void journal.write(async () => {
        if (!signal.aborted) await store.recordProgress(build.id, stepNumber, progressEvent(message, data));
      });
    },
    calls,
    setLocations: (locations) => store.setLocations(build.id, locations),
    recordDocument: (path, content, message) =>
      deps.providers.workspace.repoFor(droplet).commitChanges([{ kind: 'write', path, content }], message, { step: step.name, buildId: build.id }),
    events: () => store.listEvents(build.id, 0),
    usage: () => deps.ledger.usageOf(build.id),
  };
  return { context, calls, journal };
}

/** Runs the step once its prerequisites are there. */
export async function runStep(step: Step, run: StepRun, outputs: ReadonlyMap<StepName, unknown>): Promise<StepResult<unknown>> {
  const reason = step.skip?.(run.context.build, run.context.providers) ?? null;
  if (reason !== null) return { skipped: true, details: { reason } };
  const missing = missingPrerequisites(step, outputs);
  if (missing) throw missing;
  return step.run(run.context);
}
