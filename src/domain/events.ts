/**
 * The build journal's vocabulary: every event type the executor emits and the shape of
 * its data. Clients receive these as `{seq, build_id, type, at, data}`.
 */
import type { ApprovalMode, GateName, StepName } from './build.js';
import type { IntentCoverage } from './coverage.js';
import type { AnnouncedEvent, DeliveryAttempt } from './notification.js';
import type { ErrorInfo } from './status.js';

interface StepRef {
  step: StepName;
  step_number: number;
}

/** A short form of the error, as build-level events carry it. */
export interface ErrorSummary {
  code: string;
  message: string;
}

export interface BuildEventData {
  'build.queued': { droplet_id: number; droplet_name: string; approval_mode: ApprovalMode };
  'build.started': { from_step: number };
  /** `requested_at`: when this wait began (its pending approval's), which tells one wait at a gate from a later one; journals before issue 11 lack it. */
  'build.waiting_approval': { gate: GateName; step_number: number; summary: string; requested_at?: string };
  'build.approved': { gate: GateName; step_number: number; feedback: string | null };
  'build.rejected': { gate: GateName; step_number: number; feedback: string | null };
  /** `step`/`step_number`: the step the cancel cut short, now `cancelled` (absent when none was running or waited at: a queued build). */
  'build.cancelled': Partial<StepRef> & { reason: string; gate?: GateName };
  'build.retried': { from_step: number };
  'build.resumed': { reason: string };
  'build.failed': Partial<StepRef> & { error: ErrorSummary };
  /** `intent_coverage`: what of the intent the droplet serves and does not (the SPEC step's reading), null when its author could not tell. */
  'build.completed': { deployment_url: string | null; repository_path: string | null; intent_coverage: IntentCoverage | null };
  'step.started': StepRef & { name: string };
  /** A line of progress; steps add fields of their own (attempt, model_call, checks…). */
  'step.progress': StepRef & { message: string } & Record<string, unknown>;
  'step.completed': StepRef & { duration_seconds: number; details: Record<string, unknown> };
  'step.skipped': StepRef & { duration_seconds: number; details: Record<string, unknown> };
  'step.failed': StepRef & { error: ErrorInfo };
  /**
   * One try at announcing the build on one channel, and where that leaves the delivery
   * (`pending`: retried at `next_attempt_at`). Journaled even after the build ended.
   */
  'notification.attempted': {
    delivery_id: string;
    channel: string;
    event: AnnouncedEvent;
    attempt: number;
    outcome: DeliveryAttempt['outcome'];
    detail: string;
    status: 'delivered' | 'pending' | 'failed';
    next_attempt_at: string | null;
  };
}

export type BuildEventType = keyof BuildEventData;

/** The events the announcer journals onto a build, whatever its status. */
export type NotificationEventType = Extract<BuildEventType, `notification.${string}`>;

/** An event before the journal gives it a `seq` and a time. */
export type EventDraft = { [T in BuildEventType]: { type: T; data: BuildEventData[T] } }[BuildEventType];

export type NotificationEventDraft = Extract<EventDraft, { type: NotificationEventType }>;

export type BuildEvent = {
  [T in BuildEventType]: {
    /** Monotonic across the whole journal; `after=SEQ` resumes from it. */
    seq: number;
    build_id: string;
    type: T;
    at: string;
    data: BuildEventData[T];
  };
}[BuildEventType];

/** Event types after which a build's stream closes (the build may still be retried later). */
export const TERMINAL_EVENT_TYPES = ['build.completed', 'build.failed', 'build.cancelled'] as const satisfies readonly BuildEventType[];
