/**
 * The contract every step implements, and what the runner hands it. A step names the
 * earlier outputs it needs (the runner refuses to start it without them) and those it
 * may use (present when the earlier step produced one); both arrive typed.
 */
import type { Logger } from 'pino';
import type { DropletIdentity, StepName } from '../domain/build.js';
import type { BuildEvent } from '../domain/events.js';
import type { CommitInfo } from '../domain/files.js';
import type { Author, FoundationFile, ModelCallJournal } from '../domain/ports/author.js';
import type { BuildStore, ModelCallLedger } from '../domain/ports/build-store.js';
import type { DeployTarget } from '../domain/ports/deploy.js';
import type { Registry } from '../domain/ports/registry.js';
import type { RepositoryPublisher } from '../domain/ports/repository-publisher.js';
import type { Workspace } from '../domain/ports/repository.js';
import type { Verifier } from '../domain/ports/verifier.js';
import type { BuildLocations, BuildRecord } from '../domain/records.js';
import type { StepOutputs } from '../domain/step-outputs.js';
import type { BuildAnnouncer } from './announcement.js';
import type { UsageFigures } from '../domain/usage.js';

/** The concrete providers, built once from config by the composition root. Steps see only these interfaces. */
export interface Providers {
  author: Author;
  foundation(): Promise<readonly FoundationFile[]>;
  workspace: Workspace;
  verifier: Verifier;
  /** null when DEPLOY_TARGET=none: the deploy step is skipped. */
  deployTarget: DeployTarget | null;
  registry: Registry;
  /** null without GIT_REMOTE_URL_TEMPLATE (or GITHUB_OWNER): nothing is pushed. */
  publisher: RepositoryPublisher | null;
  /** Announces builds on the configured channels (step 8: completions; failures and approval requests come from the journal). */
  announcer: BuildAnnouncer;
}

export interface StepLimits {
  maxBuildIterations: number;
}

/** Secrets never reach the journal: messages, details and errors pass through these first. */
export interface Redaction {
  /** A function, not a method: it is handed on unbound (`errorInfo(error, redaction.redact)`). */
  redact: (text: string) => string;
  redactDeep<T>(value: T): T;
}

/** What the runner needs: the store's ports, the providers and the limits in force. */
export interface RunnerDeps {
  store: BuildStore;
  ledger: ModelCallLedger;
  providers: Providers;
  limits: StepLimits;
  log: Logger;
  redaction: Redaction;
  /** MAX_BUILD_COST_USD; a build's own max_cost_usd can only lower it. */
  maxBuildCostUsd: number | null;
}

export type ProgressData = Record<string, unknown>;

export interface StepContext<Needs extends StepName = never, Uses extends StepName = never> {
  build: BuildRecord;
  droplet: DropletIdentity;
  providers: Providers;
  limits: StepLimits;
  /** Fires on cancel: stop at once, kill children, abort requests. */
  signal: AbortSignal;
  log: Logger;
  /** The saved outputs of the earlier steps named in `needs`: always there. */
  needs: { readonly [S in Needs]: StepOutputs[S] };
  /** The saved outputs of the earlier steps named in `uses`: there when those steps produced one. */
  uses: { readonly [S in Uses]?: StepOutputs[S] };
  // The callbacks below are functions, not methods: steps destructure them from the context.
  /** Journals a `step.progress` event for this step (in order; the step's end waits for it). */
  progress: (message: string, data?: ProgressData) => void;
  /** The build's ledger of model calls: hand it to the author with every call. */
  calls: ModelCallJournal;
  /** Records where the build's repository and deployment are. */
  setLocations: (locations: BuildLocations) => Promise<void>;
  /** Writes this step's record (`docs/DEPLOYMENT.md`…) into the droplet's repository as one commit. */
  recordDocument: (path: string, content: string, message: string) => Promise<CommitInfo | null>;
  /** The build's journal so far (its approvals and decisions, for the registry's provenance). */
  events: () => Promise<BuildEvent[]>;
  /** What the build's model calls used so far; null when none was made. */
  usage: () => Promise<UsageFigures | null>;
}

export interface StepResult<Output> {
  /** Shown to clients in the status object. */
  details: Record<string, unknown>;
  /** Read by later steps through `needs` and `uses`; not shown. */
  output?: Output;
  /** The step had nothing to do (e.g. deploy with auto_deploy false). */
  skipped?: boolean;
}

export interface Step<Name extends StepName = StepName, Needs extends StepName = StepName, Uses extends StepName = StepName> {
  readonly name: Name;
  readonly needs: readonly Needs[];
  readonly uses: readonly Uses[];
  /**
   * Why the step has nothing to do for this build (deploy with auto_deploy false), or
   * null. Asked before the prerequisites: a skipped step needs nothing.
   */
  readonly skip?: (build: BuildRecord, providers: Providers) => string | null;
  run(context: StepContext<Needs, Uses>): Promise<StepResult<StepOutputs[Name]>>;
}

/** Declares a step; the type parameters are inferred from `name`, `needs` and `uses`. */
export function defineStep<Name extends StepName, Needs extends StepName = never, Uses extends StepName = never>(
  step: Step<Name, Needs, Uses>,
): Step<Name, Needs, Uses> {
  return step;
}
