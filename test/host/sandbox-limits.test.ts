/**
 * Memory, process-count and output caps on real commands, in the bubblewrap sandbox
 * and in the plain process sandbox, with cgroups and with the prlimit fallback.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHierarchies } from '../../src/sandbox/cgroup.js';
import { detectResourceLimiter } from '../../src/sandbox/resource-limits.js';
import { createSandbox } from '../../src/sandbox/sandbox-factory.js';
import { ProcessSandbox } from '../../src/sandbox/process-sandbox.js';
import type { Sandbox } from '../../src/sandbox/types.js';
import { eventually, processesRunning } from '../support/processes.js';

let root: string;
let workspace: string;
const sandboxes: Record<'bubblewrap' | 'process' | 'prlimit', Sandbox> = {} as never;


function leftoverRunGroups(): string[] {
  return readHierarchies().flatMap((hierarchy) => {
    const parent = join(hierarchy.mount, hierarchy.ownPath, 'executor-sandbox');
    return existsSync(parent) ? readdirSync(parent).filter((entry) => entry.startsWith(`${process.pid}-`)) : [];
  });
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'sandbox-limits-'));
  workspace = join(root, 'data/repos/1-probe');
  mkdirSync(workspace, { recursive: true });
  const base = { baseEnv: process.env, homeDir: join(root, 'data/sandbox-home'), npmCacheDir: join(root, 'npm-cache'), killGraceMs: 500 };
  const limits = { memoryMb: 128, maxProcesses: 32 };
  const common = { ...base, ...limits, dataDir: join(root, 'data'), executorHome: join(root, 'home'), executorCwd: root };
  sandboxes.bubblewrap = createSandbox({ ...common, mode: 'required' }).sandbox;
  sandboxes.process = createSandbox({ ...common, mode: 'off' }).sandbox;
  sandboxes.prlimit = new ProcessSandbox({ ...base, limiter: detectResourceLimiter(limits, { cgroups: false }) });
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const run = (sandbox: Sandbox, command: string, args: string[], outputLimitBytes?: number) =>
  sandbox.run({ command, args, cwd: workspace, timeoutMs: 60_000, outputLimitBytes });

/** Allocates and touches 50 MiB at a time, up to 2 GiB, printing its progress. */
const MEMORY_HOG = "const kept = []; for (let i = 1; i <= 40; i++) { kept.push(Buffer.alloc(50 * 1024 * 1024, 1)); console.log('allocated', i * 50, 'MiB'); } console.log('ALL-ALLOCATED');";

describe('memory cap', () => {
  it.each(['bubblewrap', 'process'] as const)('kills a command of the %s sandbox that allocates far too much', async (kind) => {
    const result = await run(sandboxes[kind], 'node', ['-e', MEMORY_HOG]);
    expect(result.output).toContain('allocated 50 MiB');
    expect(result.output).not.toContain('ALL-ALLOCATED');
    // The cgroup's OOM killer ends it with SIGKILL (bwrap reports that as exit 137).
    expect(result.signal === 'SIGKILL' || result.exitCode === 137).toBe(true);
    expect(leftoverRunGroups()).toEqual([]);
  });

  it('refuses the allocation under prlimit (RLIMIT_DATA) when there are no cgroups', async () => {
    expect(sandboxes.prlimit).toBeInstanceOf(ProcessSandbox);
    expect((sandboxes.prlimit as ProcessSandbox).limits).toBe('memory 128 MiB per process (prlimit RLIMIT_DATA); process count not limited (no usable pids cgroup; RLIMIT_NPROC does not bind root)');
    const result = await run(sandboxes.prlimit, 'node', ['-e', MEMORY_HOG]);
    expect(result.output).not.toContain('ALL-ALLOCATED');
    expect(result.output).toMatch(/allocation failed|out of memory/i);
    expect(result.exitCode).not.toBe(0);
  });
});

describe('process cap', () => {
  it.each(['bubblewrap', 'process'] as const)('stops a fork bomb in the %s sandbox, and nothing of it survives', async (kind) => {
    const result = await run(sandboxes[kind], 'sh', ['-c', 'i=0; while [ $i -lt 200 ]; do sleep 9944 & i=$((i + 1)); done; echo STARTED-ALL']);
    expect(result.output).not.toContain('STARTED-ALL');
    expect(result.output).toMatch(/fork/i);
    expect(await eventually(() => processesRunning('sleep 9944').length === 0)).toBe(true);
    expect(leftoverRunGroups()).toEqual([]);
  });

  it('kills at the end of a run what left the process group (setsid), by its cgroup', async () => {
    const result = await run(sandboxes.process, 'sh', ['-c', 'setsid sleep 9945 >/dev/null 2>&1 & echo detached']);
    expect(result.output).toContain('detached');
    expect(processesRunning('sleep 9945')).toEqual([]);
    expect(leftoverRunGroups()).toEqual([]);
  });
});

describe('output cap', () => {
  it.each(['bubblewrap', 'process'] as const)('keeps head and tail of 1 GB of output from the %s sandbox, with a visible marker', async (kind) => {
    const rssBefore = process.memoryUsage().rss;
    const result = await run(sandboxes[kind], 'sh', ['-c', "echo FIRST-LINE; head -c 1000000000 /dev/zero | tr '\\0' x; echo; echo LAST-LINE"], 64 * 1024);
    expect(result.exitCode).toBe(0);
    expect(result.truncated).toBe(true);
    expect(result.output.startsWith('FIRST-LINE\n')).toBe(true);
    expect(result.output.trimEnd().endsWith('LAST-LINE')).toBe(true);
    const marker = /\n\[\.\.\. (\d+) bytes truncated \.\.\.\]\n/.exec(result.output);
    expect(Number(marker?.[1])).toBeGreaterThan(999_000_000);
    expect(result.output.length).toBeLessThan(64 * 1024 + 100);
    // Streamed through, never held: the executor did not grow by anything like a gigabyte.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 * 1024);
  });
});
