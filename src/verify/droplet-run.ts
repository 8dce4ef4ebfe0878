/**
 * The contract run of a launched droplet (droplet-launch.ts): once it answers, the UDC
 * contract checks, its SPEC's acceptance scenarios and OpenAPI document, and the log
 * check; then it is stopped (nothing is left running).
 */
import { CancelledError } from '../domain/errors.js';
import { checkContract } from './contract.js';
import { snippet } from './http-probe.js';
import type { ContractCheck } from '../domain/verification.js';
import type { AcceptanceScenario, ScenarioResult } from '../domain/acceptance.js';
import { acceptanceChecks, runAcceptance } from './acceptance.js';
import type { DropletLaunch } from './droplet-launch.js';
import { openApiChecks, type AcceptanceExchange } from './openapi-checks.js';
import type { ApiDescription } from './openapi.js';

/** One acceptance request; a droplet's business route answers well within it. */
const ACCEPTANCE_STEP_TIMEOUT_MS = 5_000;

export interface DropletRunOptions {
  signal: AbortSignal;
  /** Run against the droplet after the contract checks, each as a check of its own. */
  acceptance?: readonly AcceptanceScenario[];
  /** Held against the acceptance run: every operation exercised, every answer as documented. */
  api?: ApiDescription | null;
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

/** Checks and scenario results say what was expected and got: the run's token never appears in either. */
function redact<T extends { expected: string; got: string }>(entries: readonly T[], secret: string): T[] {
  const clean = (text: string) => text.split(secret).join('[redacted]');
  return entries.map((entry) => ({ ...entry, expected: clean(entry.expected), got: clean(entry.got) }));
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

/**
 * Checks a launched droplet (waiting until it answers first) and stops it: nothing is
 * left running. A launch that was refused is reported as the failed `droplet starts`.
 * @throws CancelledError when the signal fires (the droplet is stopped first).
 */
export async function runDropletChecks(launch: DropletLaunch, options: DropletRunOptions): Promise<DropletRun> {
  if ('refused' in launch) {
    return { checks: [{ name: 'droplet starts', passed: false, expected: 'a plain package.json whose main is inside the workspace', got: launch.refused }], scenarios: [], durationMs: 0, observed: {} };
  }
  const { proc, port, token } = launch;
  const checks: ContractCheck[] = [];
  let scenarios: ScenarioResult[] = [];
  let observed: DropletRun['observed'] = {};
  try {
    const baseUrl = await launch.baseUrl;
    const started = await launch.started;
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
  return { checks: redact(checks, token), scenarios: redact(scenarios, token), durationMs: result.durationMs, observed };
}
