/**
 * The seams a second store (PostgreSQL) plugs into: what the pipeline and the routes
 * ask of builds, steps, approvals and the journal, by intention. Every operation that
 * changes state checks the transition table and journals its events atomically with
 * the change; a change that lost a race throws ConflictError. Events reach the bus
 * only after they are committed.
 */
import type { BuildStatus, GateName } from '../build.js';
import type { BuildEvent, BuildEventType, NotificationEventDraft } from '../events.js';
import type { BuildLocations, BuildRecord, NewBuild, StepRecord } from '../records.js';
import type { ErrorInfo, PendingApproval } from '../status.js';
import type { ModelCallRecord, UsageFigures } from '../usage.js';

export interface StepOutcome {
  skipped: boolean;
  details: Record<string, unknown>;
  output: unknown;
  durationSeconds: number;
}

export interface GateDecision {
  approved: boolean;
  feedback: string | null;
  /** The gate the decider looked at: when set and the build waits elsewhere now, the decision is refused (ConflictError). */
  gate?: GateName;
  /** The wait the decider looked at (its `requested_at`): when set and the build waits in a later one, refused (ConflictError). */
  requestedAt?: string;
}

export interface RetryRequest {
  /** Default: the first unfinished step. */
  fromStep?: number;
  /** A new cap for the build, USD. */
  maxCostUsd?: number;
}

export interface BuildStore {
  /**
   * Inserts the build, its eight pending steps and `build.queued`. `idFor` is asked
   * again with a higher attempt until the id is free.
   * @throws ConflictError DROPLET_BUSY when the droplet has an unfinished build.
   */
  create(build: NewBuild, idFor: (attempt: number) => string): Promise<BuildRecord>;
  get(buildId: string): Promise<BuildRecord | null>;
  /** The steps in order; their `output` only when asked for. */
  steps(buildId: string, options?: { withOutput?: boolean }): Promise<StepRecord[]>;
  /** Changes whenever the build or its steps change, so readers can cache what they derive. */
  versionOf(buildId: string): Promise<number | null>;
  /** The build, its steps and their version, read together (one consistent state); null when unknown. */
  snapshot(buildId: string): Promise<{ build: BuildRecord; steps: StepRecord[]; version: number } | null>;
  listEvents(buildId: string, afterSeq: number): Promise<BuildEvent[]>;
  isApproved(buildId: string, stepNumber: number): Promise<boolean>;

  /** queued → in_progress (`build.started`); null when the build is not queued. */
  claim(buildId: string): Promise<BuildRecord | null>;
  /** in_progress → waiting_approval at a gate (`build.waiting_approval`). */
  awaitApproval(buildId: string, approval: PendingApproval): Promise<void>;
  /** Approves (→ queued) or rejects (→ cancelled) the gate a build waits at. */
  decide(buildId: string, decision: GateDecision): Promise<{ gate: GateName; approved: boolean }>;
  /** Any unfinished build → cancelled; its running step back to pending. */
  cancel(buildId: string): Promise<void>;
  /**
   * failed or cancelled → queued, its steps from `fromStep` on reset; answers the model
   * gave in steps that had finished are forgotten (they are asked afresh).
   * @returns the step it runs from.
   */
  retry(buildId: string, request: RetryRequest): Promise<number>;
  /** At start-up: builds left in_progress go back to queued; returns every queued build, oldest first. */
  resumeInterrupted(): Promise<string[]>;

  /** Step → in_progress (`step.started`); false when the build is no longer in progress. */
  startStep(buildId: string, stepNumber: number): Promise<boolean>;
  /** A `step.progress` event. */
  recordProgress(buildId: string, stepNumber: number, data: Record<string, unknown> & { message: string }): Promise<void>;
  /** A paid model call and its `step.progress` event, written even after a cancel. */
  recordModelCall(buildId: string, stepNumber: number, call: ModelCallRecord, data: Record<string, unknown> & { message: string }): Promise<void>;
  /** Step → completed or skipped with its details and output. @throws ConflictError when the build moved. */
  completeStep(buildId: string, stepNumber: number, outcome: StepOutcome): Promise<void>;
  /** Step → failed and build → failed, with the step's usage in its details. */
  failStep(buildId: string, stepNumber: number, error: ErrorInfo): Promise<void>;
  completeBuild(buildId: string): Promise<void>;
  /** The last resort when a runner crashed: in_progress → failed, a running step back to pending. */
  failBuild(buildId: string, error: ErrorInfo): Promise<void>;
  /** Only a running build moves: a step finishing after a cancel must not write onto it. */
  setLocations(buildId: string, locations: BuildLocations): Promise<void>;
  /**
   * Appends a `notification.*` event to the build's journal whatever its status (a failure
   * is announced after the build ended); it changes no state.
   */
  journalNotification(buildId: string, event: NotificationEventDraft): Promise<void>;
}

export interface ListBuildsQuery {
  limit: number;
  offset: number;
  status?: BuildStatus;
}

/** Read-only questions across builds: lists, counts, estimates, droplet ids and names. */
export interface BuildCatalog {
  /** One page of build ids, newest first (the status views come from the store, cached), and the total. */
  list(query: ListBuildsQuery): Promise<{ ids: string[]; total: number }>;
  countsByStatus(): Promise<Record<string, number>>;
  /** Working seconds (the sum of step durations) of the most recent completed builds. */
  recentDurations(limit: number): Promise<number[]>;
  maxDropletId(): Promise<number>;
  nameForDropletId(dropletId: number): Promise<string | null>;
  idForDropletName(name: string): Promise<number | null>;
  /** A queued or running build of the droplet (it may deploy at any moment), if any. */
  runningBuildOf(dropletId: number): Promise<string | null>;
  /**
   * Builds now in `status` whose latest `build.*` event is `type` (the event that put them
   * there), as that event, newest first: at most `limit`, none before `since` (ISO time).
   */
  latestBuildEvents(query: LatestBuildEventsQuery): Promise<BuildEvent[]>;
}

export interface LatestBuildEventsQuery {
  status: BuildStatus;
  type: BuildEventType;
  limit: number;
  since?: string;
}

/** Usage and the saved answers of a build's model calls. */
export interface ModelCallLedger {
  /** Totals for the build, or for one of its steps; null when no call was made. */
  usageOf(buildId: string, stepNumber?: number): Promise<UsageFigures | null>;
  savedResult(buildId: string, key: string): Promise<unknown>;
  saveResults(buildId: string, stepNumber: number, results: ReadonlyMap<string, unknown>): Promise<void>;
}

/** What the registry knows of droplets, for choosing and checking ids and names. */
export interface DropletDirectory {
  idForName(name: string): Promise<number | null>;
  nameForId(dropletId: number): Promise<string | null>;
  maxId(): Promise<number>;
}
