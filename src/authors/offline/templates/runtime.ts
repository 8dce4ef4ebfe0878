/**
 * Files of the generated droplet that do not depend on the plan. Written with
 * String.raw so that regular expressions keep their backslashes; the generated
 * JavaScript itself uses no template literals, so nothing here needs escaping.
 */

export const SERVER_JS = String.raw`// Starts the droplet: environment → config → app → listen; stops cleanly on SIGTERM/SIGINT.
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';

const SHUTDOWN_TIMEOUT_MS = 10000;

function loadConfigOrExit() {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // The logger needs the config, so this one line is written by hand, in the same JSON shape.
    process.stderr.write(JSON.stringify({ level: 60, time: Date.now(), msg: error.message }) + '\n');
    process.exit(1);
  }
}

const config = loadConfigOrExit();
const app = buildApp(config);
let closing = false;

async function shutdown(signal) {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, 'shutting down');
  const force = setTimeout(() => {
    app.log.error('shutdown timed out; exiting');
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS);
  force.unref();
  try {
    await app.close();
    process.exit(0);
  } catch (error) {
    app.log.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
}

process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

try {
  await app.listen({ port: config.port, host: config.host });
} catch (error) {
  app.log.fatal({ err: error }, 'could not start listening');
  process.exit(1);
}
`;

export const CONFIG_JS = String.raw`// The environment, read once and validated: a bad value stops the droplet at boot.
import { manifest } from './manifest.js';

const ENVIRONMENTS = ['production', 'development', 'staging'];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const MAX_INT32 = 2147483647;

export class ConfigError extends Error {}

function integer(env, key, fallback, min, max) {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-9]+$/.test(raw)) throw new ConfigError(key + ' must be a whole number, got "' + raw + '".');
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(key + ' must be between ' + min + ' and ' + max + ', got ' + value + '.');
  return value;
}

function oneOf(env, key, allowed, fallback) {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!allowed.includes(raw)) throw new ConfigError(key + ' must be one of ' + allowed.join(', ') + ', got "' + raw + '".');
  return raw;
}

function httpUrl(env, key) {
  const raw = env[key];
  if (raw === undefined || raw === '') return undefined;
  let parsed;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(key + ' must be an absolute http(s) URL.');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(key + ' must be an absolute http(s) URL.');
  }
  return raw.replace(/\/+$/, '');
}

/** process.env (or any object of strings) → the config buildApp expects. Throws ConfigError. */
export function loadConfig(env = process.env) {
  return {
    serviceName: env.SERVICE_NAME || manifest.name,
    port: integer(env, 'SERVICE_PORT', 3000, 0, 65535),
    host: env.HOST || '127.0.0.1',
    dropletId: integer(env, 'DROPLET_ID', manifest.dropletId, 0, MAX_INT32),
    registryUrl: httpUrl(env, 'REGISTRY_URL'),
    environment: oneOf(env, 'ENVIRONMENT', ENVIRONMENTS, 'development'),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    apiToken: env.API_TOKEN || undefined,
    bodyLimit: integer(env, 'BODY_LIMIT_BYTES', 1048576, 1024, 104857600),
  };
}
`;

export const ERRORS_JS = String.raw`// The one error shape of the UDC: {"error": {"code", "message", "details"}}.

export class HttpError extends Error {
  constructor(statusCode, code, message, details = {}) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
    this.details = details;
  }
}

const CODE_BY_STATUS = {
  400: 'INVALID_INPUT',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
};

export function errorBody(code, message, details = {}) {
  return { error: { code, message, details } };
}

function sentence(text) {
  const trimmed = String(text || 'The request was refused').trim();
  return /[.!?]$/.test(trimmed) ? trimmed : trimmed + '.';
}

/** Anything thrown while handling a request → [status, body]. 5xx bodies carry no internals. */
export function toErrorResponse(error) {
  if (error instanceof HttpError) return [error.statusCode, errorBody(error.code, error.message, error.details)];
  if (Array.isArray(error && error.validation)) {
    const issues = error.validation.map((issue) => ({
      path: issue.instancePath || '/',
      keyword: issue.keyword,
      message: issue.message,
      params: issue.params,
    }));
    const where = error.validationContext || 'body';
    return [400, errorBody('VALIDATION_FAILED', sentence('Invalid request ' + where + ': ' + error.message), { issues })];
  }
  const status = error && error.statusCode;
  if (Number.isInteger(status) && status >= 400 && status < 500) {
    return [status, errorBody(CODE_BY_STATUS[status] || 'BAD_REQUEST', sentence(error.message))];
  }
  return [500, errorBody('INTERNAL', 'The droplet hit an internal error.')];
}
`;

