/** A build's compact form (lists, action answers), cut from its whole status view. */
import type { BuildSummary, BuildView } from './status.js';

/** How much of the intent a summary keeps. */
export const INTENT_SUMMARY_LENGTH = 160;

function intentSummary(intent: string): string {
  const chars = [...intent];
  if (chars.length <= INTENT_SUMMARY_LENGTH) return intent;
  return `${chars.slice(0, INTENT_SUMMARY_LENGTH - 1).join('').trimEnd()}…`;
}

/** Pure: the same view always gives the same summary. Steps, files, usage detail and coverage stay behind. */
export function summaryOf(view: BuildView): BuildSummary {
  return {
    build_id: view.build_id,
    droplet_id: view.droplet_id,
    droplet_name: view.droplet_name,
    intent_summary: intentSummary(view.architect_intent),
    approval_mode: view.approval_mode,
    status: view.status,
    current_step: view.current_step,
    current_step_number: view.current_step_number,
    progress_percent: view.progress_percent,
    created_at: view.created_at,
    started_at: view.started_at,
    estimated_completion: view.estimated_completion,
    completed_at: view.completed_at,
    deployment_url: view.deployment_url,
    pending_approval: view.pending_approval,
    error: view.error && { code: view.error.code, message: view.error.message, retryable: view.error.retryable },
    cost_usd: view.usage.cost_usd,
  };
}
