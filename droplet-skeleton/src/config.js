// @ts-check
// The environment, read once and validated: a bad value stops the droplet at boot.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { StartupError } from './errors.js';
import { loadManifest } from './plan.js';
import { archetypeSettings } from './archetypes/index.js';

const ENVIRONMENTS = ['production', 'development', 'staging'];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const MAX_INT32 = 2147483647;
/** Where records are kept when DATA_DIR is not set, relative to the working directory. */
export const DEFAULT_DATA_DIR = 'data';

export class ConfigError extends StartupError {}

/** @typedef {Record<string, string | undefined>} Env */

/**
 * @typedef {{ serviceName: string, port: number, host: string, dropletId: number, registryUrl: string | undefined,
 *   environment: string, logLevel: string, apiToken: string | undefined, bodyLimit: number, dataDir: string,
 *   archetype: import('./archetypes/index.js').Settings }} Config
 */

/** @param {Env} env @param {string} key @param {number} fallback @param {number} min @param {number} max */
function integer(env, key, fallback, min, max) {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-9]+$/.test(raw)) throw new ConfigError(key + ' must be a whole number, got "' + raw + '".');
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(key + ' must be between ' + min + ' and ' + max + ', got ' + value + '.');
  return value;
}

/** @param {Env} env @param {string} key @param {string[]} allowed @param {string} fallback */
function oneOf(env, key, allowed, fallback) {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!allowed.includes(raw)) throw new ConfigError(key + ' must be one of ' + allowed.join(', ') + ', got "' + raw + '".');
  return raw;
}

/** @param {Env} env @param {string} key */
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

/**
 * The variables of `<dir>/.env` under those already in `env`: a variable set in the
 * environment wins over the file. A missing .env is fine; an unreadable one is not.
 * @param {Env} env
 * @param {string} dir
 * @returns {Env}
 */
export function withEnvFile(env, dir = process.cwd()) {
  let text;
  try {
    text = readFileSync(join(dir, '.env'), 'utf8');
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code === 'ENOENT') return env;
    throw new ConfigError('.env could not be read: ' + (error instanceof Error ? error.message : String(error)));
  }
  return { ...parseEnv(text), ...env };
}

/**
 * process.env (or any object of strings) → the config buildApp expects. Throws ConfigError.
 * @param {Env} env
 * @returns {Config}
 */
export function loadConfig(env = process.env) {
  const manifest = loadManifest();
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
    dataDir: resolve(env.DATA_DIR || DEFAULT_DATA_DIR),
    // The archetype's settings (plan.json, overridden by its variables); none without one.
    archetype: archetypeSettings(env),
  };
}
