/** Builds and their steps as the store keeps them (camelCase; the status object is in status.ts). */
import type { ApprovalMode, BuildStatus, StepName, StepStatus } from './build.js';
import type { ErrorInfo, PendingApproval } from './status.js';

export interface BuildRecord {
  id: string;
  dropletId: number;
  dropletName: string;
  intent: string;
  approvalMode: ApprovalMode;
  autoDeploy: boolean;
  notifyChannels: string[] | null;
  status: BuildStatus;
  currentStep: number;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  estimatedSeconds: number;
  /** This build's own cost cap, USD (the executor-wide cap applies too). */
  maxCostUsd: number | null;
  /** The deploy host the build asked for (a DEPLOY_HOSTS entry), null for the default placement. */
  deployHost: string | null;
  repositoryPath: string | null;
  repositoryUrl: string | null;
  deploymentUrl: string | null;
  pendingApproval: PendingApproval | null;
  error: ErrorInfo | null;
}

export interface StepRecord {
  buildId: string;
  stepNumber: number;
  name: StepName;
  status: StepStatus;
  startedAt: string | null;
  completedAt: string | null;
  details: Record<string, unknown>;
  /** What later steps read (see step-outputs.ts); null unless asked for, or before the step finished. */
  output: unknown;
  error: ErrorInfo | null;
}

/** What a submit decides; the rest of a BuildRecord starts empty (queued, step 1). */
export type NewBuild = Pick<
  BuildRecord,
  'dropletId' | 'dropletName' | 'intent' | 'approvalMode' | 'autoDeploy' | 'notifyChannels' | 'createdAt' | 'estimatedSeconds'
> & { maxCostUsd?: number | null; deployHost?: string | null };

/** Where a build's repository and deployment are, set by the steps that make them. */
export interface BuildLocations {
  repositoryPath?: string;
  repositoryUrl?: string;
  deploymentUrl?: string | null;
}
