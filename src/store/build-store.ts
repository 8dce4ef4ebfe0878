/**
 * The BuildStore port on SQLite: each intention-named operation is one synchronous
 * transaction over the build tables (state, approvals, model answers and journal
 * together), answered as a promise so the pipeline does not care which store it has.
 */
import { STEP_LABELS, stepNameAt } from '../domain/build.js';
import { coverageFrom } from '../domain/coverage.js';
import { ConflictError } from '../domain/errors.js';
import type { BuildEvent, NotificationEventDraft } from '../domain/events.js';
import type { BuildStore, GateDecision, RetryRequest, StepOutcome } from '../domain/ports/build-store.js';
import type { BuildLocations, BuildRecord, NewBuild, StepRecord } from '../domain/records.js';
import type { ErrorInfo, PendingApproval } from '../domain/status.js';
import { isFinishedStep } from '../domain/transitions.js';
import type { ModelCallRecord } from '../domain/usage.js';
import { BuildTables } from './build-tables.js';
import type { Db } from './db.js';
import type { ModelCallStore } from './model-calls.js';

const stepRef = (stepNumber: number) => ({ step: stepNameAt(stepNumber), step_number: stepNumber });

/**
 * Checked inside the decision's transaction: the build may have moved to another gate, or
 * on to a later wait at the same gate, since the decider looked.
 */
function refuseUnlessDecidedWait(buildId: string, pending: PendingApproval, decision: GateDecision): void {
  if (decision.gate && decision.gate !== pending.gate) {
    throw new ConflictError(`Build ${buildId} waits at the ${pending.gate} gate, not the ${decision.gate} gate this decision is for.`, {
      gate: decision.gate,
      waiting_gate: pending.gate,
    });
  }
  if (decision.requestedAt && Date.parse(decision.requestedAt) !== Date.parse(pending.requested_at)) {
    throw new ConflictError(`Build ${buildId} waits at the ${pending.gate} gate since ${pending.requested_at}, not in the wait from ${decision.requestedAt} this decision is for.`, {
      requested_at: decision.requestedAt,
      waiting_since: pending.requested_at,
    });
  }
}

export class SqliteBuildStore implements BuildStore {
  readonly tables: BuildTables;

  constructor(
    db: Db,
    publish: (event: BuildEvent) => void,
    private readonly modelCalls: ModelCallStore,
  ) {
    this.tables = new BuildTables(db, publish);
  }

  async create(build: NewBuild, idFor: (attempt: number) => string): Promise<BuildRecord> {
    const { tables } = this;
    const firstEvent = {
      type: 'build.queued' as const,
      data: { droplet_id: build.dropletId, droplet_name: build.dropletName, approval_mode: build.approvalMode },
    };
    return tables.insert(build, idFor, firstEvent, () => this.assertDropletIdle(build.dropletId));
  }

  async get(buildId: string): Promise<BuildRecord | null> {
    return this.tables.get(buildId);
  }

  async steps(buildId: string, options: { withOutput?: boolean } = {}): Promise<StepRecord[]> {
    return this.tables.steps(buildId, options);
  }

  async versionOf(buildId: string): Promise<number | null> {
    return this.tables.versionOf(buildId) ?? (this.tables.get(buildId) ? this.tables.ensureVersion(buildId) : null);
  }

  async snapshot(buildId: string): Promise<{ build: BuildRecord; steps: StepRecord[]; version: number } | null> {
    // Synchronous reads on one connection: no change lands between them.
    const build = this.tables.get(buildId);
    return build && { build, steps: this.tables.steps(buildId), version: this.tables.ensureVersion(buildId) };
  }

  async listEvents(buildId: string, afterSeq: number): Promise<BuildEvent[]> {
    return this.tables.journal.list(buildId, afterSeq);
  }

  async isApproved(buildId: string, stepNumber: number): Promise<boolean> {
    return this.tables.isApproved(buildId, stepNumber);
  }

  async claim(buildId: string): Promise<BuildRecord | null> {
    const { tables } = this;
    const build = tables.get(buildId);
    if (!build || build.status !== 'queued') return null;
    try {
      tables.change(buildId, () => {
        tables.move(buildId, 'claim');
        // Where this run starts: after an approval that is the gated step, not the last one started.
        const from = tables.steps(buildId).find((step) => !isFinishedStep(step.status))?.stepNumber ?? build.currentStep;
        return [{ type: 'build.started', data: { from_step: from } }];
      });
    } catch (error) {
      if (error instanceof ConflictError) return null;
      throw error;
    }
    return tables.get(buildId);
  }

