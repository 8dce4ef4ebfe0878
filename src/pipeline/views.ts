/** Store records → the status object clients see. */
import { STEP_COUNT, STEP_LABELS, stepNameAt } from '../domain/build.js';
import { coverageFrom, type IntentCoverage } from '../domain/coverage.js';
import { traitsOf } from '../domain/error-codes.js';
import type { BuildRecord, StepRecord } from '../domain/records.js';
import type { BuildError, BuildUsage, BuildView, ErrorInfo, StepView } from '../domain/status.js';
import { estimatedCompletion, type EstimateTiming } from './estimate.js';

function seconds(from: string | null, to: string | null): number | null {
  if (!from || !to) return null;
  return Math.round((Date.parse(to) - Date.parse(from)) / 10) / 100;
}

function toStepView(step: StepRecord): StepView {
  const { name } = step;
  return {
    step: name,
    step_number: step.stepNumber,
    name: STEP_LABELS[name],
    status: step.status,
    started_at: step.startedAt,
    completed_at: step.completedAt,
    duration_seconds: seconds(step.startedAt, step.completedAt),
    details: step.details,
    error: step.error,
  };
}

function filesCreated(steps: readonly StepRecord[]): string[] {
  const files = new Set<string>();
  for (const step of steps) {
    const listed = step.details.files;
    if (Array.isArray(listed)) for (const file of listed) if (typeof file === 'string') files.add(file);
  }
  return [...files];
}

/**
 * The SPEC step's reading of the intent: in its details once it is written, or in its
 * error when an auto build stopped because nothing of the intent was covered.
 */
function intentCoverage(steps: readonly StepRecord[]): IntentCoverage | null {
  const spec = steps.find((step) => step.name === 'spec_generation');
  if (!spec) return null;
  return coverageFrom(spec.details.intent_coverage) ?? coverageFrom(spec.error?.details.intent_coverage);
}

/** A build's error says whether POST …/retry can help. */
function buildError(error: ErrorInfo | null): BuildError | null {
  return error && { ...error, retryable: traitsOf(error.code).retryable };
}

export function toBuildView(build: BuildRecord, steps: readonly StepRecord[], usage: BuildUsage, timing: EstimateTiming = { now: new Date(), waitRounds: 0 }): BuildView {
  const done = steps.filter((step) => step.status === 'completed' || step.status === 'skipped').length;
  return {
    build_id: build.id,
    droplet_id: build.dropletId,
    droplet_name: build.dropletName,
    architect_intent: build.intent,
    approval_mode: build.approvalMode,
    auto_deploy: build.autoDeploy,
    notify_channels: build.notifyChannels,
    status: build.status,
    current_step: stepNameAt(build.currentStep),
    current_step_number: build.currentStep,
    progress_percent: Math.round((100 * done) / STEP_COUNT),
    created_at: build.createdAt,
    started_at: build.startedAt,
    estimated_completion: estimatedCompletion(build, steps, timing),
    completed_at: build.completedAt,
    steps: steps.map(toStepView),
    files_created: filesCreated(steps),
    repository_path: build.repositoryPath,
    repository_url: build.repositoryUrl,
    deployment_url: build.deploymentUrl,
    pending_approval: build.pendingApproval,
    error: buildError(build.error),
    usage,
    intent_coverage: intentCoverage(steps),
  };
}
