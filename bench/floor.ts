/**
 * The floor of an offline build, measured on the droplet it made: the droplet's own
 * tests alone, plus its start to the first healthy /health alone, each run bare (no
 * sandbox, no executor) on a copy of its committed tree with the stored dependencies.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DependencyStore } from '../src/sandbox/dependency-store.js';
import { freePort } from '../src/sandbox/ports.js';
import { median } from './stats.js';

export interface Floor {
  testsMs: number;
  startMs: number;
}

function timed(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${command} ${args.join(' ')} exited ${code}`))));
  });
}

async function startToHealthy(dir: string, env: NodeJS.ProcessEnv): Promise<number> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'floor-data-'));
  const started = performance.now();
  const child = spawn(process.execPath, ['src/server.js'], { cwd: dir, env: { ...env, SERVICE_PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, stdio: 'ignore' });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the droplet exited with ${child.exitCode}`);
      const answer = await fetch(`http://127.0.0.1:${port}/health`).then((response) => response.json() as Promise<{ status?: string }>, () => null);
      if (answer?.status === 'healthy') return performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Medians of `runs` runs each, on the committed tree of `repositoryPath`. */
export async function measureFloor(repositoryPath: string, dependencyStoreRoot: string, runs = 3): Promise<Floor> {
  const dir = mkdtempSync(join(tmpdir(), 'floor-droplet-'));
  try {
    execFileSync('sh', ['-c', `git -C "${repositoryPath}" archive HEAD | tar -x -C "${dir}"`]);
    const stored = await new DependencyStore(dependencyStoreRoot).find(dir);
    if (!stored) throw new Error('the droplet has no stored dependencies to measure against');
    symlinkSync(stored.modules, join(dir, 'node_modules'), 'dir');
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, SERVICE_NAME: 'floor', DROPLET_ID: '1', ENVIRONMENT: 'development', API_TOKEN: 'floor-token' };
    const tests: number[] = [];
    const starts: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      tests.push(await timed('npm', ['test'], dir, { ...env, LOG_LEVEL: 'warn' }));
      starts.push(await startToHealthy(dir, env));
    }
    return { testsMs: median(tests), startMs: median(starts) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
