/**
 * The real service (`src/main.ts` under tsx) as a child process on a given data dir and
 * port, so a test can SIGKILL it at a chosen moment and start it again on the same data
 * dir, as a crash and a restart would. Its log (pino JSON lines) is kept for diagnostics.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { collectStream, type StreamResult } from './ws-client.js';

const START_TIMEOUT_MS = 60_000;
const LOG_LIMIT = 200_000;

export interface ExecutorProcess {
  readonly child: ChildProcess;
  readonly baseUrl: string;
  readonly wsUrl: string;
  /** What it printed so far (the end of it, when long). */
  output(): string;
  /** kill -9, then waits until the process is gone (reaped, so its data dir lock is free). */
  kill9(): Promise<void>;
  /** Resolves once the process has exited (however it was ended). */
  exited(): Promise<void>;
  /** SIGTERM (a graceful stop), then waits for it to exit. */
  stop(): Promise<void>;
}

export interface SpawnExecutorOptions {
  dataDir: string;
  port: number;
  /** Added to the minimal environment (PATH, HOME, DATA_DIR, PORT, LOG_LEVEL). */
  env?: Record<string, string>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts the service and waits until it answers /executor/health (resume has run by then or is running). */
export async function spawnExecutor({ dataDir, port, env = {} }: SpawnExecutorOptions): Promise<ExecutorProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-LOG_LIMIT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const gone = exited(child);
  const baseUrl = `http://127.0.0.1:${port}`;
  const handle: ExecutorProcess = {
    child,
    baseUrl,
    wsUrl: `ws://127.0.0.1:${port}`,
    output: () => output,
    exited: () => gone,
    async kill9() {
      child.kill('SIGKILL');
      await gone;
    },
    async stop() {
      child.kill('SIGTERM');
      await gone;
    },
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the executor exited at start:\n${output}`);
    try {
      if ((await fetch(`${baseUrl}/executor/health`, { signal: AbortSignal.timeout(2_000) })).ok) return handle;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await handle.kill9();
  throw new Error(`the executor did not start within ${START_TIMEOUT_MS} ms:\n${output}`);
}

export interface ProgressMessage {
  type: string;
  data?: { step?: string; message?: string } & Record<string, unknown>;
}

/**
 * Follows a build's stream and calls `onProgress` synchronously for each step.progress
 * message as it arrives (a test kills the executor from there, at that very moment).
 * Resolves when the stream closes, which a killed executor does too.
 */
export function followProgress(wsUrl: string, buildId: string, onProgress: (message: string, step: string) => void): Promise<StreamResult> {
  return collectStream(`${wsUrl}/executor/builds/${buildId}/stream`, {
    timeoutMs: 300_000,
    onMessage: (raw) => {
      const message = raw as ProgressMessage;
      if (message.type === 'step.progress' && typeof message.data?.message === 'string') onProgress(message.data.message, String(message.data.step ?? ''));
    },
  });
}
