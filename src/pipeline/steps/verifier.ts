/**
 * Step 5: install, the droplet's own tests and the UDC contract check; on failure the
 * author repairs and verification runs again, up to MAX_BUILD_ITERATIONS. Every
 * attempt is a commit (its report in docs/VERIFICATION.md) and an event.
 */
import { traitsOf } from '../../domain/error-codes.js';
import { StepError, throwIfAborted } from '../../domain/errors.js';
import { withoutSpecDocuments, type FileChange } from '../../domain/files.js';
import type { VerifyOutput } from '../../domain/step-outputs.js';
import { failureFingerprint } from '../../domain/verification-failure.js';
import type { VerificationReport } from '../../domain/verification.js';
import { authorWorkspace, gatherRepairContext } from '../repair-context.js';
import { publishVerified } from './publish.js';
import { defineStep, type StepContext } from '../types.js';

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

const LOCKFILE = 'package-lock.json';

type VerifierContext = StepContext<'intent' | 'spec_generation', never>;

/** Asks for a repair and commits it; returns whether the repository changed. */
async function repair(context: VerifierContext, attempt: number, failure: VerificationReport): Promise<boolean> {
  const { build, droplet, providers, signal, needs, calls } = context;
  const repo = providers.workspace.repoFor(droplet);
  // What the failure involves (failing tests, their stacks, the code they import, the routes that failed), not the whole repository.
  const shown = await gatherRepairContext(repo, failure);
  const request = {
    intent: needs.intent.intent,
    droplet,
    spec: needs.spec_generation.spec,
    foundation: await providers.foundation(),
    attempt,
    failure,
    files: shown.files,
    notShown: shown.notShown,
    workspace: authorWorkspace(repo),
  };
  let changes: FileChange[];
  try {
    changes = await providers.author.repair(request, { signal, calls });
  } catch (error) {
    // An answer that could not be applied is worth one more try with the reason, not the end of the loop.
    if (!(error instanceof StepError) || !traitsOf(error.code).unusableAnswer) throw error;
    context.progress(`the repair after attempt ${attempt} could not be applied; asking again with the reason`, { attempt, error: error.message });
    changes = await providers.author.repair({ ...request, previousAnswerError: error.message }, { signal, calls });
  }
  const { kept, refused } = withoutSpecDocuments(changes);
  // A repair fixes the code, not the exam: the SPEC and its proof are not its to change.
  if (refused.length > 0) context.progress(`the repair may not change the SPEC's documents; not written: ${refused.join(', ')}`, { attempt, refused });
  changes = kept;
  const commit = await repo.commitChanges(changes, `fix: repair after verification attempt ${attempt}`, { step: 'verifier', buildId: build.id });
  context.progress(`repair after attempt ${attempt} changed ${commit ? changes.length : 0} file(s)`, {
    attempt,
    files: changes.map((change) => change.path),
    files_sent: shown.files.map((file) => file.path),
    files_not_shown: shown.notShown,
    commit: commit?.sha ?? null,
  });
  return commit !== null;
}

/**
 * The lockfile npm resolved (or the dependency store handed over) becomes part of the
 * droplet, so its next verification and its deploy install nothing. Committed only when
 * it changed; read like any file the droplet's code could have touched (capped, no links).
 */
async function commitLockfile(context: VerifierContext): Promise<void> {
  const repo = context.providers.workspace.repoFor(context.droplet);
  const [lockfile] = await repo.readFiles([LOCKFILE]);
  if (!lockfile) return;
  const commit = await repo.commitChanges([{ kind: 'write', path: LOCKFILE, content: lockfile.content }], 'chore: lock the dependencies npm resolved', { step: 'verifier', buildId: context.build.id });
  if (commit) context.progress(`committed ${LOCKFILE}`, { commit: commit.sha });
}

