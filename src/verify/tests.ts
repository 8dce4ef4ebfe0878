/** Installs a droplet's dependencies and runs its own tests, through the sandbox. */
import { join } from 'node:path';
import { CancelledError } from '../domain/errors.js';
import type { Sandbox, SandboxResult } from '../sandbox/types.js';
import type { CommandSummary, TestRunSummary } from '../domain/verification.js';
import { readRegularFile } from '../support/files.js';
import { failingTestNames, reportsNoTests } from './test-output.js';
import { clearTestReport, readTestReport, reporterEnvironment } from './test-report.js';

export { failingTestNames, reportsNoTests } from './test-output.js';

export const OUTPUT_TAIL_CHARS = 4_096;

/**
 * `--ignore-scripts`: install is the one command allowed on the network, so no package
 * (the droplet's own included) gets to run code there. Droplets have no install scripts.
 */
export const INSTALL_ARGS = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'] as const;
export const TEST_ARGS = ['test'] as const;

export interface CommandOptions {
  timeoutMs: number;
  signal: AbortSignal;
  /** Added to the sandbox's base environment. */
  env?: Readonly<Record<string, string>>;
  /** A dependency store entry shown to the command as its `node_modules`. */
  dependencies?: string;
}

export type TestSummary = TestRunSummary;

export function tailOf(text: string, chars = OUTPUT_TAIL_CHARS): string {
  return text.length <= chars ? text : `…${text.slice(text.length - chars)}`;
}

function summarise(command: string, result: SandboxResult): CommandSummary {
  if (result.aborted) throw new CancelledError();
  return {
    command,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    truncated: result.truncated,
    durationMs: result.durationMs,
    outputTail: tailOf(result.output),
  };
}

export function commandSucceeded(summary: CommandSummary): boolean {
  return summary.exitCode === 0 && !summary.timedOut;
}

/** @throws CancelledError when the signal fires. */
export async function runInstall(sandbox: Sandbox, workdir: string, options: CommandOptions): Promise<CommandSummary> {
  const result = await sandbox.run({ command: 'npm', args: INSTALL_ARGS, cwd: workdir, network: true, ...options });
  return summarise(`npm ${INSTALL_ARGS.join(' ')}`, result);
}

/** The `test` script of the droplet's package.json, or null when there is none to read. */
async function testScript(workdir: string): Promise<string | null> {
  const read = await readRegularFile(join(workdir, 'package.json'), { maxBytes: 1024 * 1024, within: workdir });
  if (read.status !== 'read') return null;
  try {
    const script = (JSON.parse(read.content.toString('utf8')) as { scripts?: { test?: unknown } } | null)?.scripts?.test;
    return typeof script === 'string' ? script : null;
  } catch {
    return null;
  }
}

/**
 * Runs `npm test`; with node:test the failures come from its structured report (every
 * failing file, assertion and stack), else from its text output (names only).
 * @throws CancelledError when the signal fires.
 */
export async function runTests(sandbox: Sandbox, workdir: string, options: CommandOptions): Promise<TestSummary> {
  const reporter = reporterEnvironment(workdir, await testScript(workdir));
  if (reporter) await clearTestReport(workdir);
  const env = { ...options.env, ...reporter };
  const result = await sandbox.run({ command: 'npm', args: TEST_ARGS, cwd: workdir, network: false, ...options, env });
  const summary = summarise('npm test', result);
  const failures = reporter ? await readTestReport(workdir) : null;
  const noTests = summary.exitCode === 0 && reportsNoTests(result.output);
  if (noTests) return { ...summary, failingTests: [] };
  if (failures === null || (failures.length === 0 && summary.exitCode !== 0)) return { ...summary, failingTests: failingTestNames(result.output) };
  return { ...summary, failingTests: [...new Set(failures.map((failure) => failure.name))].slice(0, 50), failures };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** One sentence saying why install failed, or null when it succeeded. */
export function describeInstallFailure(install: CommandSummary, timeoutMs: number): string | null {
  if (commandSucceeded(install)) return null;
  if (install.timedOut) return `npm install timed out after ${seconds(timeoutMs)}.`;
  return `npm install failed with exit code ${install.exitCode ?? 'none'}.`;
}

/** One sentence saying why the tests failed, or null when they passed. */
export function describeTestFailure(tests: TestSummary, timeoutMs: number): string | null {
  if (tests.timedOut) return `npm test timed out after ${seconds(timeoutMs)}.`;
  if (tests.exitCode === 0) return reportsNoTests(tests.outputTail) ? 'npm test ran no tests.' : null;
  const names = tests.failingTests;
  if (names.length === 0) return `npm test failed with exit code ${tests.exitCode ?? 'none'}.`;
  const shown = names.slice(0, 5).join('; ');
  const more = names.length > 5 ? ` and ${names.length - 5} more` : '';
  return `${names.length} ${names.length === 1 ? 'test' : 'tests'} failed: ${shown}${more}.`;
}
