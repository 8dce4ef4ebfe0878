/**
 * Starts a droplet in the sandbox for its contract run and begins waiting for it to
 * answer, without waiting: the verifier launches it while the droplet's own tests run,
 * so a build pays for the start once, in parallel, not after the tests.
 */
import { randomBytes } from 'node:crypto';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DropletIdentity } from '../domain/build.js';
import { CancelledError } from '../domain/errors.js';
import type { ContractCheck } from '../domain/verification.js';
import { freePort } from '../sandbox/ports.js';
import type { Sandbox, SandboxProcess } from '../sandbox/types.js';
import { readRegularFile } from '../support/files.js';
import { probe } from './http-probe.js';

const DEFAULT_ENTRY = 'src/server.js';
const HOST = '127.0.0.1';
const POLL_MS = 50;
const START_OUTPUT_CHARS = 1_500;
/** A manifest is a few KiB; droplet code could make it a link to /dev/zero or a FIFO. */
export const MANIFEST_LIMIT_BYTES = 1024 * 1024;
/** The contract run's records: its own, apart from whatever the tests left in the workspace. */
const CONTRACT_DATA_DIR = '.executor-contract-data';

export interface LaunchOptions {
  startTimeoutMs: number;
  signal: AbortSignal;
  /** The dependency store entry the droplet runs with. */
  dependencies?: string;
}

export type DropletLaunch =
  | { refused: string }
  | {
      proc: SandboxProcess;
      port: number;
      /** A fresh token per run: it never reaches a report, an event or the repository. */
      token: string;
      baseUrl: Promise<string>;
      /** The `droplet starts` check, settled once it answers, exits or runs out of time. */
      started: Promise<ContractCheck>;
    };

/**
 * `main` of package.json when it stays inside the workspace, else the conventional entry.
 * A package.json that is not a plain, reasonably sized file is refused, not read.
 */
export async function dropletEntry(workdir: string): Promise<{ entry: string } | { refused: string }> {
  const manifest = await readRegularFile(join(workdir, 'package.json'), { maxBytes: MANIFEST_LIMIT_BYTES, within: workdir });
  if (manifest.status === 'refused') return { refused: `package.json ${manifest.why}; refused to read it` };
  if (manifest.status === 'missing') return { entry: DEFAULT_ENTRY };
  let main: unknown;
  try {
    main = (JSON.parse(manifest.content.toString('utf8')) as { main?: unknown } | null)?.main;
  } catch {
    return { entry: DEFAULT_ENTRY };
  }
  if (typeof main !== 'string' || main.trim() === '') return { entry: DEFAULT_ENTRY };
  const inside = relative(workdir, resolve(workdir, main));
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return { refused: `package.json main "${main}" leaves the workspace` };
  return { entry: inside };
}

function tail(text: string, chars = START_OUTPUT_CHARS): string {
  const trimmed = text.trim();
  if (trimmed === '') return 'no output';
  return trimmed.length <= chars ? trimmed : `…${trimmed.slice(trimmed.length - chars)}`;
}

/** Polls GET /health until it answers with any status, the process exits, or time runs out. */
async function waitUntilAnswering(baseUrl: string, proc: SandboxProcess, options: LaunchOptions): Promise<ContractCheck> {
  const name = 'droplet starts';
  const expected = `answers GET /health within ${(options.startTimeoutMs / 1000).toFixed(0)} s`;
  const started = performance.now();
  let exited: number | null | undefined;
  void proc.exited.then((result) => {
    exited = result.exitCode;
  });
  for (;;) {
    if (options.signal.aborted) throw new CancelledError();
    const remaining = options.startTimeoutMs - (performance.now() - started);
    if (exited !== undefined) {
      return { name, passed: false, expected, got: `exited with code ${exited ?? 'none'} before answering; output: ${tail(proc.output())}` };
    }
    if (remaining <= 0) {
      return { name, passed: false, expected, got: `no answer on GET /health in time; output: ${tail(proc.output())}` };
    }
    const outcome = await probe(baseUrl, { method: 'GET', path: '/health', timeoutMs: Math.min(1_000, remaining), signal: options.signal });
    if (outcome.answered) {
      const after = Math.round(performance.now() - started);
      return { name, passed: true, expected, got: `answered ${outcome.response.status} after ${after} ms` };
    }
    await new Promise((done) => setTimeout(done, POLL_MS));
  }
}

/** Stops a launched droplet that will not be checked (its tests failed). */
export async function abandonLaunch(launch: DropletLaunch): Promise<void> {
  if ('refused' in launch) return;
  await launch.proc.stop();
  await launch.started.catch(() => undefined);
}

export async function launchDroplet(sandbox: Sandbox, workdir: string, droplet: DropletIdentity, options: LaunchOptions): Promise<DropletLaunch> {
  const entry = await dropletEntry(workdir);
  if ('refused' in entry) return { refused: entry.refused };
  const port = await freePort(HOST);
  const token = randomBytes(24).toString('base64url');
  const proc = sandbox.start({
    command: 'node',
    args: [entry.entry],
    cwd: workdir,
    env: {
      SERVICE_NAME: droplet.name,
      SERVICE_PORT: String(port),
      DROPLET_ID: String(droplet.dropletId),
      ENVIRONMENT: 'development',
      LOG_LEVEL: 'info',
      HOST,
      API_TOKEN: token,
      DATA_DIR: join(workdir, CONTRACT_DATA_DIR),
    },
    // The droplet needs no internet; the sandbox forwards a host port to the one it listens on.
    network: false,
    exposePort: port,
    signal: options.signal,
    ...(options.dependencies ? { dependencies: options.dependencies } : {}),
  });
  const baseUrl = proc.exposedPort.then((hostPort) => `http://${HOST}:${hostPort ?? port}`);
  const started = baseUrl.then((url) => waitUntilAnswering(url, proc, options));
  // Read when the contract run comes; until then a failure must not go unhandled.
  started.catch(() => undefined);
  return { proc, port, token, baseUrl, started };
}
