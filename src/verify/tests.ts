/** Installs a droplet's dependencies and runs its own tests, through the sandbox. */
import { CancelledError } from '../domain/errors.js';
import type { Sandbox, SandboxResult } from '../sandbox/types.js';
import type { CommandSummary } from '../domain/verification.js';
import { failingTestNames, reportsNoTests } from './test-output.js';

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
}

export type TestSummary = CommandSummary & { failingTests: string[] };

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

/** @throws CancelledError when the signal fires. */
export async function runTests(sandbox: Sandbox, workdir: string, options: CommandOptions): Promise<TestSummary> {
  const result = await sandbox.run({ command: 'npm', args: TEST_ARGS, cwd: workdir, network: false, ...options });
  const summary = summarise('npm test', result);
  const noTests = summary.exitCode === 0 && reportsNoTests(result.output);
  return { ...summary, failingTests: noTests ? [] : failingTestNames(result.output) };
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