  async awaitApproval(buildId: string, approval: PendingApproval): Promise<void> {
    const { tables } = this;
    tables.change(buildId, () => {
      tables.move(buildId, 'awaitApproval', { pending_approval: approval });
      return [{ type: 'build.waiting_approval', data: { gate: approval.gate, step_number: approval.step_number, summary: approval.summary, requested_at: approval.requested_at } }];
    });
  }

  async decide(buildId: string, decision: GateDecision): Promise<{ gate: PendingApproval['gate']; approved: boolean }> {
    const { tables } = this;
    let gateName: PendingApproval['gate'] = 'before_deploy';
    tables.change(buildId, () => {
      const build = tables.requireMovable(buildId, decision.approved ? 'approve' : 'reject');
      const gate = build.pendingApproval!;
      refuseUnlessDecidedWait(buildId, gate, decision);
      gateName = gate.gate;
      const { feedback } = decision;
      tables.recordApproval(buildId, gate.gate, gate.step_number, decision.approved, feedback);
      if (decision.approved) {
        tables.move(buildId, 'approve');
        return [{ type: 'build.approved', data: { gate: gate.gate, step_number: gate.step_number, feedback } }];
      }
      // A retry must ask the model afresh, not replay what was just rejected.
      this.modelCalls.forgetResults(buildId);
      const error = { code: 'REJECTED', message: `Rejected at the ${gate.gate} gate.`, details: { feedback } };
      tables.move(buildId, 'reject', { error });
      this.cancelStepCutShort(build, error);
      return [
        { type: 'build.rejected', data: { gate: gate.gate, step_number: gate.step_number, feedback } },
        { type: 'build.cancelled', data: { reason: 'rejected', gate: gate.gate, ...stepRef(gate.step_number) } },
      ];
    });
    return { gate: gateName, approved: decision.approved };
  }

  async cancel(buildId: string): Promise<void> {
    const { tables } = this;
    tables.change(buildId, () => {
      const build = tables.requireMovable(buildId, 'cancel');
      const error = { code: 'CANCELLED', message: 'The build was cancelled.', details: {} };
      tables.move(buildId, 'cancel', { error });
      const cut = this.cancelStepCutShort(build, error);
      return [{ type: 'build.cancelled', data: { reason: 'cancelled by request', ...(cut === null ? {} : stepRef(cut)) } }];
    });
  }

  async retry(buildId: string, request: RetryRequest): Promise<number> {
    const { tables } = this;
    let from = 0;
    tables.change(buildId, () => {
      const build = tables.requireMovable(buildId, 'retry');
      this.assertDropletIdle(build.dropletId, buildId);
      const steps = tables.steps(buildId);
      const limit = steps.find((step) => !isFinishedStep(step.status))?.stepNumber ?? steps.length;
      from = request.fromStep ?? limit;
      if (from > limit) {
        throw new ConflictError(`Step ${limit} has not finished; retry from step ${limit} or earlier.`, { first_unfinished_step: limit });
      }
      // Steps that finished and are asked to run again want new answers; the failed step resumes with its saved ones.
      const redone = steps.filter((step) => step.stepNumber >= from && isFinishedStep(step.status));
      this.modelCalls.forgetResults(buildId, redone.map((step) => step.stepNumber));
      tables.resetStepsFrom(buildId, from);
      if (request.maxCostUsd !== undefined) tables.setMaxCost(buildId, request.maxCostUsd);
      tables.move(buildId, 'retry');
      return [{ type: 'build.retried', data: { from_step: from } }];
    });
    return from;
  }

  async resumeInterrupted(): Promise<string[]> {
    const { tables } = this;
    for (const id of tables.idsWithStatus(['in_progress'])) {
      tables.change(id, () => {
        tables.resetInProgressSteps(id);
        tables.move(id, 'resume');
        return [{ type: 'build.resumed', data: { reason: 'executor restarted' } }];
      });
    }
    return tables.idsWithStatus(['queued']);
  }

  async startStep(buildId: string, stepNumber: number): Promise<boolean> {
    const { tables } = this;
    try {
      tables.change(buildId, () => {
        tables.requireMovable(buildId, 'complete');
        tables.moveStep(buildId, stepNumber, 'start');
        return [{ type: 'step.started', data: { ...stepRef(stepNumber), name: STEP_LABELS[stepNameAt(stepNumber)] } }];
      });
      return true;
    } catch (error) {
      if (error instanceof ConflictError) return false;
      throw error;
    }
  }

