/**
 * Step 5: install, the droplet's own tests and the UDC contract check; on failure the
 * author repairs and verification runs again, up to MAX_BUILD_ITERATIONS. Every
 * attempt is a commit (its report in docs/VERIFICATION.md) and an event.
 */
import { createHash } from 'node:crypto';
import type { FileChange } from '../../authors/types.js';
import { StepError, throwIfAborted } from '../../errors.js';
import { failureFingerprint, involvedFiles } from '../../verify/involved-files.js';
import type { VerificationReport } from '../../verify/types.js';
import type { Step, StepContext } from '../types.js';
import type { IntentOutput, SpecOutput, VerifyOutput } from './outputs.js';

export function renderReport(attempt: number, report: VerificationReport): string {
  const lines = [`# Verification, attempt ${attempt}`, '', `Result: ${report.passed ? 'passed' : 'failed'} (${report.stage})`, '', report.summary, ''];
  for (const command of [report.install, report.tests]) {
    if (command) lines.push(`- \`${command.command}\`: exit ${command.exitCode ?? 'none'}${command.timedOut ? ' (timed out)' : ''}, ${command.durationMs} ms`);
  }
  if (report.tests?.failingTests.length) lines.push('', 'Failing tests:', ...report.tests.failingTests.map((name) => `- ${name}`));
  if (report.contract) {
    lines.push('', '| check | result | expected | got |', '|---|---|---|---|');
    for (const check of report.contract) {
      const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
      lines.push(`| ${cell(check.name)} | ${check.passed ? 'pass' : 'FAIL'} | ${cell(check.expected)} | ${cell(check.got)} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

interface RepairOutcome {
  /** Digest of what the author asked to change. */
  digest: string;
  /** Whether the repository changed at all. */
  changed: boolean;
}

function digestOf(changes: readonly FileChange[]): string {
  const sorted = [...changes].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

async function repair(context: StepContext, attempt: number, failure: VerificationReport): Promise<RepairOutcome> {
  const { build, droplet, providers, signal, outputOf, calls } = context;
  const repo = providers.workspace.repoFor(droplet);
  // Only the files the failure involves: a repair must not resend the whole repository.
  const involved = involvedFiles(failure, await repo.listFiles());
  const changes = await providers.author.repair(
    {
      intent: outputOf<IntentOutput>('intent')?.intent ?? build.intent,
      droplet,
      spec: outputOf<SpecOutput>('spec_generation')?.spec ?? '',
      foundation: await providers.foundation(),
      attempt,
      failure,
      files: await repo.readFiles(involved),
    },
    { signal, calls },
  );
  const commit = await repo.commitChanges(changes, `fix: repair after verification attempt ${attempt}`, { step: 'verifier', buildId: build.id });
  context.progress(`repair after attempt ${attempt} changed ${commit ? changes.length : 0} file(s)`, {
    attempt,
    files: changes.map((change) => change.path),
    files_sent: involved,
    commit: commit?.sha ?? null,
  });
  return { digest: digestOf(changes), changed: commit !== null };
}

export const verifierStep: Step = {
  name: 'verifier',
  async run(context) {
    const { build, droplet, providers, signal, limits, progress } = context;
    const repo = providers.workspace.repoFor(droplet);
    const attempts: Record<string, unknown>[] = [];
    let childProcessMs = 0;
    let previous = null as { fingerprint: string; repair: RepairOutcome } | null;
    for (let attempt = 1; attempt <= limits.maxBuildIterations; attempt += 1) {
      throwIfAborted(signal);
      progress(`verification attempt ${attempt} of ${limits.maxBuildIterations}`, { attempt });
      const report = await providers.verifier.verify(repo.path, droplet, {
        signal,
        onProgress: (message, data) => progress(message, { attempt, ...data }),
      });
      throwIfAborted(signal);
      childProcessMs += report.childProcessMs;
      const commit = await repo.commitChanges(
        [{ kind: 'write', path: 'docs/VERIFICATION.md', content: renderReport(attempt, report) }],
        `test: verification attempt ${attempt} ${report.passed ? 'passed' : 'failed'}`,
        { step: 'verifier', buildId: build.id },
      );
      const failedChecks = report.contract?.filter((check) => !check.passed) ?? [];
      const failed = failedChecks.map((check) => check.name);
      attempts.push({ attempt, passed: report.passed, stage: report.stage, summary: report.summary, commit: commit?.sha ?? null });
      progress(report.summary, {
        attempt,
        passed: report.passed,
        stage: report.stage,
        failed_checks: failed,
        // The structured report of what failed, as the repair author receives it.
        checks: failedChecks,
        failing_tests: report.tests?.failingTests ?? [],
      });
      if (report.passed) {
        const head = (await repo.head()) ?? '';
        const output: VerifyOutput = { commit: head, attempts: attempt, report };
        return { details: { attempts, report, child_process_ms: childProcessMs }, output };
      }
      if (attempt === limits.maxBuildIterations) {
        throw new StepError('VERIFICATION_FAILED', `Verification failed after ${attempt} attempt(s): ${report.summary}`, { attempts, report }, { retryable: true });
      }
      const fingerprint = failureFingerprint(report);
      const outcome = await repair(context, attempt, report);
      // Running the same code again, or the same fix for the same failure, cannot end differently.
      const stuck = !outcome.changed || (previous?.fingerprint === fingerprint && previous.repair.digest === outcome.digest);
      if (stuck) {
        const why = outcome.changed ? `the repair after attempt ${attempt} was the same as after attempt ${attempt - 1}` : `the repair after attempt ${attempt} changed nothing`;
        throw new StepError(
          'REPAIR_NOT_CONVERGING',
          `Verification stopped early after ${attempt} of ${limits.maxBuildIterations} attempts: it failed the same way (${report.summary}) and ${why}.`,
          { attempts, report },
          { retryable: true },
        );
      }
      previous = { fingerprint, repair: outcome };
    }
    throw new StepError('VERIFICATION_FAILED', 'No verification attempt was allowed (MAX_BUILD_ITERATIONS).');
  },
};
