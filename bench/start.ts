/**
 * How long `npm start` takes to answer, and what it holds once it does: the compiled
 * executor (dist/main.js, what `npm start` runs) from spawn to its first 200 on /health,
 * and its resident memory then, against a bare Fastify server with one /health route
 * started the same way in the same run. Runs alternate so machine noise falls on both.
 * Usage: npm run build && npm run bench:start [-- --runs 7]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../src/sandbox/ports.js';
import { argument, median } from './stats.js';

const ROOT = resolve(import.meta.dirname, '..');
const EXECUTOR = join(ROOT, 'dist', 'main.js');

// The baseline: Fastify itself, nothing of the executor, resolved from this project's node_modules.
const BARE_SERVER = `
import Fastify from 'fastify';
const app = Fastify();
app.get('/health', async () => ({ status: 'healthy' }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
`;

interface Start {
  readyMs: number;
  rssMiB: number;
}

function residentMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(500) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGKILL');
  });
}

/** Spawns `node <args>` on a free port and polls /health every 10 ms until it answers 200. */
async function timeStart(args: string[], env: Record<string, string>): Promise<Start> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) }, stdio: 'ignore' });
  try {
    const deadline = started + 30_000;
    while (!(await answers(`http://127.0.0.1:${port}/health`))) {
      if (child.exitCode !== null) throw new Error(`node ${args.join(' ')} exited with ${child.exitCode} before answering`);
      if (performance.now() > deadline) throw new Error(`node ${args.join(' ')} did not answer within 30 s`);
      await new Promise((wait) => setTimeout(wait, 10));
    }
    return { readyMs: performance.now() - started, rssMiB: residentMiB(child.pid!) };
  } finally {
    await stopped(child);
  }
}

async function main(): Promise<void> {
  if (!existsSync(EXECUTOR)) throw new Error('dist/main.js is missing: run `npm run build` (npm install does it) first');
  const runs = argument('runs', 7);
  const bare: Start[] = [];
  const executor: Start[] = [];
  for (let run = 0; run < runs; run += 1) {
    bare.push(await timeStart(['--input-type=module', '-e', BARE_SERVER], {}));
    const dataDir = mkdtempSync(join(tmpdir(), 'executor-bench-start-'));
    try {
      // A fresh data dir each run: the start includes creating and migrating the database.
      executor.push(await timeStart([EXECUTOR], { DATA_DIR: dataDir, LOG_LEVEL: 'silent', HOST: '127.0.0.1' }));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const bareMs = median(bare.map((start) => start.readyMs));
  const executorMs = median(executor.map((start) => start.readyMs));
  const bareRss = median(bare.map((start) => start.rssMiB));
  const executorRss = median(executor.map((start) => start.rssMiB));
  console.log(`Start to the first 200 on /health, median of ${runs} alternating runs (fresh data dir each)`);
  console.log(`  bare Fastify server: ${(bareMs / 1000).toFixed(2)} s, ${bareRss.toFixed(0)} MiB resident (baseline)`);
  console.log(`  executor (dist/main.js, as npm start): ${(executorMs / 1000).toFixed(2)} s, ${executorRss.toFixed(0)} MiB resident`);
  console.log(`  ratio: ${(executorMs / bareMs).toFixed(2)}× the bare start (aim: under 2 s absolute), ${(executorRss / bareRss).toFixed(2)}× its memory`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