  async recordProgress(buildId: string, stepNumber: number, data: Record<string, unknown> & { message: string }): Promise<void> {
    this.tables.change(buildId, () => [{ type: 'step.progress', data: { ...stepRef(stepNumber), ...data } }]);
  }

  async recordModelCall(buildId: string, stepNumber: number, call: ModelCallRecord, data: Record<string, unknown> & { message: string }): Promise<void> {
    this.tables.change(buildId, () => {
      this.modelCalls.record(buildId, stepNumber, call);
      return [{ type: 'step.progress', data: { ...stepRef(stepNumber), ...data } }];
    });
  }

  async completeStep(buildId: string, stepNumber: number, outcome: StepOutcome): Promise<void> {
    const { tables } = this;
    tables.change(buildId, () => {
      tables.requireMovable(buildId, 'complete');
      tables.moveStep(buildId, stepNumber, outcome.skipped ? 'skip' : 'complete', { details: outcome.details, output: outcome.output ?? null });
      const data = { ...stepRef(stepNumber), duration_seconds: outcome.durationSeconds, details: outcome.details };
      return [outcome.skipped ? { type: 'step.skipped', data } : { type: 'step.completed', data }];
    });
  }

  async failStep(buildId: string, stepNumber: number, error: ErrorInfo): Promise<void> {
    const { tables } = this;
    tables.change(buildId, () => {
      const usage = this.modelCalls.usageOf(buildId, stepNumber);
      tables.moveStep(buildId, stepNumber, 'fail', { error, ...(usage ? { details: { usage } } : {}) });
      tables.move(buildId, 'fail', { error: { ...error, details: stepRef(stepNumber) } });
      return [
        { type: 'step.failed', data: { ...stepRef(stepNumber), error } },
        { type: 'build.failed', data: { ...stepRef(stepNumber), error: { code: error.code, message: error.message } } },
      ];
    });
  }

  async completeBuild(buildId: string): Promise<void> {
    const { tables } = this;
    tables.change(buildId, () => {
      const build = tables.requireMovable(buildId, 'complete');
      tables.move(buildId, 'complete');
      const spec = tables.steps(buildId).find((step) => step.name === 'spec_generation');
      const coverage = coverageFrom(spec?.details.intent_coverage);
      return [{ type: 'build.completed', data: { deployment_url: build.deploymentUrl, repository_path: build.repositoryPath, intent_coverage: coverage } }];
    });
  }

  async failBuild(buildId: string, error: ErrorInfo): Promise<void> {
    const { tables } = this;
    tables.change(buildId, () => {
      tables.resetInProgressSteps(buildId);
      tables.move(buildId, 'fail', { error });
      return [{ type: 'build.failed', data: { error: { code: error.code, message: error.message } } }];
    });
  }

  async setLocations(buildId: string, locations: BuildLocations): Promise<void> {
    this.tables.setLocations(buildId, locations);
  }

  async journalNotification(buildId: string, event: NotificationEventDraft): Promise<void> {
    this.journalNotificationNow(buildId, event);
  }

  /** The same, synchronously: for a caller that journals inside its own transaction (the outbox's attempts). */
  journalNotificationNow(buildId: string, event: NotificationEventDraft): void {
    this.tables.change(buildId, () => [event]);
  }

  /**
   * Inside a cancel or a reject: the step it cut short (the running one, or the gate's step
   * the build waited at) becomes `cancelled` with the build's error and the model usage it
   * caused; steps never reached stay pending. Answers that step, null when there was none
   * (a queued build, or one between two steps).
   */
  private cancelStepCutShort(before: BuildRecord, error: ErrorInfo): number | null {
    const { tables } = this;
    const stepNumber = before.status === 'waiting_approval' ? (before.pendingApproval?.step_number ?? null) : tables.stepInProgress(before.id);
    if (stepNumber === null) return null;
    const usage = this.modelCalls.usageOf(before.id, stepNumber);
    tables.moveStep(before.id, stepNumber, 'cancel', { error, ...(usage ? { details: { usage } } : {}) });
    return stepNumber;
  }

  /** One unfinished build per droplet: they would share (and rewrite) one repository. */
  private assertDropletIdle(dropletId: number, exceptBuildId?: string): void {
    const busy = this.tables.unfinishedBuildOf(dropletId, exceptBuildId);
    if (busy) {
      throw new ConflictError(`Droplet ${dropletId} already has an unfinished build, ${busy}; cancel it or wait.`, { build_id: busy }, 'DROPLET_BUSY');
    }
  }
}
