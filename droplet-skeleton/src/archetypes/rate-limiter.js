// @ts-check
// Rate limiter: a token bucket per key. POST /checks takes tokens (200) or says when to
// retry (429, Retry-After); limits default from plan.json and the environment, and
// PUT /limits/:key gives one key its own. Buckets and limits live in DATA_DIR/rate-limits.json.
import { HttpError, errorBody } from '../errors.js';
import { KeyedState } from './keyed-state.js';
import { numberSetting } from './settings.js';

/**
 * @typedef {{ capacity: number, refill_per_second: number }} Limit
 * @typedef {{ id: string, tokens: number, at: number, limit?: Limit }} Bucket
 */

const KEY = { type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,200}$' };
const CAPACITY = { type: 'integer', minimum: 1, maximum: 1000000000 };
const REFILL = { type: 'number', exclusiveMinimum: 0, maximum: 1000000 };
const keyParams = { type: 'object', required: ['key'], properties: { key: KEY } };
const checkBody = { type: 'object', additionalProperties: false, required: ['key'], properties: { key: KEY, cost: CAPACITY } };
const limitBody = { type: 'object', additionalProperties: false, required: ['capacity', 'refill_per_second'], properties: { capacity: CAPACITY, refill_per_second: REFILL } };

export const endpoints = [
  { method: 'POST', path: '/checks', description: 'Check and consume: allowed (200) or 429 with Retry-After.' },
  { method: 'GET', path: '/limits/:key', description: "A key's limit and the tokens it has now." },
  { method: 'PUT', path: '/limits/:key', description: 'Give a key its own limit (its bucket starts full).' },
  { method: 'DELETE', path: '/limits/:key', description: "Remove a key's own limit: the default applies again." },
];

/**
 * @param {import('./index.js').Settings} planned
 * @param {import('./index.js').Env} env
 */
export function settingsFrom(planned, env) {
  return {
    capacity: numberSetting({ planned, env, setting: 'capacity', variable: 'RATE_LIMIT_CAPACITY', min: 1, max: 1000000000, integer: true }),
    refill_per_second: numberSetting({ planned, env, setting: 'refill_per_second', variable: 'RATE_LIMIT_REFILL_PER_SECOND', min: 0.000001, max: 1000000 }),
    max_keys: numberSetting({ planned, env, setting: 'max_keys', min: 1, max: 1000000, integer: true }),
  };
}

/**
 * The tokens a bucket holds at `now`: what it had, plus the refill since, up to full.
 * A key never seen starts full.
 * @param {Bucket | undefined} bucket
 * @param {Limit} limit
 * @param {number} now milliseconds
 */
export function tokensAt(bucket, limit, now) {
  if (!bucket) return limit.capacity;
  const seconds = Math.max(0, now - bucket.at) / 1000;
  return Math.min(limit.capacity, bucket.tokens + seconds * limit.refill_per_second);
}

/**
 * Whole seconds until a bucket holding `tokens` holds `cost`: at least 1.
 * @param {number} tokens @param {number} cost @param {Limit} limit
 */
export function retryAfterSeconds(tokens, cost, limit) {
  return Math.max(1, Math.ceil((cost - tokens) / limit.refill_per_second));
}

/**
 * @param {import('fastify').FastifyInstance} app
 * @param {import('./index.js').ArchetypeContext} context
 */
export function register(app, { settings, dataDir, now }) {
  /** @type {KeyedState<Bucket>} */
  const buckets = new KeyedState(dataDir, 'rate-limits');
  /** @type {Limit} */
  const defaults = { capacity: Number(settings.capacity), refill_per_second: Number(settings.refill_per_second) };
  const maxKeys = Number(settings.max_keys);
  /** @param {Bucket | undefined} bucket */
  const limitOf = (bucket) => bucket?.limit ?? defaults;
  /** @param {Map<string, Bucket>} entries @param {string} key */
  const roomFor = (entries, key) => {
    if (entries.has(key) || entries.size < maxKeys) return;
    throw new HttpError(409, 'CAPACITY_REACHED', 'The rate limiter tracks ' + maxKeys + ' keys already.', { limit: maxKeys });
  };
  /** @param {string} key @param {Bucket | undefined} bucket @param {number} at */
  const view = (key, bucket, at) => {
    const limit = limitOf(bucket);
    return { key, ...limit, tokens: tokensAt(bucket, limit, at), source: bucket?.limit ? 'key' : 'default' };
  };
  /** @param {import('fastify').FastifyRequest} request */
  const keyOf = (request) => /** @type {{ key: string }} */ (request.params).key;

  app.post('/checks', { schema: { body: checkBody } }, async (request, reply) => {
    const { key, cost = 1 } = /** @type {{ key: string, cost?: number }} */ (request.body);
    const outcome = await buckets.change((entries) => {
      const bucket = entries.get(key);
      const limit = limitOf(bucket);
      if (cost > limit.capacity) {
        throw new HttpError(422, 'COST_ABOVE_CAPACITY', 'A cost of ' + cost + ' is above the capacity of ' + key + ' (' + limit.capacity + '): it could never be allowed.', { key, cost, limit: limit.capacity });
      }
      roomFor(entries, key);
      const at = now();
      const tokens = tokensAt(bucket, limit, at);
      const allowed = tokens >= cost;
      entries.set(key, { ...bucket, id: key, tokens: allowed ? tokens - cost : tokens, at });
      return { allowed, tokens: allowed ? tokens - cost : tokens, limit };
    });
    if (outcome.allowed) return { allowed: true, key, limit: outcome.limit.capacity, remaining: Math.floor(outcome.tokens), retry_after_seconds: 0 };
    const wait = retryAfterSeconds(outcome.tokens, cost, outcome.limit);
    const details = { key, limit: outcome.limit.capacity, remaining: Math.floor(outcome.tokens), retry_after_seconds: wait };
    return reply.code(429).header('retry-after', String(wait)).send(errorBody('RATE_LIMITED', key + ' is over its limit; retry in ' + wait + ' s.', details));
  });

  app.get('/limits/:key', { schema: { params: keyParams } }, async (request) => view(keyOf(request), buckets.get(keyOf(request)), now()));

  app.put('/limits/:key', { schema: { params: keyParams, body: limitBody } }, async (request) => {
    const key = keyOf(request);
    const limit = /** @type {Limit} */ (request.body);
    const at = now();
    const bucket = await buckets.change((entries) => {
      roomFor(entries, key);
      /** @type {Bucket} */
      const filled = { id: key, tokens: limit.capacity, at, limit: { capacity: limit.capacity, refill_per_second: limit.refill_per_second } };
      entries.set(key, filled);
      return filled;
    });
    return view(key, bucket, at);
  });

  app.delete('/limits/:key', { schema: { params: keyParams } }, async (request, reply) => {
    const key = keyOf(request);
    const removed = await buckets.change((entries) => {
      const bucket = entries.get(key);
      if (!bucket?.limit) return undefined;
      const { limit: _removed, ...rest } = bucket;
      entries.set(key, rest);
      return true;
    });
    if (!removed) throw new HttpError(404, 'NOT_FOUND', key + ' has no limit of its own.', { key });
    return reply.code(204).send();
  });

  return { count: () => buckets.size, flushed: () => buckets.flushed() };
}
