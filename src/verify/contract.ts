/**
 * The UDC contract check of a running droplet: shapes of the five endpoints, the health
 * latency, credentials, the error shape and the declared business routes. Every check
 * becomes a `ContractCheck`; nothing the droplet does makes this throw (only a
 * cancellation does).
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { ContractCheck } from '../domain/verification.js';
import { probe, snippet, type ProbeOutcome, type ProbeRequest } from './http-probe.js';
import {
  capabilitiesSchema,
  dependenciesSchema,
  describeIssues,
  errorBodySchema,
  healthSchema,
  messageResponseSchema,
  stateSchema,
  type Capabilities,
} from './udc-schemas.js';

export const HEALTH_LATENCY_LIMIT_MS = 100;
const HEALTH_TIMED_ATTEMPTS = 3;
const MAX_INTEGRATION_ENDPOINTS = 30;

export interface ContractCheckOptions {
  /** Bearer token the droplet was started with; never appears in the checks. */
  token: string;
  signal: AbortSignal;
  /** Also require `/capabilities` to declare `authentication` (the droplet was given a token). */
  requireAuthentication?: boolean;
  /** Per request. Default 5000. */
  requestTimeoutMs?: number;
}

type Request = Omit<ProbeRequest, 'timeoutMs' | 'signal'>;
type Send = (request: Request) => Promise<ProbeOutcome>;

const validMessage = () => ({
  from_service: 'autonomous-executor',
  message_type: 'task_assignment',
  payload: { task: 'contract-check' },
  trace_id: randomUUID(),
});

function check(name: string, passed: boolean, expected: string, got: string): ContractCheck {
  return { name, passed, expected, got };
}

/** `200 {"status":…}` style description of what came back. */
function described(outcome: ProbeOutcome): string {
  if (!outcome.answered) return outcome.reason;
  return `${outcome.response.status} with ${snippet(outcome.response.text)}`;
}

/** A 2xx whose JSON body matches `schema`. */
function shapeCheck<T>(name: string, outcome: ProbeOutcome, schema: z.ZodType<T>, expected: string): { check: ContractCheck; value?: T } {
  if (!outcome.answered || outcome.response.status < 200 || outcome.response.status > 299) {
    return { check: check(name, false, expected, described(outcome)) };
  }
  const parsed = schema.safeParse(outcome.response.json);
  if (!parsed.success) {
    const why = outcome.response.json === undefined ? 'a body that is not JSON' : describeIssues(parsed.error);
    return { check: check(name, false, expected, `${outcome.response.status}; ${why}`) };
  }
  return { check: check(name, true, expected, `${outcome.response.status} with a valid body`), value: parsed.data };
}

/** A given status with the UDC error body (and, optionally, a given code). */
function errorCheck(name: string, outcome: ProbeOutcome, status: number, code?: string): ContractCheck {
  const expected = `${status} with {error: {code${code ? ` ${code}` : ''}, message, details}}`;
  if (!outcome.answered) return check(name, false, expected, outcome.reason);
  const { response } = outcome;
  if (response.status !== status) return check(name, false, expected, described(outcome));
  const parsed = errorBodySchema.safeParse(response.json);
  if (!parsed.success) return check(name, false, expected, `${response.status} with ${snippet(response.text)}`);
  if (code && parsed.data.error.code !== code) return check(name, false, expected, `${response.status} with code ${parsed.data.error.code}`);
  return check(name, true, expected, `${response.status} with code ${parsed.data.error.code}`);
}

async function healthChecks(send: Send): Promise<ContractCheck[]> {
  const expected = 'status, ISO UTC timestamp, integer uptime_seconds, semver version';
  await send({ method: 'GET', path: '/health' }); // warm-up: first requests pay for lazy init and JIT
  let fastest: number | null = null;
  let first: ProbeOutcome | null = null;
  for (let attempt = 0; attempt < HEALTH_TIMED_ATTEMPTS; attempt += 1) {
    const outcome = await send({ method: 'GET', path: '/health' });
    first ??= outcome;
    if (!outcome.answered) break;
    fastest = Math.min(fastest ?? Infinity, outcome.response.ms);
    if (fastest < HEALTH_LATENCY_LIMIT_MS) break;
  }
  const shape = shapeCheck('GET /health shape', first!, healthSchema, expected).check;
  const latency = fastest === null
    ? check(`GET /health answers within ${HEALTH_LATENCY_LIMIT_MS} ms`, false, `under ${HEALTH_LATENCY_LIMIT_MS} ms`, first!.answered ? 'no timing' : first!.reason)
    : check(`GET /health answers within ${HEALTH_LATENCY_LIMIT_MS} ms`, fastest < HEALTH_LATENCY_LIMIT_MS, `under ${HEALTH_LATENCY_LIMIT_MS} ms`, `${fastest} ms`);
  return [shape, latency];
}

