// @ts-check
// Scheduler: jobs with a run_at and a state (scheduled → running → done | failed, or
// cancelled). Workers ask GET /jobs/due for scheduled jobs whose time has come, then
// PATCH /jobs/:id {state} as they run them. Jobs live in DATA_DIR/jobs.json.
import { randomUUID } from 'node:crypto';
import { HttpError } from '../errors.js';
import { KeyedState } from './keyed-state.js';
import { numberSetting } from './settings.js';

/**
 * @typedef {'scheduled' | 'running' | 'done' | 'failed' | 'cancelled'} JobState
 * @typedef {{ id: string, name: string, run_at: string, payload: Record<string, unknown>, state: JobState, created_at: string, updated_at: string }} Job
 */

export const STATES = ['scheduled', 'running', 'done', 'failed', 'cancelled'];
/** @type {Record<string, string[]>} */
export const NEXT_STATES = { scheduled: ['running', 'cancelled'], running: ['done', 'failed', 'cancelled'], done: [], failed: [], cancelled: [] };

const TIME = { type: 'string', format: 'date-time' };
const jobBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'run_at'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, run_at: TIME, payload: { type: 'object' } },
};
const stateBody = { type: 'object', additionalProperties: false, required: ['state'], properties: { state: { type: 'string', enum: STATES } } };
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 100 } } };
const page = { limit: { type: 'string', pattern: '^([1-9][0-9]?|100)$' }, offset: { type: 'string', pattern: '^(0|[1-9][0-9]*)$' } };
const listQuery = { type: 'object', additionalProperties: false, properties: { ...page, state: { type: 'string', enum: STATES } } };
const dueQuery = { type: 'object', additionalProperties: false, properties: { ...page, at: TIME } };

export const endpoints = [
  { method: 'POST', path: '/jobs', description: 'Schedule a job to run at run_at.' },
  { method: 'GET', path: '/jobs', description: 'List jobs, by state.' },
  { method: 'GET', path: '/jobs/due', description: 'Scheduled jobs whose run_at has come, earliest first.' },
  { method: 'GET', path: '/jobs/:id', description: 'One job.' },
  { method: 'PATCH', path: '/jobs/:id', description: 'Move a job to its next state (running, done, failed, cancelled).' },
];

/**
 * @param {import('./index.js').Settings} planned
 * @param {import('./index.js').Env} env
 */
export function settingsFrom(planned, env) {
  return { max_jobs: numberSetting({ planned, env, setting: 'max_jobs', variable: 'SCHEDULER_MAX_JOBS', min: 1, max: 1000000, integer: true }) };
}

/** @param {Job[]} jobs @param {{ limit?: string, offset?: string }} query */
function pageOf(jobs, query) {
  const limit = query.limit === undefined ? 50 : Number(query.limit);
  const offset = query.offset === undefined ? 0 : Number(query.offset);
  return { items: jobs.slice(offset, offset + limit), total: jobs.length, limit, offset };
}

/**
 * @param {import('fastify').FastifyInstance} app
 * @param {import('./index.js').ArchetypeContext} context
 */
export function register(app, { settings, dataDir, now }) {
  /** @type {KeyedState<Job>} */
  const jobs = new KeyedState(dataDir, 'jobs');
  const maxJobs = Number(settings.max_jobs);
  /** @param {string} id */
  const missing = (id) => new HttpError(404, 'NOT_FOUND', 'There is no job with id "' + id + '".', { id });
  /** @param {import('fastify').FastifyRequest} request */
  const idOf = (request) => /** @type {{ id: string }} */ (request.params).id;

  app.post('/jobs', { schema: { body: jobBody } }, async (request, reply) => {
    const { name, run_at: runAt, payload = {} } = /** @type {{ name: string, run_at: string, payload?: Record<string, unknown> }} */ (request.body);
    const job = await jobs.change((entries) => {
      if (entries.size >= maxJobs) throw new HttpError(409, 'CAPACITY_REACHED', 'The scheduler holds ' + maxJobs + ' jobs already.', { limit: maxJobs });
      const stamp = new Date(now()).toISOString();
      /** @type {Job} */
      const created = { id: randomUUID(), name, run_at: new Date(Date.parse(runAt)).toISOString(), payload, state: 'scheduled', created_at: stamp, updated_at: stamp };
      entries.set(created.id, created);
      return created;
    });
    return reply.code(201).send(job);
  });

  app.get('/jobs', { schema: { querystring: listQuery } }, async (request) => {
    const query = /** @type {{ state?: string, limit?: string, offset?: string }} */ (request.query);
    return pageOf(jobs.values().filter((job) => query.state === undefined || job.state === query.state), query);
  });

  app.get('/jobs/due', { schema: { querystring: dueQuery } }, async (request) => {
    const query = /** @type {{ at?: string, limit?: string, offset?: string }} */ (request.query);
    const at = query.at === undefined ? now() : Date.parse(query.at);
    const due = jobs.values().filter((job) => job.state === 'scheduled' && Date.parse(job.run_at) <= at);
    return pageOf(due.sort((a, b) => Date.parse(a.run_at) - Date.parse(b.run_at)), query);
  });

  app.get('/jobs/:id', { schema: { params: idParams } }, async (request) => {
    const job = jobs.get(idOf(request));
    if (!job) throw missing(idOf(request));
    return job;
  });

  app.patch('/jobs/:id', { schema: { params: idParams, body: stateBody } }, async (request) => {
    const id = idOf(request);
    const { state } = /** @type {{ state: JobState }} */ (request.body);
    return jobs.change((entries) => {
      const job = entries.get(id);
      if (!job) throw missing(id);
      if (!(NEXT_STATES[job.state] ?? []).includes(state)) {
        throw new HttpError(409, 'INVALID_TRANSITION', 'A ' + job.state + ' job cannot become ' + state + '.', { from: job.state, to: state, allowed: NEXT_STATES[job.state] ?? [] });
      }
      /** @type {Job} */
      const moved = { ...job, state, updated_at: new Date(now()).toISOString() };
      entries.set(id, moved);
      return moved;
    });
  });

  return { count: () => jobs.size, flushed: () => jobs.flushed() };
}
