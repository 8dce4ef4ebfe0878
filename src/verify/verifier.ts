/**
 * The verifier of a generated droplet: whether its tests cover the UDC endpoints (read,
 * not run: it fails fast), whether npm would be handed anything but registry packages,
 * install, its own tests, then the droplet started and checked
 * against the UDC contract. Stops at the first failing stage. The coverage check is
 * reported in `contract` with the others: first on its own when it fails, last when the
 * droplet got as far as the contract check.
 */
import { lstat, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DropletIdentity } from '../domain/build.js';
import { throwIfAborted } from '../domain/errors.js';
import { readRegularFile } from '../support/files.js';
import type { DependencyStore } from '../sandbox/dependency-store.js';
import type { Sandbox } from '../sandbox/types.js';
import { abandonLaunch, launchDroplet } from './droplet-launch.js';
import { runDropletChecks } from './droplet-run.js';
import { loadProof } from './proof-files.js';
import { checkSpecProof } from './spec-proof.js';
import { installInputProblems, installInputsCheck } from './install-inputs.js';
import { checkTestCoverage, describeCoverageFailure } from './test-coverage.js';
import { describeInstallFailure, describeTestFailure, runInstall, runTests } from './tests.js';
import type { CommandSummary, ContractCheck, VerificationReport } from '../domain/verification.js';
import type { SpecProofCheck, SpecProofFiles, Verifier, VerifyOptions } from '../domain/ports/verifier.js';

export interface DropletVerifierOptions {
  sandbox: Sandbox;
  /** Installed dependencies kept by lockfile: a tree installed once is never installed again. */
  dependencies?: DependencyStore;
  installTimeoutMs: number;
  testTimeoutMs: number;
  /** How long the started droplet has to answer GET /health. */
  startTimeoutMs: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function describeContractFailure(checks: readonly ContractCheck[]): string | null {
  const failed = checks.filter((entry) => !entry.passed).map((entry) => entry.name);
  if (failed.length === 0) return null;
  const start = checks.find((entry) => entry.name === 'droplet starts');
  if (start && !start.passed) return `The droplet did not start: ${start.got.split('; output:')[0]}.`;
  const shown = failed.slice(0, 3).join(', ');
  const more = failed.length > 3 ? ` and ${failed.length - 3} more` : '';
  return `Contract check failed: ${shown}${more}.`;
}

/** What verification runs against: an install made now, a store entry, or both. */
interface Installed {
  install?: CommandSummary;
  dependencies?: { key: string; modules: string };
}

const LOCKFILE = 'package-lock.json';

/** Writes `content` at `path` in place of whatever is there (a link included), never through a link. */
async function putBack(path: string, content: Buffer): Promise<void> {
  await rm(path, { recursive: true, force: true });
  await writeFile(path, content, { flag: 'wx' });
}

/** package.json and package-lock.json are read whole up to this. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export class DropletVerifier implements Verifier {
  constructor(private readonly options: DropletVerifierOptions) {}

  /**
   * The workspace's dependencies: the store's entry for its lockfile when there is one
   * (nothing installed), else `npm install`, whose result the store then keeps.
   */
  private async installOnce(workdir: string, signal: AbortSignal, onProgress: VerifyOptions['onProgress']): Promise<Installed | { failure: VerificationReport }> {
    const { sandbox, installTimeoutMs, dependencies: store } = this.options;
    const stored = await store?.find(workdir);
    if (stored) {
      onProgress?.(`Dependencies reused from the store (lockfile tree ${stored.key}); nothing installed.`, { dependencies: stored.key });
      return { dependencies: stored };
    }
    // A tree resolved from the manifest alone may serve other manifests pinning the same packages.
    const resolvedFromManifest = (await lstat(join(workdir, LOCKFILE)).catch(() => null)) === null;
    await store?.prepareInstall(workdir);
    const install = await runInstall(sandbox, workdir, { timeoutMs: installTimeoutMs, signal });
    const installFailure = describeInstallFailure(install, installTimeoutMs);
    if (installFailure) return { failure: { passed: false, stage: 'install', summary: installFailure, install, childProcessMs: install.durationMs } };
    onProgress?.(`npm install ok in ${seconds(install.durationMs)}.`, { durationMs: install.durationMs });
    const adopted = (await store?.adopt(workdir, { remember: resolvedFromManifest })) ?? undefined;
    return { install, ...(adopted ? { dependencies: adopted } : {}) };
  }

  checkSpecProof(files: SpecProofFiles): Promise<SpecProofCheck> {
    return checkSpecProof(files);
  }

