/**
 * Droplet directories for the supervisor's tests: real releases (tiny node HTTP servers),
 * a supervisor.json, and helpers to drive the supervisor's CLI and hammer its public port.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive, isZombie, processesUnder } from './processes.js';
import { RELEASE_SOURCES, type ReleaseKind } from './supervisor-releases.js';
import type { Backend } from '../../src/deploy/fleet/supervisor.js';

export const SUPERVISOR = fileURLToPath(new URL('../../host-agent/droplet-supervisor.mjs', import.meta.url));

export type { ReleaseKind };

/** A release: its kind, written as server.mjs, or at `file` inside the release. */
export type ReleaseSpec = ReleaseKind | { kind: ReleaseKind; file: string };

export interface DropletOptions {
  releases: Record<string, ReleaseSpec>;
  current?: string;
  /** launch.entries; given, argv runs `{release}/{entry}` instead of `{release}/server.mjs`. */
  entries?: Record<string, string>;
  /** More top-level settings of supervisor.json (logMaxBytes, logCheckMs, …). */
  config?: Record<string, unknown>;
  envFile?: string;
  launchEnv?: Record<string, string>;
  holdRequestsMs?: number;
  /** Put the droplet so deep that its socket path is longer than a unix socket address may be. */
  deep?: boolean;
}

export interface Droplet {
  dir: string;
  port: number;
  url: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Each temporary base and the droplet dir inside it. */
const dirs = new Map<string, string>();

export async function makeDroplet(options: DropletOptions): Promise<Droplet> {
  const base = mkdtempSync(join(tmpdir(), 'supervisor-'));
  const dir = join(base, ...(options.deep ? ['d'.repeat(60), 'e'.repeat(60)] : []), 'demo');
  for (const [release, spec] of Object.entries(options.releases)) {
    const { kind, file } = typeof spec === 'string' ? { kind: spec, file: 'server.mjs' } : spec;
    mkdirSync(dirname(join(dir, 'releases', release, file)), { recursive: true });
    writeFileSync(join(dir, 'releases', release, 'package.json'), '{"type":"module"}\n');
    writeFileSync(join(dir, 'releases', release, file), RELEASE_SOURCES[kind]);
  }
  mkdirSync(join(dir, 'shared'), { recursive: true });
  const envFile = join(dir, 'shared', '.env');
  writeFileSync(envFile, options.envFile ?? 'GREETING=hello\n');
  if (options.current) symlinkSync(join('releases', options.current), join(dir, 'current'));
  const port = await freePort();
  const config = {
    version: 1,
    droplet: 'demo',
    listen: { host: '127.0.0.1', port },
    launch: {
      argv: [process.execPath, options.entries ? '{release}/{entry}' : '{release}/server.mjs'],
      cwd: '{release}',
      envFile,
      env: options.launchEnv ?? { PATH: '/usr/bin:/bin' },
      ...(options.entries ? { entries: options.entries } : {}),
    },
    health: { path: '/health', timeoutMs: 4_000 },
    restart: { initialDelayMs: 100, maxDelayMs: 2_000, resetAfterMs: 30_000 },
    stopGraceMs: 2_000,
    drainTimeoutMs: 10_000,
    holdRequestsMs: options.holdRequestsMs ?? 10_000,
    ...options.config,
  };
  writeFileSync(join(dir, 'supervisor.json'), JSON.stringify(config, null, 2));
  dirs.set(base, dir);
  return { dir, port, url: `http://127.0.0.1:${port}` };
}

/** A backend as the control protocol describes it: the executor's own type of it. */
export type BackendView = Backend;

/** Any answer of the control protocol (status, prepare, promote, …). */
export interface Answer {
  ok: boolean;
  pid?: number;
  listen?: { host: string; port: number };
  state?: 'running' | 'idle' | 'restarting' | 'stopping';
  active?: BackendView | null;
  candidate?: BackendView | null;
  alreadyActive?: boolean;
  stopped?: { release: string; pid: number } | null;
  error?: { code: string; message?: string; log?: string };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The last stdout line, parsed (the answer), or null. */
  answer: Answer | null;
}

export function supervisorCli(args: string[], env: NodeJS.ProcessEnv = { PATH: process.env.PATH }): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SUPERVISOR, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      let answer: Answer | null = null;
      try {
        answer = JSON.parse(last) as Answer;
      } catch {
        // not JSON: a plain line
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : error ? 1 : 0, stdout, stderr, answer });
    });
  });
}

export const ctl = (dir: string, request: object) => supervisorCli(['ctl', dir, JSON.stringify(request)]);

/** Polls an async condition until it holds (bounded). */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

/** Starts the supervisor and waits until its current release serves. */
export async function startServing(droplet: Droplet): Promise<Answer> {
  const started = await supervisorCli(['start', droplet.dir]);
  if (started.code !== 0) throw new Error(`start failed: ${started.stdout} ${started.stderr}`);
  let status: Answer | null = null;
  await until(async () => {
    status = (await ctl(droplet.dir, { cmd: 'status' })).answer;
    return status?.state === 'running';
  });
  if (!status) throw new Error('the supervisor never answered status');
  return status;
}

export const running = (pid: number) => isAlive(pid) && !isZombie(pid);

export async function getText(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url);
  return { status: response.status, text: await response.text() };
}

export interface HammerResult {
  sent: number;
  failures: string[];
  seen: Map<string, number>;
}

/** Clients sending GET requests back to back until stopped; every non-200 or error is a failure. */
export function hammer(url: string, clients = 4): { stop: () => Promise<HammerResult> } {
  let stopped = false;
  const result: HammerResult = { sent: 0, failures: [], seen: new Map() };
  const client = async () => {
    while (!stopped) {
      result.sent += 1;
      try {
        const { status, text } = await getText(url);
        if (status === 200) result.seen.set(text, (result.seen.get(text) ?? 0) + 1);
        else result.failures.push(`${status} ${text}`);
      } catch (err) {
        result.failures.push(String(err));
      }
    }
  };
  const loops = Array.from({ length: clients }, client);
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      return result;
    },
  };
}

function readOr(file: string, fallback = ''): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** The supervisor's own log (it must never have hit an uncaught error). */
export const supervisorLog = (droplet: Droplet) => readOr(join(droplet.dir, 'logs', 'supervisor.log'));

/** Shuts every supervisor down, kills whatever is left under the droplet dirs, removes them. */
export async function cleanupDroplets(): Promise<void> {
  for (const [base, dir] of dirs) {
    dirs.delete(base);
    const supervisorPid = Number(readOr(join(dir, 'run', 'supervisor.pid')));
    await ctl(dir, { cmd: 'shutdown' });
    const leftovers = processesUnder(base);
    if (supervisorPid > 0 && (await until(() => !running(supervisorPid), 5_000)) === false) leftovers.push(supervisorPid);
    for (const pid of leftovers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(base, { recursive: true, force: true });
  }
}
