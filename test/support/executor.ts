/**
 * Starts the real executor on an ephemeral loopback port with a temp data dir,
 * and tears everything down afterwards: builds, deployed droplets, files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { loadConfig } from '../../src/composition/config.js';
import type { BuildView } from '../../src/domain/status.js';
import { createExecutor, type Executor, type ExecutorOverrides } from '../../src/composition/executor.js';
import { killSupervisors } from './supervisors.js';
import { freePort } from '../../src/sandbox/ports.js';

export interface TestExecutor {
  executor: Executor;
  baseUrl: string;
  wsUrl: string;
  dataDir: string;
  /** Stops the executor; with `keepData` the data dir (and deployments) survive for a restart. */
  close(options?: { keepData?: boolean }): Promise<void>;
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'executor-'));
}

/** Kills every droplet (supervisor and backends) the local deploy target started from this data dir. */
export function stopDeployedDroplets(executor: Executor): void {
  killSupervisors(join(executor.config.dataDir, 'deployments'));
}

export async function startExecutor(
  env: Record<string, string> = {},
  options: ExecutorOverrides & { dataDir?: string } = {},
): Promise<TestExecutor> {
  const dataDir = options.dataDir ?? tempDataDir();
  const port = await freePort();
  const config = loadConfig({ DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'silent', ...env });
  const executor = await createExecutor(config, options);
  await executor.app.listen({ port, host: '127.0.0.1' });
  // As main.ts does: waits only until the unfinished builds are queued again, not for them to run.
  await executor.resume();
  return {
    executor,
    baseUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    dataDir,
    async close({ keepData = false } = {}) {
      if (!keepData) stopDeployedDroplets(executor);
      await executor.close();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function api<T = unknown>(
  baseUrl: string,
  path: string,
  init: { method?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const hasBody = init.body !== undefined || init.rawBody !== undefined;
  const response = await fetch(`${baseUrl}${path}`, {
    method: init.method ?? (hasBody ? 'POST' : 'GET'),
    headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T, headers: response.headers };
}

export async function submitBuild(baseUrl: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> {
  const response = await api<{ build_id: string }>(baseUrl, '/executor/build-droplet', { body, headers });
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return response.body.build_id;
}

/** Polls the status route until the build reaches one of `statuses` (fails fast on an unexpected terminal state). */
export async function waitForStatus(
  baseUrl: string,
  buildId: string,
  statuses: readonly BuildView['status'][],
  timeoutMs = 180_000,
  headers: Record<string, string> = {},
): Promise<BuildView> {
  const deadline = Date.now() + timeoutMs;
  let last: BuildView | undefined;
  while (Date.now() < deadline) {
    last = (await api<BuildView>(baseUrl, `/executor/builds/${buildId}/status`, { headers })).body;
    if (statuses.includes(last.status)) return last;
    if (['completed', 'failed', 'cancelled'].includes(last.status)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Build ${buildId} is ${last?.status}, expected ${statuses.join('/')}: ${JSON.stringify(last?.error ?? last?.steps.find((s) => s.status === 'failed'))}`);
}

/** Polls until a step is in progress (e.g. to cancel or kill during the verifier). */
export async function waitForStep(baseUrl: string, buildId: string, step: string, timeoutMs = 120_000): Promise<BuildView> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const view = (await api<BuildView>(baseUrl, `/executor/builds/${buildId}/status`)).body;
    if (view.steps.some((s) => s.step === step && s.status === 'in_progress')) return view;
    if (['completed', 'failed', 'cancelled'].includes(view.status)) throw new Error(`Build ended (${view.status}) before ${step} ran`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Step ${step} of ${buildId} never started`);
}
