/** Plain-text forms of what the API answers, for people; `--json` prints the answers as they are. */
import type { BuildEvent } from '../domain/events.js';
import type { BuildSummary, BuildView } from '../domain/status.js';
import { costOf, type StepState, type VerifierState, type WatchState } from './watch-state.js';

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m ${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
}

export function formatCost(usd: number): string {
  return `$${usd.toFixed(4)}`;
}

const MARKS: Record<string, string> = { completed: '✔', skipped: '↓', failed: '✖', cancelled: '■', in_progress: '…', pending: '·' };

/** The verifier's attempts, repairs and acceptance results, e.g. "attempt 2, 1 repair, acceptance 3/3 passed". */
export function verifierNote(verifier: VerifierState): string {
  if (verifier.attempt === 0) return '';
  const parts = [`attempt ${verifier.attempt}`, `${verifier.repairs} repair${verifier.repairs === 1 ? '' : 's'}`];
  if (verifier.acceptance.length > 0) {
    const passed = verifier.acceptance.filter((scenario) => scenario.passed).length;
    parts.push(`acceptance ${passed}/${verifier.acceptance.length} passed`);
  }
  return parts.join(', ');
}

/** A step's title: number, label, duration, and for the verifier what its loop did. */
export function stepTitle(step: StepState, verifier: VerifierState): string {
  const duration = formatDuration(step.durationSeconds);
  const note = step.step === 'verifier' ? verifierNote(verifier) : '';
  return [`${step.number}. ${step.label}`, duration && `(${duration})`, note && `- ${note}`]
    .filter(Boolean)
    .join(' ');
}

export function stepLine(step: StepState, verifier: VerifierState): string {
  return `${MARKS[step.status] ?? '?'} ${step.status.padEnd(11)} ${stepTitle(step, verifier)}`;
}

/** The closing picture of a watched build: every step, then the outcome. */
export function finalReport(state: WatchState): string[] {
  const lines = state.steps.map((step) => `  ${stepLine(step, state.verifier)}`);
  lines.push(`build ${state.buildId}: ${state.status ?? 'unknown'}, cost ${formatCost(costOf(state))}`);
  for (const scenario of state.verifier.acceptance) lines.push(`  acceptance ${scenario.passed ? 'passed' : 'FAILED'}: ${scenario.name}`);
  if (state.deploymentUrl) lines.push(`deployed at ${state.deploymentUrl}`);
  return lines;
}

export function summaryLine(build: BuildSummary): string {
  const step = `${build.current_step_number}/8 ${build.current_step}`;
  return `${build.build_id}  ${build.status.padEnd(16)} ${step.padEnd(24)} ${build.created_at}  ${build.intent_summary}`;
}

export function summaryText(build: BuildSummary): string[] {
  const lines = [`${build.build_id}: ${build.status} (step ${build.current_step_number}/8 ${build.current_step}, ${build.progress_percent}%)`];
  if (build.pending_approval) lines.push(`waiting at ${build.pending_approval.gate}: ${build.pending_approval.summary}`);
  // `reason:`, not `error:`: that prefix is the CLI's own failures, on stderr.
  if (build.error) lines.push(`reason: ${build.error.code}: ${build.error.message}`);
  if (build.deployment_url) lines.push(`deployed at ${build.deployment_url}`);
  return lines;
}

export function statusText(view: BuildView): string[] {
  const lines = [
    `${view.build_id}  ${view.droplet_name} (#${view.droplet_id})  ${view.status}  ${view.progress_percent}%  mode ${view.approval_mode}`,
    `intent: ${view.architect_intent}`,
    ...view.steps.map((step) => `  ${MARKS[step.status] ?? '?'} ${step.status.padEnd(11)} ${step.step_number}. ${step.name} ${formatDuration(step.duration_seconds)}`.trimEnd()),
    `cost ${formatCost(view.usage.cost_usd)}${view.usage.max_cost_usd === null ? '' : ` of at most ${formatCost(view.usage.max_cost_usd)}`}`,
  ];
  if (view.pending_approval) lines.push(`waiting at ${view.pending_approval.gate}: ${view.pending_approval.summary}`);
  if (view.error) lines.push(`reason: ${view.error.code}: ${view.error.message}${view.error.retryable ? ' (retryable)' : ''}`);
  if (view.repository_path) lines.push(`repository: ${view.repository_path}`);
  if (view.deployment_url) lines.push(`deployed at ${view.deployment_url}`);
  return lines;
}

export function eventLine(event: BuildEvent): string {
  const data = event.data as { step?: string; message?: string; error?: { code: string; message: string } };
  const detail = data.message ?? (data.error ? `${data.error.code}: ${data.error.message}` : '');
  return [String(event.seq).padStart(5), event.at, event.type.padEnd(22), data.step ?? '', detail].filter(Boolean).join('  ');
}
