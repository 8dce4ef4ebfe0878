/**
 * What the watch view shows, folded from the build's stream: each step's status, duration
 * and latest line, the verifier's attempts and acceptance results, the cost, and where
 * the build stands. Pure: the same messages always give the same state.
 */
import { STEP_COUNT, STEP_LABELS, STEP_NAMES, type ApprovalMode, type BuildStatus, type GateName, type StepName, type StepStatus } from '../domain/build.js';
import type { ErrorSummary } from '../domain/events.js';
import type { BuildView, PendingApproval } from '../domain/status.js';
import type { StreamMessage } from './stream.js';

export interface StepState {
  step: StepName;
  number: number;
  label: string;
  /** `cancelled` for the step a cancel stopped (the domain's STEP_STATUSES gains it). */
  status: StepStatus | 'cancelled';
  durationSeconds: number | null;
  latestLine: string | null;
}

export interface AcceptanceResult {
  name: string;
  passed: boolean;
}

export interface VerifierState {
  /** The attempt running or last run (1-based); 0 before the verifier starts. */
  attempt: number;
  /** Repairs made between attempts. */
  repairs: number;
  lastPassed: boolean | null;
  acceptance: AcceptanceResult[];
}

export interface WatchState {
  buildId: string;
  status: BuildStatus | null;
  approvalMode: ApprovalMode | null;
  /** The gates approved since the build (or its last retry) passed them. */
  approvals: { gate: GateName; stepNumber: number }[];
  steps: StepState[];
  verifier: VerifierState;
  /** What the status view said the model calls cost, and what the journal's model calls add up to. */
  snapshotCostUsd: number;
  eventCostUsd: number;
  pendingApproval: PendingApproval | null;
  error: ErrorSummary | null;
  deploymentUrl: string | null;
  lastSeq: number;
}

const FINISHED: readonly string[] = ['completed', 'skipped', 'failed', 'cancelled'];

export function isStepFinished(step: StepState): boolean {
  return FINISHED.includes(step.status);
}

export function initialState(buildId: string): WatchState {
  return {
    buildId,
    status: null,
    approvalMode: null,
    approvals: [],
    steps: STEP_NAMES.map((step, index) => ({ step, number: index + 1, label: STEP_LABELS[step], status: 'pending', durationSeconds: null, latestLine: null })),
    verifier: { attempt: 0, repairs: 0, lastPassed: null, acceptance: [] },
    snapshotCostUsd: 0,
    eventCostUsd: 0,
    pendingApproval: null,
    error: null,
    deploymentUrl: null,
    lastSeq: 0,
  };
}

function withStep(state: WatchState, stepNumber: number, change: Partial<StepState>): WatchState {
  if (stepNumber < 1 || stepNumber > STEP_COUNT) return state;
  return { ...state, steps: state.steps.map((step) => (step.number === stepNumber ? { ...step, ...change } : step)) };
}

function fromSnapshot(state: WatchState, view: BuildView): WatchState {
  return {
    ...state,
    status: view.status,
    approvalMode: view.approval_mode,
    steps: view.steps.map((step) => ({
      step: step.step,
      number: step.step_number,
      label: step.name,
      status: step.status,
      durationSeconds: step.duration_seconds,
      latestLine: state.steps[step.step_number - 1]?.latestLine ?? null,
    })),
    snapshotCostUsd: view.usage.cost_usd,
    pendingApproval: view.pending_approval,
    error: view.error && { code: view.error.code, message: view.error.message },
    deploymentUrl: view.deployment_url,
  };
}

function acceptanceOf(value: unknown): AcceptanceResult[] | null {
  if (!Array.isArray(value)) return null;
  return value.map((entry: { name?: unknown; passed?: unknown }) => ({ name: typeof entry.name === 'string' ? entry.name : '?', passed: entry.passed === true }));
}

