/** What the HTTP layer may ask of the pipeline. Nothing here knows about Fastify. */
import type { ApprovalLinkDecision } from '../domain/approval-link.js';
import type { ApprovalMode, GateName } from '../domain/build.js';
import type { BuildEvent } from '../domain/events.js';
import type { ListBuildsQuery } from '../domain/ports/build-store.js';
import type { BuildView } from '../domain/status.js';
import type { Deployment, DropletDeploymentView } from '../domain/deployment.js';
import type { DropletEvent } from '../domain/ports/droplet-journal.js';
import type { RegisteredDroplet } from '../domain/registration.js';

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
  /** A DEPLOY_HOSTS entry to deploy to. */
  deployHost?: string;
}

export interface ApprovalDecision {
  approved: boolean;
  feedback?: string;
  /** Decide only if the build still waits at this gate (a signed link names the one it decides). */
  gate?: GateName;
  /** Decide only the wait that began at this time (the pending approval's `requested_at`; a signed link names it). */
  requestedAt?: string;
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

/** A tracked file of a build's repository, at the build's latest commit. */
export interface BuildFileEntry {
  path: string;
  /** Bytes. */
  size: number;
}

/** One file's text; `content` is null for a binary file, cut at `FILE_TEXT_LIMIT` bytes when `truncated`. */
export interface BuildFileContent extends BuildFileEntry {
  commit: string;
  content: string | null;
  binary: boolean;
  truncated: boolean;
}

/** One repair commit of the verifier's test→repair loop, with its unified diff (capped). */
export interface RepairIteration {
  /** The verification attempt whose failure this repair answers. */
  attempt: number;
  commit: string;
  /** The commit's subject line. */
  message: string;
  files: string[];
  diff: string;
  truncated: boolean;
}

/** What the dashboard reads of a build's repository: only what git committed, never the working tree. */
export interface BuildFileService {
  /** `commit` is null (and `files` empty) while the build has committed nothing. @throws NotFoundError */
  list(buildId: string): Promise<{ commit: string | null; files: BuildFileEntry[] }>;
  /** Only paths the commit's tree lists are served. @throws NotFoundError for an unknown build or file */
  read(buildId: string, path: string): Promise<BuildFileContent>;
  /** Oldest first. @throws NotFoundError */
  repairs(buildId: string): Promise<RepairIteration[]>;
}

/** A droplet as the lifecycle API shows it: its registration, its deployment (with live health) and its journal. */
export interface DropletView {
  dropletId: number;
  name: string;
  registration: RegisteredDroplet | null;
  deployment: DropletDeploymentView | null;
  events: DropletEvent[];
}

export type DropletSummary = Omit<DropletView, 'events'>;

export interface DropletService {
  /** Registered droplets, each with its live deployment and health. */
  list(): Promise<DropletSummary[]>;
  /** @throws NotFoundError for a name no build ever used. */
  get(name: string): Promise<DropletView>;
  /** Each action: NotFoundError when not deployed, ConflictError (409) while a build of the droplet is queued or runs. */
  rollback(name: string, to?: string): Promise<Deployment>;
  stop(name: string): Promise<Deployment>;
  start(name: string): Promise<Deployment>;
  restart(name: string): Promise<Deployment>;
  /** Stops it, removes its releases, takes it out of the registry; its repository and builds stay. */
  undeploy(name: string): Promise<void>;
  logs(name: string, lines: number): Promise<string>;
}

/** What a signed approval link asks, as its confirmation page shows it. */
export interface ApprovalLinkPreview {
  buildId: string;
  dropletId: number;
  dropletName: string;
  architectIntent: string;
  gate: GateName;
  decision: ApprovalLinkDecision;
  /** What the approver is asked to look at (the pending approval's summary). */
  summary: string;
  requestedAt: string;
  /** ISO time after which the link is refused. */
  expiresAt: string;
}

/** One-click approval: what the approval pages may ask. Refusals are ApprovalLinkRefusedError. */
export interface ApprovalLinkRedeemer {
  /** Verifies the link and reads the wait it decides; changes nothing, consumes nothing. */
  inspect(token: string): Promise<ApprovalLinkPreview>;
  /** Verifies again, consumes the link (once, atomically) and approves or rejects its gate. */
  redeem(token: string, feedback?: string): Promise<{ preview: ApprovalLinkPreview; build: BuildView }>;
}