  async verify(workdir: string, droplet: DropletIdentity, { signal, onProgress, proof }: VerifyOptions): Promise<VerificationReport> {
    throwIfAborted(signal);

    const coverage = await checkTestCoverage(workdir);
    const coverageFailure = describeCoverageFailure(coverage);
    if (coverageFailure) return { passed: false, stage: 'tests', summary: coverageFailure, contract: [coverage.check], childProcessMs: 0 };
    onProgress?.(`Tests request all five UDC endpoints (${coverage.files.length} test files read).`, { test_files: coverage.files.length });
    throwIfAborted(signal);

    // npm runs programs a project names (a .npmrc's git=, a git+ dependency), online: refuse those first.
    const inputProblems = await installInputProblems(
      async (file) => {
        const read = await readRegularFile(join(workdir, file), { maxBytes: MAX_MANIFEST_BYTES, within: workdir });
        if (read.status === 'refused') return { refused: read.why };
        return read.status === 'read' ? read.content.toString('utf8') : null;
      },
      async (file) => (await lstat(join(workdir, file)).catch(() => null)) !== null,
    );
    if (inputProblems.length > 0) {
      const check = installInputsCheck(inputProblems);
      return { passed: false, stage: 'install', summary: `Refused to install: ${check.got}.`, contract: [check], childProcessMs: 0 };
    }

    const installed = await this.installOnce(workdir, signal, onProgress);
    if ('failure' in installed) return installed.failure;

    // The lockfile as installed: put back after the droplet's code ran, so what the step commits is what was verified.
    const lockfile = await readRegularFile(join(workdir, LOCKFILE), { maxBytes: MAX_MANIFEST_BYTES, within: workdir });
    try {
      return await this.testAndCheck(workdir, droplet, installed, { signal, onProgress, proof }, coverage.check);
    } finally {
      if (lockfile.status === 'read') await putBack(join(workdir, LOCKFILE), lockfile.content);
    }
  }

  /**
   * The droplet's tests, with the droplet starting for its contract run meanwhile (the
   * start is paid in parallel), then the contract run. The launched droplet is stopped on
   * every path that does not hand it to the contract run, which stops it itself.
   */
  private async testAndCheck(workdir: string, droplet: DropletIdentity, installed: Installed, options: VerifyOptions, coverageCheck: ContractCheck): Promise<VerificationReport> {
    const { sandbox, testTimeoutMs, startTimeoutMs } = this.options;
    const { signal, onProgress, proof } = options;
    const { install, dependencies } = installed;
    let childProcessMs = install?.durationMs ?? 0;
    const modules = dependencies ? { dependencies: dependencies.modules } : {};
    const launchedAt = performance.now();
    const launch = await launchDroplet(sandbox, workdir, droplet, { startTimeoutMs, signal, ...modules });
    let handedOver = false;
    try {
      const tests = await runTests(sandbox, workdir, {
        timeoutMs: testTimeoutMs,
        signal,
        ...modules,
        env: { SERVICE_NAME: droplet.name, DROPLET_ID: String(droplet.dropletId), ENVIRONMENT: 'development', LOG_LEVEL: 'warn' },
      });
      // Wall time with a child running: the tests and the droplet's start overlap.
      childProcessMs += Math.round(performance.now() - launchedAt);
      const testFailure = describeTestFailure(tests, testTimeoutMs);
      if (testFailure) return { passed: false, stage: 'tests', summary: testFailure, ...(install ? { install } : {}), tests, childProcessMs };
      onProgress?.(`npm test ok in ${seconds(tests.durationMs)}.`, { durationMs: tests.durationMs });
      const held = await loadProof(workdir, proof);
      const checkedAt = performance.now();
      handedOver = true;
      const run = await runDropletChecks(launch, { signal, ...(onProgress ? { onProgress } : {}), acceptance: held.scenarios, api: held.api });
      childProcessMs += Math.round(performance.now() - checkedAt);
      const contract = [...run.checks, ...held.invalid, coverageCheck];
      const passedCount = contract.filter((entry) => entry.passed).length;
      onProgress?.(`Contract: ${passedCount} of ${contract.length} checks passed.`, { passed: passedCount, total: contract.length });
      const contractFailure = describeContractFailure(contract);
      return {
        passed: contractFailure === null,
        stage: 'contract',
        summary: contractFailure ?? `Install, tests and ${contract.length} contract checks passed.`,
        ...(install ? { install } : {}),
        ...(dependencies ? { dependencies: { key: dependencies.key, reused: install === undefined } } : {}),
        tests,
        contract,
        ...(run.scenarios.length > 0 ? { acceptance: run.scenarios } : {}),
        childProcessMs,
        observed: run.observed,
      };
    } finally {
      if (!handedOver) await abandonLaunch(launch);
    }
  }
}
