/**
 * The status object and events exactly as clients see them (snake_case field names,
 * as the seed's clients expect). Produced by the pipeline, served by HTTP and WS as is.
 */
import type { ApprovalMode, BuildStatus, GateName, StepName, StepStatus } from './build.js';
import type { IntentCoverage } from './coverage.js';

export interface ErrorInfo {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/** A build's error: what the step (or the cancel) said, and whether `POST …/retry` can help. */
export interface BuildError extends ErrorInfo {
  retryable: boolean;
}

export interface StepView {
  step: StepName;
  step_number: number;
  name: string;
  status: StepStatus;
  started_at: string | null;
  completed_at: string | null;
  duration_seconds: number | null;
  details: Record<string, unknown>;
  error: ErrorInfo | null;
}

export interface PendingApproval {
  gate: GateName;
  step_number: number;
  requested_at: string;
  /** What the approver is asked to look at. */
  summary: string;
}

export interface BuildView {
  build_id: string;
  droplet_id: number;
  droplet_name: string;
  architect_intent: string;
  approval_mode: ApprovalMode;
  auto_deploy: boolean;
  notify_channels: string[] | null;
  status: BuildStatus;
  current_step: StepName;
  current_step_number: number;
  progress_percent: number;
  created_at: string;
  started_at: string | null;
  estimated_completion: string;
  completed_at: string | null;
  steps: StepView[];
  files_created: string[];
  repository_path: string | null;
  repository_url: string | null;
  deployment_url: string | null;
  pending_approval: PendingApproval | null;
  error: BuildError | null;
  /** What the build's model calls used and cost so far (zeros for the offline author). */
  usage: BuildUsage;
  /**
   * Which parts of the intent the SPEC serves and which it could not map, as its author
   * read them; null before the SPEC is written or when the author cannot tell.
   */
  intent_coverage: IntentCoverage | null;
}

/**
 * A build in a list, or the answer to an action (approve, cancel, retry): what a client
 * needs to show and follow it, without the steps' details. `GET /executor/builds?view=full`
 * and `GET …/status` give the whole `BuildView`.
 */
/** The fields a summary takes from the view as they are. */
type SummaryFields =
  | 'build_id' | 'droplet_id' | 'droplet_name' | 'approval_mode' | 'status' | 'current_step' | 'current_step_number'
  | 'progress_percent' | 'created_at' | 'started_at' | 'estimated_completion' | 'completed_at' | 'deployment_url' | 'pending_approval';

export interface BuildSummary extends Pick<BuildView, SummaryFields> {
  /** The intent's first 160 characters (with an ellipsis when cut). */
  intent_summary: string;
  error: Pick<BuildError, 'code' | 'message' | 'retryable'> | null;
  cost_usd: number;
}

export interface BuildUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_usd: number;
  /** The cap in force for this build, USD; null when none is set. */
  max_cost_usd: number | null;
}
