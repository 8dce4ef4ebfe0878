/**
 * Runs acceptance scenarios against a running droplet: each step's request (captured
 * values filled in), its answer checked against `expect` as a subset, its captures
 * taken for the steps after it. A scenario stops at its first failing step. Requests go
 * through the verifier's probe, so they never leave the droplet's origin.
 */
import { isDeepStrictEqual } from 'node:util';
import type { AcceptanceScenario, AcceptanceStep, ScenarioResult } from '../domain/acceptance.js';
import type { ContractCheck } from '../domain/verification.js';
import { probe, snippet } from './http-probe.js';
import type { AcceptanceExchange } from './openapi-checks.js';

export interface AcceptanceRunOptions {
  /** The droplet's API token, sent unless a step says `"auth": false`. */
  token: string;
  timeoutMs: number;
  signal: AbortSignal;
  /** Told of every answer, for the checks against the OpenAPI document. */
  onExchange?: (exchange: AcceptanceExchange) => void;
}

type Captures = ReadonlyMap<string, unknown>;

const PLACEHOLDER = /\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}/g;
const WHOLE_PLACEHOLDER = /^\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}$/;

class UnknownCapture extends Error {}

function captured(name: string, captures: Captures): unknown {
  if (!captures.has(name)) throw new UnknownCapture(`{{${name}}} was not captured by an earlier step`);
  return captures.get(name);
}

/** A string with `{{name}}` filled in; a value that is the placeholder alone keeps its type. */
function fillString(text: string, captures: Captures, inPath: boolean): unknown {
  const whole = WHOLE_PLACEHOLDER.exec(text);
  if (whole && !inPath) return captured(whole[1]!, captures);
  return text.replace(PLACEHOLDER, (_match, name: string) => {
    const value = captured(name, captures);
    const plain = typeof value === 'string' ? value : JSON.stringify(value);
    return inPath ? encodeURIComponent(plain) : plain;
  });
}

/** Fills placeholders in every string of a JSON value. */
export function fill(value: unknown, captures: Captures): unknown {
  if (typeof value === 'string') return fillString(value, captures, false);
  if (Array.isArray(value)) return value.map((item) => fill(item, captures));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fill(item, captures)]));
  }
  return value;
}

/**
 * Where `actual` departs from `expected`, or null when it matches: objects match on the
 * keys `expected` lists (recursively), arrays and scalars must be equal.
 */
export function subsetMismatch(expected: unknown, actual: unknown, path = '$'): string | null {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return `${path} is ${describe(actual)}, not an object`;
    for (const [key, value] of Object.entries(expected)) {
      if (!Object.hasOwn(actual, key)) return `${path}.${key} is missing`;
      const mismatch = subsetMismatch(value, (actual as Record<string, unknown>)[key], `${path}.${key}`);
      if (mismatch) return mismatch;
    }
    return null;
  }
  return isDeepStrictEqual(expected, actual) ? null : `${path} is ${describe(actual)}, not ${describe(expected)}`;
}

function describe(value: unknown): string {
  return value === undefined ? 'absent' : snippet(JSON.stringify(value), 80);
}

type StepOutcome = { passed: true; captures: Map<string, unknown> } | { passed: false; expected: string; got: string };

async function runStep(baseUrl: string, step: AcceptanceStep, captures: Captures, options: AcceptanceRunOptions): Promise<StepOutcome> {
  const { method } = step.request;
  let path: string;
  let body: unknown;
  let expectedJson: unknown;
  try {
    path = fillString(step.request.path, captures, true) as string;
    body = step.request.body === undefined ? undefined : fill(step.request.body, captures);
    expectedJson = step.expect.json === undefined ? undefined : fill(step.expect.json, captures);
  } catch (error) {
    if (!(error instanceof UnknownCapture)) throw error;
    return { passed: false, expected: `${method} ${step.request.path}`, got: error.message };
  }
  const wanted = `${method} ${path} answers ${step.expect.status}${expectedJson === undefined ? '' : ` with ${describe(expectedJson)}`}`;
  const outcome = await probe(baseUrl, {
    method,
    path,
    ...(step.auth === false ? {} : { token: options.token }),
    ...(body === undefined ? {} : { json: body }),
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  });
  if (!outcome.answered) return { passed: false, expected: wanted, got: outcome.reason };
  const { response } = outcome;
  options.onExchange?.({ method, path, status: response.status, json: response.json });
  if (response.status !== step.expect.status) return { passed: false, expected: wanted, got: `${response.status}: ${snippet(response.text)}` };
  if (expectedJson !== undefined) {
    const mismatch = subsetMismatch(expectedJson, response.json);
    if (mismatch) return { passed: false, expected: wanted, got: `${response.status}: ${mismatch}` };
  }
  const next = new Map(captures);
  for (const [name, field] of Object.entries(step.capture ?? {})) {
    const source = response.json;
    if (source === null || typeof source !== 'object' || !Object.hasOwn(source, field)) {
      return { passed: false, expected: `${wanted}, with a field "${field}" to capture`, got: `${response.status}: ${snippet(response.text)}` };
    }
    next.set(name, (source as Record<string, unknown>)[field]);
  }
  return { passed: true, captures: next };
}

/** Runs the scenarios one after another (later ones may see what earlier ones created). */
export async function runAcceptance(baseUrl: string, scenarios: readonly AcceptanceScenario[], options: AcceptanceRunOptions): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    let captures: Captures = new Map();
    let result: ScenarioResult = { name: scenario.name, covers: scenario.covers, passed: true, failedStep: null, expected: '', got: '' };
    for (const [index, step] of scenario.steps.entries()) {
      const outcome = await runStep(baseUrl, step, captures, options);
      if (!outcome.passed) {
        result = { ...result, passed: false, failedStep: index + 1, expected: outcome.expected, got: outcome.got };
        break;
      }
      captures = outcome.captures;
    }
    results.push(result);
  }
  return results;
}

/** One contract check per scenario, so a failing one is reported and repaired like any other check. */
export function acceptanceChecks(results: readonly ScenarioResult[], scenarios: readonly AcceptanceScenario[]): ContractCheck[] {
  return results.map((result, index) => ({
    name: `acceptance: ${result.name}`,
    passed: result.passed,
    expected: result.passed ? `covers "${result.covers}"` : `covers "${result.covers}"; step ${result.failedStep}: ${result.expected}`,
    got: result.passed ? `all ${scenarios[index]?.steps.length ?? 0} steps passed` : result.got,
  }));
}