/** A verifier progress line may say which attempt runs, how it ended, and what acceptance said. */
function verifierProgress(verifier: VerifierState, data: Record<string, unknown>, message: string): VerifierState {
  const next = { ...verifier };
  if (typeof data.attempt === 'number' && data.attempt > next.attempt) next.attempt = data.attempt;
  if (typeof data.passed === 'boolean') next.lastPassed = data.passed;
  const acceptance = acceptanceOf(data.acceptance);
  if (acceptance) next.acceptance = acceptance;
  if (/^repair after attempt \d+ changed/.test(message)) next.repairs += 1;
  return next;
}

function modelCost(data: Record<string, unknown>): number {
  const call = data.model_call as { cost_usd?: unknown } | undefined;
  return typeof call?.cost_usd === 'number' ? call.cost_usd : 0;
}

/** A cancel stops the step that was running; the steps never reached stay pending. */
function stoppedSteps(state: WatchState): WatchState {
  return { ...state, steps: state.steps.map((step) => (step.status === 'in_progress' ? { ...step, status: 'cancelled' } : step)) };
}

function fromEvent(state: WatchState, event: Exclude<StreamMessage, { type: 'snapshot' }>): WatchState {
  const next = { ...state, lastSeq: Math.max(state.lastSeq, event.seq) };
  switch (event.type) {
    case 'build.queued':
      return { ...next, status: 'queued', approvalMode: event.data.approval_mode };
    case 'build.retried':
      return { ...next, status: 'queued', error: null, approvals: next.approvals.filter((approval) => approval.stepNumber < event.data.from_step) };
    case 'build.approved':
      return { ...next, status: 'in_progress', pendingApproval: null, approvals: [...next.approvals, { gate: event.data.gate, stepNumber: event.data.step_number }] };
    case 'build.started':
    case 'build.resumed':
      return { ...next, status: 'in_progress', pendingApproval: null, error: null };
    case 'build.waiting_approval':
      return { ...next, status: 'waiting_approval', pendingApproval: { gate: event.data.gate, step_number: event.data.step_number, summary: event.data.summary, requested_at: event.data.requested_at ?? event.at } };
    case 'build.rejected':
      return { ...next, pendingApproval: null, error: { code: 'REJECTED', message: event.data.feedback ?? 'rejected at the gate' } };
    case 'build.cancelled':
      return { ...stoppedSteps(next), status: 'cancelled', pendingApproval: null, error: next.error ?? { code: 'CANCELLED', message: event.data.reason } };
    case 'build.failed':
      return { ...next, status: 'failed', error: event.data.error };
    case 'build.completed':
      return { ...next, status: 'completed', deploymentUrl: event.data.deployment_url };
    case 'step.started':
      return withStep(next, event.data.step_number, { status: 'in_progress', latestLine: null, durationSeconds: null });
    case 'step.progress': {
      const stepped = withStep(next, event.data.step_number, { latestLine: event.data.message });
      const eventCostUsd = stepped.eventCostUsd + modelCost(event.data);
      const verifier = event.data.step === 'verifier' ? verifierProgress(stepped.verifier, event.data, event.data.message) : stepped.verifier;
      return { ...stepped, eventCostUsd, verifier };
    }
    case 'step.completed':
      return withStep(next, event.data.step_number, { status: 'completed', durationSeconds: event.data.duration_seconds });
    case 'step.skipped':
      return withStep(next, event.data.step_number, { status: 'skipped', durationSeconds: event.data.duration_seconds });
    case 'step.failed':
      return withStep(next, event.data.step_number, { status: 'failed', latestLine: `${event.data.error.code}: ${event.data.error.message}` });
    default:
      return next;
  }
}

export function applyMessage(state: WatchState, message: StreamMessage): WatchState {
  return message.type === 'snapshot' ? fromSnapshot(state, message.build) : fromEvent(state, message);
}

export function isTerminal(state: WatchState): boolean {
  return state.status === 'completed' || state.status === 'failed' || state.status === 'cancelled';
}

/** The build's model spending so far, USD. */
export function costOf(state: WatchState): number {
  return Math.max(state.snapshotCostUsd, state.eventCostUsd);
}
