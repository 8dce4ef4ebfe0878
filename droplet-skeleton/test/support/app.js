// @ts-check
// What every test file uses: an app over a fresh data directory, and the UDC error check.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';

export const TOKEN = 'test-token';
export const AUTH = { authorization: 'Bearer ' + TOKEN };
export const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** @typedef {import('node:test').TestContext} TestContext */
/** @typedef {import('fastify').FastifyInstance} App */
/** @typedef {import('fastify').LightMyRequestResponse} InjectResponse */

/**
 * A data directory of the test's own, removed when it ends: tests never touch ./data.
 * @param {TestContext} t
 */
export function tempDataDir(t) {
  const dir = mkdtempSync(join(tmpdir(), 'droplet-data-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The app as the droplet runs it, closed when the test ends.
 * @param {TestContext} t
 * @param {Record<string, string>} [env]
 */
export function build(t, env = {}) {
  const app = buildApp(loadConfig({ LOG_LEVEL: 'silent', API_TOKEN: TOKEN, DATA_DIR: env.DATA_DIR ?? tempDataDir(t), ...env }));
  t.after(() => app.close());
  return app;
}

/**
 * @param {InjectResponse} response
 * @param {number} status
 * @param {string} code
 */
export function assertError(response, status, code) {
  assert.equal(response.statusCode, status, response.body);
  const body = response.json();
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
  assert.equal(typeof body.error.details, 'object');
  return body.error;
}
