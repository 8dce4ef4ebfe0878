/**
 * Chooses the sandbox for this host from the SANDBOX setting: bubblewrap when it really
 * works here (proved by running it, not by finding the binary), else the plain process
 * sandbox, and says which, why, and which resource caps are in force.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BubblewrapSandbox, bubblewrapArgs, executorSecretPaths } from './bubblewrap.js';
import { detectResourceLimiter, type LimiterProbeOptions } from './resource-limits.js';
import { ProcessSandbox, type ProcessSandboxOptions } from './process-sandbox.js';
import type { Sandbox } from './types.js';

export type SandboxMode = 'auto' | 'required' | 'off';

export interface SandboxFactoryOptions extends Omit<ProcessSandboxOptions, 'limiter'> {
  /** SANDBOX: `auto` uses bubblewrap when it works, `required` needs it, `off` never uses it. */
  mode: SandboxMode;
  /** SANDBOX_MEMORY_MB. */
  memoryMb: number;
  /** SANDBOX_MAX_PROCESSES. */
  maxProcesses: number;
  /** The executor's DATA_DIR, HOME and working directory: hidden from commands (with `.env`). */
  dataDir: string;
  executorHome: string;
  executorCwd: string;
  bwrapPath?: string;
  /** How limits are probed (tests pin the mechanism). */
  limiterProbe?: LimiterProbeOptions;
}

export interface SandboxChoice {
  sandbox: Sandbox;
  kind: Sandbox['kind'];
  /**
   * Set only when `required` and bubblewrap does not work here: the sandbox returned is
   * a plain process group, and builds must be refused saying this.
   */
  unavailableReason: string | null;
  /** One line for start-up logs: the isolation in force and, when bubblewrap is not, why. */
  isolation: string;
  /** Which mechanism caps memory and process count. */
  limits: string;
}

const PROBE_TIMEOUT_MS = 10_000;
const probes = new Map<string, string | null>();

/**
 * Null when `bwrap` runs a command with the policy every command gets (namespaces,
 * masks, binds) on this host; else why not. Cached per binary: the answer does not change.
 */
export function probeBubblewrap(bwrapPath = '/usr/bin/bwrap'): string | null {
  const cached = probes.get(bwrapPath);
  if (cached !== undefined) return cached;
  const scratch = mkdtempSync(join(tmpdir(), 'bwrap-probe-'));
  let reason: string | null;
  try {
    const args = bubblewrapArgs({ cwd: scratch, network: false, homeDir: scratch, npmCacheDir: scratch, hiddenPaths: [] });
    const result = spawnSync(bwrapPath, [...args, '--', '/bin/sh', '-c', 'exit 0'], { timeout: PROBE_TIMEOUT_MS, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    if (result.error) reason = `${bwrapPath} could not run: ${result.error.message}`;
    else if (result.status !== 0) reason = `${bwrapPath} failed (exit ${result.status ?? result.signal}): ${(result.stderr || result.stdout).trim().slice(0, 300) || 'no output'}`;
    else reason = null;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  probes.set(bwrapPath, reason);
  return reason;
}

export function createSandbox(options: SandboxFactoryOptions): SandboxChoice {
  const { mode, memoryMb, maxProcesses, dataDir, executorHome, executorCwd, bwrapPath, limiterProbe, ...base } = options;
  const limiter = detectResourceLimiter({ memoryMb, maxProcesses }, limiterProbe);
  const processOptions: ProcessSandboxOptions = { ...base, limiter };
  if (mode === 'off') {
    return { sandbox: new ProcessSandbox(processOptions), kind: 'process', unavailableReason: null, isolation: 'process group only (SANDBOX=off)', limits: limiter.description };
  }
  const problem = probeBubblewrap(bwrapPath);
  if (problem === null) {
    const sandbox = new BubblewrapSandbox({
      ...processOptions,
      bwrapPath,
      hiddenPaths: executorSecretPaths({ dataDir, homeDir: executorHome, cwd: executorCwd }),
    });
    return { sandbox, kind: 'bubblewrap', unavailableReason: null, isolation: 'bubblewrap: read-only host, no network but for installs, secrets masked', limits: limiter.description };
  }
  return {
    sandbox: new ProcessSandbox(processOptions),
    kind: 'process',
    unavailableReason: mode === 'required' ? `SANDBOX=required but bubblewrap does not work here: ${problem}` : null,
    isolation: `process group only: bubblewrap does not work here (${problem})`,
    limits: limiter.description,
  };
}
