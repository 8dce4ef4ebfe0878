// @ts-check
// Counters and metrics: POST /points ingests a value under a name (at a time, now by
// default); GET /aggregates gives count, sum, min, max and avg of a name over a time
// range; GET /series lists the names. Points live in DATA_DIR/points.json.
import { randomUUID } from 'node:crypto';
import { HttpError } from '../errors.js';
import { KeyedState } from './keyed-state.js';
import { numberSetting } from './settings.js';

/** @typedef {{ id: string, name: string, value: number, at: string }} Point */

const NAME = { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,100}$' };
const TIME = { type: 'string', format: 'date-time' };
const pointBody = { type: 'object', additionalProperties: false, required: ['name', 'value'], properties: { name: NAME, value: { type: 'number' }, at: TIME } };
const aggregateQuery = { type: 'object', additionalProperties: false, required: ['name'], properties: { name: NAME, from: TIME, to: TIME } };

export const endpoints = [
  { method: 'POST', path: '/points', description: 'Ingest a data point: a value under a name, at a time.' },
  { method: 'GET', path: '/aggregates', description: 'Count, sum, min, max and avg of a name over a time range.' },
  { method: 'GET', path: '/series', description: 'The names points were ingested under, with their counts.' },
];

/**
 * @param {import('./index.js').Settings} planned
 * @param {import('./index.js').Env} env
 */
export function settingsFrom(planned, env) {
  return { max_points: numberSetting({ planned, env, setting: 'max_points', variable: 'METRICS_MAX_POINTS', min: 1, max: 10000000, integer: true }) };
}

/**
 * The aggregates of `values`; min, max and avg are null when there are none.
 * @param {number[]} values
 */
export function aggregate(values) {
  if (values.length === 0) return { count: 0, sum: 0, min: null, max: null, avg: null };
  const sum = values.reduce((total, value) => total + value, 0);
  return { count: values.length, sum, min: Math.min(...values), max: Math.max(...values), avg: sum / values.length };
}

/**
 * @param {import('fastify').FastifyInstance} app
 * @param {import('./index.js').ArchetypeContext} context
 */
export function register(app, { settings, dataDir, now }) {
  /** @type {KeyedState<Point>} */
  const points = new KeyedState(dataDir, 'points');
  const maxPoints = Number(settings.max_points);

  app.post('/points', { schema: { body: pointBody } }, async (request, reply) => {
    const { name, value, at } = /** @type {{ name: string, value: number, at?: string }} */ (request.body);
    const point = await points.change((entries) => {
      if (entries.size >= maxPoints) throw new HttpError(409, 'CAPACITY_REACHED', 'The droplet holds ' + maxPoints + ' points already.', { limit: maxPoints });
      /** @type {Point} */
      const created = { id: randomUUID(), name, value, at: new Date(at === undefined ? now() : Date.parse(at)).toISOString() };
      entries.set(created.id, created);
      return created;
    });
    return reply.code(201).send(point);
  });

  app.get('/aggregates', { schema: { querystring: aggregateQuery } }, async (request) => {
    const { name, from, to } = /** @type {{ name: string, from?: string, to?: string }} */ (request.query);
    const start = from === undefined ? -Infinity : Date.parse(from);
    const end = to === undefined ? Infinity : Date.parse(to);
    if (start > end) throw new HttpError(400, 'VALIDATION_FAILED', 'from must not be after to.', { from, to });
    // From inclusive, to exclusive: adjacent ranges never count a point twice.
    const values = points.values().filter((point) => point.name === name && Date.parse(point.at) >= start && Date.parse(point.at) < end).map((point) => point.value);
    return { name, from: from ?? null, to: to ?? null, ...aggregate(values) };
  });

  app.get('/series', async () => {
    /** @type {Map<string, { name: string, count: number, last_at: string }>} */
    const series = new Map();
    for (const point of points.values()) {
      const seen = series.get(point.name);
      series.set(point.name, { name: point.name, count: (seen?.count ?? 0) + 1, last_at: seen && seen.last_at > point.at ? seen.last_at : point.at });
    }
    return { items: [...series.values()].sort((a, b) => (a.name < b.name ? -1 : 1)) };
  });

  return { count: () => points.size, flushed: () => points.flushed() };
}