export const METRICS_JS = String.raw`// Request figures for GET /state, measured over a sliding one-minute window.

const WINDOW_MS = 60000;
// Bounds memory under heavy load; beyond it the oldest samples are dropped.
const MAX_SAMPLES = 100000;

function round2(value) {
  return Math.round(value * 100) / 100;
}

export class RequestMetrics {
  #samples = [];
  #lastActivity;
  #now;

  constructor(now = () => Date.now()) {
    this.#now = now;
    this.#lastActivity = new Date(now()).toISOString();
  }

  /** One finished request: its status code and how long it took. */
  record(statusCode, durationMs) {
    const at = this.#now();
    this.#samples.push({ at, durationMs, failed: statusCode >= 400 });
    if (this.#samples.length > MAX_SAMPLES) this.#samples.splice(0, this.#samples.length - MAX_SAMPLES);
    this.#lastActivity = new Date(at).toISOString();
  }

  get lastActivity() {
    return this.#lastActivity;
  }

  /** Errors are responses with a status of 400 or more. */
  snapshot() {
    const since = this.#now() - WINDOW_MS;
    const firstKept = this.#samples.findIndex((sample) => sample.at >= since);
    this.#samples.splice(0, firstKept === -1 ? this.#samples.length : firstKept);
    const count = this.#samples.length;
    const totalMs = this.#samples.reduce((sum, sample) => sum + sample.durationMs, 0);
    const failed = this.#samples.filter((sample) => sample.failed).length;
    return {
      requests_per_minute: count,
      average_response_time_ms: count === 0 ? 0 : round2(totalMs / count),
      error_rate_percent: count === 0 ? 0 : round2((failed * 100) / count),
    };
  }
}
`;

export const STORE_JS = String.raw`// Records of one resource, kept in memory for the life of the process.
import { randomUUID } from 'node:crypto';
import { HttpError } from './errors.js';

export const MAX_RECORDS = 10000;

export class RecordStore {
  #records = new Map();

  constructor(resource, limit = MAX_RECORDS) {
    this.resource = resource;
    this.limit = limit;
  }

  get size() {
    return this.#records.size;
  }

  list() {
    return [...this.#records.values()];
  }

  get(id) {
    return this.#records.get(id);
  }

  create(fields) {
    if (this.#records.size >= this.limit) {
      throw new HttpError(409, 'CAPACITY_REACHED', 'The ' + this.resource + ' store is full; delete records first.', {
        resource: this.resource,
        limit: this.limit,
      });
    }
    const now = new Date().toISOString();
    const record = { id: randomUUID(), ...fields, created_at: now, updated_at: now };
    this.#records.set(record.id, record);
    return record;
  }

  /** Returns undefined when there is no such record. */
  replace(id, fields) {
    const existing = this.#records.get(id);
    if (!existing) return undefined;
    const record = { id, ...fields, created_at: existing.created_at, updated_at: new Date().toISOString() };
    this.#records.set(id, record);
    return record;
  }

  /** Returns undefined when there is no such record. */
  update(id, changes) {
    const existing = this.#records.get(id);
    if (!existing) return undefined;
    const record = { ...existing, ...changes, id, created_at: existing.created_at, updated_at: new Date().toISOString() };
    this.#records.set(id, record);
    return record;
  }

  delete(id) {
    return this.#records.delete(id);
  }
}
`;
