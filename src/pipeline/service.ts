/** What the HTTP layer may ask of the pipeline. Nothing here knows about Fastify. */
import type { ApprovalMode } from '../domain/build.js';
import type { BuildEvent } from '../domain/events.js';
import type { ListBuildsQuery } from '../domain/ports/build-store.js';
import type { BuildView } from '../domain/status.js';

export type { ListBuildsQuery };

export interface SubmitBuildInput {
  architectIntent: string;
  dropletId?: number;
  dropletName?: string;
  approvalMode: ApprovalMode;
  autoDeploy: boolean;
  notifyChannels?: string[];
  /** This build's cost cap, USD (at most MAX_BUILD_COST_USD). */
  maxCostUsd?: number;
}

export interface ApprovalDecision {
  approved: boolean;
  feedback?: string;
}

export type EventListener = (event: BuildEvent) => void;

export interface BuildService {
  /** Validates ids and names against the registry and earlier builds; queues the build. */
  submit(input: SubmitBuildInput): Promise<BuildView>;
  /** @throws NotFoundError */
  get(buildId: string): Promise<BuildView>;
  list(query: ListBuildsQuery): Promise<{ builds: BuildView[]; total: number }>;
  /** Journal entries after `afterSeq`, oldest first. @throws NotFoundError */
  events(buildId: string, afterSeq: number): Promise<BuildEvent[]>;
  /** Only while `waiting_approval`, else ConflictError. Reject cancels the build. */
  approve(buildId: string, decision: ApprovalDecision): Promise<BuildView>;
  /** Aborts running work and waits until its child processes are gone. ConflictError when finished. */
  cancel(buildId: string): Promise<BuildView>;
  /** Re-runs a failed or cancelled build from `fromStep` (default: its first unfinished step). */
  retry(buildId: string, fromStep?: number, maxCostUsd?: number): Promise<BuildView>;
  /** Live events for one build, after they are committed. Returns the unsubscribe function. */
  subscribe(buildId: string, listener: EventListener): () => void;
}