/** One attempt: restore, verify, record the report as a commit and an event. */
async function verifyOnce(context: VerifierContext, attempt: number): Promise<{ report: VerificationReport; commit: string | null }> {
  const { droplet, providers, signal, limits, progress } = context;
  const repo = providers.workspace.repoFor(droplet);
  // Each attempt starts from what is committed: nothing an earlier attempt's tests planted survives.
  await repo.restoreWorkingTree();
  progress(`verification attempt ${attempt} of ${limits.maxBuildIterations}`, { attempt });
  const { openapi, acceptance } = context.needs.spec_generation;
  const report = await providers.verifier.verify(repo.path, droplet, {
    signal,
    onProgress: (message, data) => progress(message, { attempt, ...data }),
    // The droplet is held to its SPEC's proof, never to a copy its own code could have rewritten.
    ...(openapi !== undefined && acceptance !== undefined ? { proof: { openapi, acceptance } } : {}),
  });
  throwIfAborted(signal);
  await commitLockfile(context);
  const commit = await context.recordDocument('docs/VERIFICATION.md', renderReport(attempt, report), `test: verification attempt ${attempt} ${report.passed ? 'passed' : 'failed'}`);
  const failedChecks = report.contract?.filter((check) => !check.passed) ?? [];
  progress(report.summary, {
    attempt,
    passed: report.passed,
    stage: report.stage,
    failed_checks: failedChecks.map((check) => check.name),
    // The structured report of what failed, as the repair author receives it.
    checks: failedChecks,
    failing_tests: report.tests?.failingTests ?? [],
    ...(report.acceptance ? { acceptance: report.acceptance } : {}),
  });
  return { report, commit: commit?.sha ?? null };
}

function notConverging(attempt: number, limit: number, why: string, details: Record<string, unknown>): StepError {
  return new StepError('REPAIR_NOT_CONVERGING', `Verification stopped early after ${attempt} of ${limit} attempts: ${why}.`, details);
}

export const verifierStep = defineStep({
  name: 'verifier',
  needs: ['intent', 'spec_generation'],
  uses: [],
  async run(context) {
    const { droplet, providers, signal, limits } = context;
    const limit = limits.maxBuildIterations;
    const attempts: Record<string, unknown>[] = [];
    let childProcessMs = 0;
    let previousFingerprint: string | null = null;
    for (let attempt = 1; attempt <= limit; attempt += 1) {
      throwIfAborted(signal);
      const { report, commit } = await verifyOnce(context, attempt);
      childProcessMs += report.childProcessMs;
      attempts.push({ attempt, passed: report.passed, stage: report.stage, summary: report.summary, commit });
      if (report.passed) {
        const head = (await providers.workspace.repoFor(droplet).head()) ?? '';
        const output: VerifyOutput = { commit: head, attempts: attempt, report };
        // The verified commit goes to the remote (GIT_REMOTE_URL_TEMPLATE) as the build's branch.
        const published = await publishVerified(context, head);
        return { details: { attempts, report, child_process_ms: childProcessMs, ...published }, output };
      }
      if (attempt === limit) {
        throw new StepError('VERIFICATION_FAILED', `Verification failed after ${attempt} attempt(s): ${report.summary}`, { attempts, report });
      }
      // Two attempts in a row that fail the same way: the repair in between did not help, and another one is unlikely to.
      const fingerprint = failureFingerprint(report);
      if (previousFingerprint === fingerprint) {
        throw notConverging(attempt, limit, `attempts ${attempt - 1} and ${attempt} failed the same way (${report.summary})`, { attempts, report });
      }
      previousFingerprint = fingerprint;
      // Running the same code again cannot end differently.
      if (!(await repair(context, attempt, report))) {
        throw notConverging(attempt, limit, `the repair after attempt ${attempt} changed nothing (${report.summary})`, { attempts, report });
      }
    }
    throw new StepError('VERIFICATION_FAILED', 'No verification attempt was allowed (MAX_BUILD_ITERATIONS).');
  },
});