function authenticationChecks(send: Send, token: string): Promise<ContractCheck[]> {
  const guarded: Request[] = [
    { method: 'GET', path: '/capabilities' },
    { method: 'GET', path: '/state' },
    { method: 'GET', path: '/dependencies' },
    { method: 'POST', path: '/message', json: validMessage() },
  ];
  const wrongToken = `wrong-${token.length}-${randomUUID()}`;
  return Promise.all([
    ...guarded.map(async (request) =>
      errorCheck(`${request.method} ${request.path} refuses missing credentials`, await send(request), 401, 'UNAUTHORIZED'),
    ),
    send({ method: 'GET', path: '/state', token: wrongToken }).then((outcome) =>
      errorCheck('GET /state refuses a wrong token', outcome, 401, 'UNAUTHORIZED'),
    ),
  ]);
}

/** `/items/:id` and `/items/{id}` get a concrete value. */
function concretePath(path: string): { path: string; templated: boolean } {
  const concrete = path.replace(/:[A-Za-z_][A-Za-z0-9_]*|\{[^}/]+\}/g, '1');
  return { path: concrete, templated: concrete !== path };
}

async function integrationEndpointChecks(send: Send, capabilities: Capabilities, token: string): Promise<ContractCheck[]> {
  const checks: ContractCheck[] = [];
  for (const endpoint of capabilities.integration_endpoints.slice(0, MAX_INTEGRATION_ENDPOINTS)) {
    const method = endpoint.method.toUpperCase();
    const { path, templated } = concretePath(endpoint.path);
    const hasBody = !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(method);
    const outcome = await send({ method, path, token, json: hasBody ? {} : undefined });
    const name = `${method} ${endpoint.path} exists`;
    const expected = 'any answer but 404 or 405';
    if (!outcome.answered) {
      checks.push(check(name, false, expected, outcome.reason));
      continue;
    }
    const { status, text } = outcome.response;
    // For `/items/1` a 404 usually means "no item 1": the route exists. A router's
    // "not found" names the path it did not know, which a missing record does not.
    const missingRoute = status === 405 || (status === 404 && (!templated || text.includes(path)));
    checks.push(check(name, !missingRoute, expected, described(outcome)));
  }
  return checks;
}

export async function checkContract(baseUrl: string, options: ContractCheckOptions): Promise<ContractCheck[]> {
  const { token, signal } = options;
  const timeoutMs = options.requestTimeoutMs ?? 5_000;
  const send: Send = (request) => probe(baseUrl, { ...request, timeoutMs, signal });
  const checks: ContractCheck[] = await healthChecks(send);

  const capabilities = shapeCheck(
    'GET /capabilities shape',
    await send({ method: 'GET', path: '/capabilities', token }),
    capabilitiesSchema,
    'service_name, integer droplet_id, capabilities[], supported_operations[], integration_endpoints[]',
  );
  checks.push(capabilities.check);
  checks.push(
    shapeCheck('GET /state shape', await send({ method: 'GET', path: '/state', token }), stateSchema,
      'status, mode, ISO last_activity, metrics {requests_per_minute, average_response_time_ms, error_rate_percent}').check,
    shapeCheck('GET /dependencies shape', await send({ method: 'GET', path: '/dependencies', token }), dependenciesSchema,
      'required_services, optional_services, external_apis: arrays of {name, status}').check,
    shapeCheck('POST /message accepts a task_assignment', await send({ method: 'POST', path: '/message', token, json: validMessage() }),
      messageResponseSchema, '2xx with {received: true, message_id, status}').check,
  );

  const declared = capabilities.value?.authentication;
  if (options.requireAuthentication && capabilities.value) {
    checks.push(check('GET /capabilities declares authentication', declared !== undefined,
      'authentication {type: "bearer", env: "API_TOKEN"} (the droplet was given a token)', declared ? `type ${declared.type}, env ${declared.env}` : 'no authentication field'));
  }
  if (declared) checks.push(...(await authenticationChecks(send, token)));

  const invalidMessage = { from_service: 'autonomous-executor', message_type: 'not-a-message-type', payload: 'not an object' };
  checks.push(
    errorCheck('POST /message refuses an invalid body', await send({ method: 'POST', path: '/message', token, json: invalidMessage }), 400),
    errorCheck('GET /an-unknown-path answers 404', await send({ method: 'GET', path: '/an-unknown-path', token }), 404),
  );
  if (capabilities.value) checks.push(...(await integrationEndpointChecks(send, capabilities.value, token)));
  return redactToken(checks, token);
}

/** A droplet may echo what it was sent; the token never leaves this function. */
function redactToken(checks: ContractCheck[], token: string): ContractCheck[] {
  if (token.length === 0) return checks;
  const redact = (text: string) => text.split(token).join('[redacted]');
  return checks.map((entry) => ({ ...entry, expected: redact(entry.expected), got: redact(entry.got) }));
}
