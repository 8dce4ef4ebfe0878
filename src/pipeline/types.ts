/** The contract every step implements, and what the runner hands it. */
import type { Logger } from 'pino';
import type { Author, FoundationFile, ModelCallJournal } from '../domain/ports/author.js';
import type { DeployTarget } from '../domain/ports/deploy.js';
import type { DropletIdentity, StepName } from '../domain/build.js';
import type { Notifier } from '../domain/ports/notifier.js';
import type { Registry } from '../domain/ports/registry.js';
import type { BuildRecord } from '../store/builds.js';
import type { Verifier } from '../domain/ports/verifier.js';
import type { Workspace } from '../domain/ports/repository.js';

/** Remembers which notifications went out, so a resumed build does not send them twice. */
export interface DeliveryLog {
  wasDelivered(deliveryId: string, channel: string): boolean;
  recordDelivery(deliveryId: string, channel: string, detail: string): void;
}

/** The concrete providers, built once from config in main.ts. Steps see only these interfaces. */
export interface Providers {
  author: Author;
  foundation(): Promise<readonly FoundationFile[]>;
  workspace: Workspace;
  verifier: Verifier;
  /** null when DEPLOY_TARGET=none: the deploy step is skipped. */
  deployTarget: DeployTarget | null;
  registry: Registry;
  notifiers: readonly Notifier[];
  deliveries: DeliveryLog;
}

export interface StepLimits {
  maxBuildIterations: number;
}

export interface StepContext {
  build: BuildRecord;
  droplet: DropletIdentity;
  providers: Providers;
  limits: StepLimits;
  /** Fires on cancel: stop at once, kill children, abort requests. */
  signal: AbortSignal;
  log: Logger;
  /** The saved output of an earlier step of this build (reused on resume and retry). */
  outputOf<T>(step: StepName): T | undefined;
  /** Journals a `step.progress` event for this step. */
  progress(message: string, data?: Record<string, unknown>): void;
  /** The build's ledger of model calls: hand it to the author with every call. */
  calls: ModelCallJournal;
  /** Records where the build's repository and deployment are. */
  setBuildFields(fields: { repositoryPath?: string; repositoryUrl?: string; deploymentUrl?: string | null }): void;
}

export interface StepResult {
  /** Shown to clients in the status object. */
  details: Record<string, unknown>;
  /** Read by later steps through `outputOf`; not shown. */
  output?: unknown;
  /** The step had nothing to do (e.g. deploy with auto_deploy false). */
  skipped?: boolean;
}

export interface Step {
  readonly name: StepName;
  run(context: StepContext): Promise<StepResult>;
}
