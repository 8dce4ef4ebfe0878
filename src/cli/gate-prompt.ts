/**
 * At a gate: what the approver is asked to look at (the gate's summary, and the SPEC or
 * the verifier's report it points at), and the question on the terminal.
 */
import { createInterface } from 'node:readline/promises';
import type { BuildView } from '../domain/status.js';

const SPEC_PREVIEW_LINES = 24;

export interface Decision {
  approved: boolean;
  feedback?: string;
}

function specPreview(view: BuildView): string[] {
  const spec = view.steps.find((step) => step.step === 'spec_generation')?.details.spec;
  if (typeof spec !== 'string') return [];
  const lines = spec.split('\n');
  const shown = lines.slice(0, SPEC_PREVIEW_LINES).map((line) => `  | ${line}`);
  if (lines.length > SPEC_PREVIEW_LINES) shown.push(`  | … ${lines.length - SPEC_PREVIEW_LINES} more lines (executor status ${view.build_id} --json)`);
  return ['SPEC:', ...shown];
}

interface ReportShape {
  summary?: string;
  acceptance?: { name?: string; passed?: boolean }[];
}

function verificationPreview(view: BuildView): string[] {
  const verifier = view.steps.find((step) => step.step === 'verifier');
  const report = verifier?.details.report as ReportShape | undefined;
  if (!report) return [];
  const attempts = Array.isArray(verifier?.details.attempts) ? verifier.details.attempts.length : 0;
  const lines = [`verification: ${report.summary ?? ''}${attempts ? ` (${attempts} attempt${attempts === 1 ? '' : 's'})` : ''}`];
  for (const scenario of report.acceptance ?? []) lines.push(`  acceptance ${scenario.passed === true ? 'passed' : 'FAILED'}: ${scenario.name ?? '?'}`);
  if (view.files_created.length > 0) lines.push(`files: ${view.files_created.length} (${view.files_created.slice(0, 8).join(', ')}${view.files_created.length > 8 ? ', …' : ''})`);
  return lines;
}

/** The review shown at the gate a build waits at; empty when it waits at none. */
export function gateReview(view: BuildView): string[] {
  const pending = view.pending_approval;
  if (!pending) return [];
  const detail = pending.gate === 'after_spec' ? specPreview(view) : verificationPreview(view);
  return [`waiting for approval at ${pending.gate} (before step ${pending.step_number})`, pending.summary, ...detail];
}

/** What a watcher without a terminal is told to do. */
export function howToDecide(buildId: string): string {
  return `approve with \`executor approve ${buildId}\` or reject with \`executor reject ${buildId} --feedback "<why>"\`; waiting…`;
}

/** Asks on the terminal until the answer is approve or reject; a rejection asks for the reason. */
export async function askDecision(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<Decision> {
  const prompt = createInterface({ input, output, terminal: true });
  try {
    for (;;) {
      const answer = (await prompt.question('Approve this build? [a]pprove / [r]eject: ')).trim().toLowerCase();
      if (['a', 'y', 'yes', 'approve'].includes(answer)) return { approved: true };
      if (['r', 'n', 'no', 'reject'].includes(answer)) {
        const feedback = (await prompt.question('Why (feedback for the record): ')).trim();
        return { approved: false, ...(feedback ? { feedback } : {}) };
      }
    }
  } finally {
    prompt.close();
  }
}
