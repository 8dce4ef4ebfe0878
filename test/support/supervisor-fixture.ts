/**
 * Droplet directories for the supervisor's tests: real releases (tiny node HTTP servers),
 * a supervisor.json, and helpers to drive the supervisor's CLI and hammer its public port.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive, isZombie, processesUnder } from './processes.js';

export const SUPERVISOR = fileURLToPath(new URL('../../host-agent/droplet-supervisor.mjs', import.meta.url));

/** A release that serves: /health, / (its release id), /crash, /env, /echo, /slow?ms=N. */
const SERVING = `
import http from 'node:http';
import { basename } from 'node:path';
const release = basename(process.cwd());
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/health') {
    res.setHeader('content-type', 'application/json');
    return res.end('{"status":"healthy"}');
  }
  if (url.pathname === '/crash') return res.end('crashing', () => process.exit(1));
  if (url.pathname === '/env') return res.end(JSON.stringify(process.env));
  if (url.pathname === '/slow') return setTimeout(() => res.end(release), Number(url.searchParams.get('ms')));
  if (url.pathname === '/echo') {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    return req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end(JSON.stringify({ method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
  }
  res.end(release);
});
server.listen(Number(process.env.SERVICE_PORT), process.env.HOST, () => console.log(release + ' listening on ' + process.env.SERVICE_PORT));
`;

/** A release that listens but never reports healthy. */
const NEVER_HEALTHY = `
import http from 'node:http';
console.error('still warming up: the cache never fills');
http.createServer((req, res) => {
  res.statusCode = 503;
  res.end('{"status":"starting"}');
}).listen(Number(process.env.SERVICE_PORT), process.env.HOST);
`;

/** A release that dies at start. */
const EXITS = `
console.error('boom: DATABASE_URL is not set');
process.exit(1);
`;

export type ReleaseKind = 'serving' | 'never-healthy' | 'exits';
const SOURCES: Record<ReleaseKind, string> = { serving: SERVING, 'never-healthy': NEVER_HEALTHY, exits: EXITS };

export interface DropletOptions {
  releases: Record<string, ReleaseKind>;
  current?: string;
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
  for (const [release, kind] of Object.entries(options.releases)) {
    mkdirSync(join(dir, 'releases', release), { recursive: true });
    writeFileSync(join(dir, 'releases', release, 'server.mjs'), SOURCES[kind]);
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
    launch: { argv: [process.execPath, '{release}/server.mjs'], cwd: '{release}', envFile, env: options.launchEnv ?? { PATH: '/usr/bin:/bin' } },
    health: { path: '/health', timeoutMs: 4_000 },
    restart: { initialDelayMs: 100, maxDelayMs: 2_000, resetAfterMs: 30_000 },
    stopGraceMs: 2_000,
    drainTimeoutMs: 10_000,
    holdRequestsMs: options.holdRequestsMs ?? 10_000,
  };
  writeFileSync(join(dir, 'supervisor.json'), JSON.stringify(config, null, 2));
  dirs.set(base, dir);
  return { dir, port, url: `http://127.0.0.1:${port}` };
}

export interface BackendView {
  release: string;
  pid: number;
  port: number;
  startedAt: string;
  restarts: number;
  healthy: boolean;
}

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
