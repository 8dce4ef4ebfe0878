/**
 * Starts a verified droplet in the sandbox, waits for it to answer, runs the contract
 * check and the log check against it, and stops it (nothing is left running).
 */
import { randomBytes } from 'node:crypto';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DropletIdentity } from '../domain/build.js';
import { CancelledError } from '../domain/errors.js';
import { readRegularFile } from '../support/files.js';
import { freePort } from '../sandbox/ports.js';
import type { Sandbox, SandboxProcess } from '../sandbox/types.js';
import { checkContract } from './contract.js';
import { probe, snippet } from './http-probe.js';
import type { ContractCheck } from '../domain/verification.js';
import type { AcceptanceScenario, ScenarioResult } from '../domain/acceptance.js';
import { acceptanceChecks, runAcceptance } from './acceptance.js';
import { openApiChecks, type AcceptanceExchange } from './openapi-checks.js';
import type { ApiDescription } from './openapi.js';

const DEFAULT_ENTRY = 'src/server.js';
const HOST = '127.0.0.1';
const POLL_MS = 100;
const START_OUTPUT_CHARS = 1_500;
/** A manifest is a few KiB; droplet code could make it a link to /dev/zero or a FIFO. */
export const MANIFEST_LIMIT_BYTES = 1024 * 1024;
/** One acceptance request; a droplet's business route answers well within it. */
const ACCEPTANCE_STEP_TIMEOUT_MS = 5_000;

export interface DropletRunOptions {
  startTimeoutMs: number;
  signal: AbortSignal;
  /** Run against the droplet after the contract checks, each as a check of its own. */
  acceptance?: readonly AcceptanceScenario[];
  /** Held against the acceptance run: every operation exercised, every answer as documented. */
  api?: ApiDescription | null;
  /** The dependency store entry the droplet runs with. */
  dependencies?: string;
  onProgress?: (message: string, data?: Record<string, unknown>) => void;
}

export interface DropletRun {
  /** `droplet starts`, then (when it started) the contract checks and `logs are JSON lines`. */
  checks: ContractCheck[];
  /** How each acceptance scenario went; empty when there were none or the droplet did not start. */
  scenarios: ScenarioResult[];
  durationMs: number;
  /** What the droplet said of itself (version, capabilities), for the registry. */
  observed: { version?: string; capabilities?: string[] };
}

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
async function waitUntilAnswering(baseUrl: string, proc: SandboxProcess, options: DropletRunOptions): Promise<ContractCheck> {
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

/** Droplets log structured JSON lines, never bare prints: at least one line must be a JSON object. */
export function logCheck(output: string): ContractCheck {
  const lines = output.split(/\r?\n/).filter((line) => line.trim() !== '');
  const isJsonObject = (line: string) => {
    try {
      const value: unknown = JSON.parse(line);
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    } catch {
      return false;
    }
  };
  const json = lines.filter(isJsonObject).length;
  const firstOther = lines.find((line) => !isJsonObject(line));
  const got = lines.length === 0
    ? 'no output at all'
    : `${json} of ${lines.length} lines are JSON objects${json === 0 && firstOther ? `; first line: ${snippet(firstOther, 80)}` : ''}`;
  return { name: 'logs are JSON lines', passed: json > 0, expected: 'at least one JSON object per line on stdout/stderr', got };
}

/** Reads version and capabilities from the running droplet; anything malformed is just left out. */
async function observe(baseUrl: string, token: string, signal: AbortSignal): Promise<DropletRun['observed']> {
  const read = async (path: string): Promise<Record<string, unknown>> => {
    try {
      const response = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.any([signal, AbortSignal.timeout(2_000)]) });
      const body: unknown = await response.json();
      return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  };
  const [health, capabilities] = await Promise.all([read('/health'), read('/capabilities')]);
  const list = capabilities.capabilities;
  return {
    ...(typeof health.version === 'string' ? { version: health.version } : {}),
    ...(Array.isArray(list) && list.every((item) => typeof item === 'string') ? { capabilities: list } : {}),
  };
}

function redact(checks: ContractCheck[], secret: string): ContractCheck[] {
  const clean = (text: string) => text.split(secret).join('[redacted]');
  return checks.map((entry) => ({ ...entry, expected: clean(entry.expected), got: clean(entry.got) }));
}

/** Runs the scenarios, then holds what they saw against the OpenAPI document; adds the checks to `checks`. */
async function checkAcceptance(baseUrl: string, token: string, options: DropletRunOptions, checks: ContractCheck[]): Promise<ScenarioResult[]> {
  if (!options.acceptance?.length) return [];
  const exchanges: AcceptanceExchange[] = [];
  const results = await runAcceptance(baseUrl, options.acceptance, {
    token,
    timeoutMs: ACCEPTANCE_STEP_TIMEOUT_MS,
    signal: options.signal,
    onExchange: (exchange) => exchanges.push(exchange),
  });
  checks.push(...acceptanceChecks(results, options.acceptance));
  if (options.api) checks.push(...openApiChecks(options.api, exchanges));
  const passed = results.filter((result) => result.passed).length;
  options.onProgress?.(`Acceptance: ${passed} of ${results.length} scenarios passed.`, { scenarios_passed: passed, scenarios: results.length });
  return results;
}

/** @throws CancelledError when the signal fires (the droplet is stopped first). */
export async function runDropletChecks(sandbox: Sandbox, workdir: string, droplet: DropletIdentity, options: DropletRunOptions): Promise<DropletRun> {
  const entry = await dropletEntry(workdir);
  if ('refused' in entry) {
    return { checks: [{ name: 'droplet starts', passed: false, expected: 'a plain package.json whose main is inside the workspace', got: entry.refused }], scenarios: [], durationMs: 0, observed: {} };
  }
  const port = await freePort(HOST);
  // A fresh token per run: it never reaches a report, an event or the repository.
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
    },
    // The droplet needs no internet; the sandbox forwards a host port to the one it listens on.
    network: false,
    exposePort: port,
    signal: options.signal,
    ...(options.dependencies ? { dependencies: options.dependencies } : {}),
  });
  const checks: ContractCheck[] = [];
  let scenarios: ScenarioResult[] = [];
  let observed: DropletRun['observed'] = {};
  try {
    const hostPort = (await proc.exposedPort) ?? port;
    const baseUrl = `http://${HOST}:${hostPort}`;
    const started = await waitUntilAnswering(baseUrl, proc, options);
    checks.push(started);
    if (started.passed) {
      options.onProgress?.(`Droplet ${started.got} on port ${port}.`, { port });
      checks.push(...(await checkContract(baseUrl, { token, signal: options.signal, requireAuthentication: true })));
      scenarios = await checkAcceptance(baseUrl, token, options, checks);
      observed = await observe(baseUrl, token, options.signal);
    }
  } finally {
    await proc.stop();
  }
  const result = await proc.exited;
  if (result.aborted || options.signal.aborted) throw new CancelledError();
  if (checks[0]?.passed) checks.push(logCheck(result.output));
  const clean = (text: string) => text.split(token).join('[redacted]');
  scenarios = scenarios.map((scenario) => ({ ...scenario, expected: clean(scenario.expected), got: clean(scenario.got) }));
  return { checks: redact(checks, token), scenarios, durationMs: result.durationMs, observed };
}
