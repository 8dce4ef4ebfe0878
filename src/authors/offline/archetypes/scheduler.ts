/**
 * Scheduler: jobs with a `run_at` and a state (scheduled → running → done | failed, or
 * cancelled on the way). Workers list the due jobs (`GET /jobs/due`) and report as they
 * run them (`PATCH /jobs/{id} {state}`); a move the states do not allow is 409.
 */
import type { AcceptanceScenario } from '../../../domain/acceptance.js';
import type { Archetype, ArchetypePlan, OpenApiPart } from './archetype.js';
import { INVALID, UNAUTHORIZED, answer, body, errorResponse, pathParameter, queryParameter, ref } from './openapi-parts.js';

const STATES = ['scheduled', 'running', 'done', 'failed', 'cancelled'];
const TIME = { type: 'string', format: 'date-time' };
const NAME = { type: 'string', minLength: 1, maxLength: 200 };
const PAGING = [
  queryParameter('limit', { type: 'integer', minimum: 1, maximum: 100, default: 50 }, 'Page size.'),
  queryParameter('offset', { type: 'integer', minimum: 0, default: 0 }, 'Jobs to skip.'),
];

const ENDPOINTS = [
  { method: 'POST', path: '/jobs', description: 'Schedule a job to run at run_at.' },
  { method: 'GET', path: '/jobs', description: 'List jobs, by state.' },
  { method: 'GET', path: '/jobs/due', description: 'Scheduled jobs whose run_at has come, earliest first.' },
  { method: 'GET', path: '/jobs/:id', description: 'One job.' },
  { method: 'PATCH', path: '/jobs/:id', description: 'Move a job to its next state (running, done, failed, cancelled).' },
];

function spec(plan: ArchetypePlan): string {
  return `A job is \`{name, run_at, payload}\` (\`payload\` any JSON object, \`{}\` when left out) and gets
an \`id\` and the state \`scheduled\`. States move only forward: \`scheduled\` → \`running\` or
\`cancelled\`; \`running\` → \`done\`, \`failed\` or \`cancelled\`; the last three are final. A move
they do not allow is 409 \`INVALID_TRANSITION\` (\`details: {from, to, allowed}\`).
\`GET /jobs/due?at=\` lists the \`scheduled\` jobs with \`run_at <= at\` (now when left out), earliest
first: a worker takes one by moving it to \`running\` and reports \`done\` or \`failed\`. The droplet
itself runs nothing: it keeps the schedule and the states. \`GET /jobs?state=\` lists jobs; lists
page with \`limit\`/\`offset\` (\`{items, total, limit, offset}\`). Jobs are kept in
\`DATA_DIR/jobs.json\` (atomic writes), at most ${String(plan.settings.max_jobs)} (\`SCHEDULER_MAX_JOBS\`; 409 \`CAPACITY_REACHED\`).`;
}

function openApi(_plan: ArchetypePlan): OpenApiPart {
  const job = answer('The job.', 'Job');
  const jobs = answer('A page of jobs.', 'JobPage');
  const missing = errorResponse('There is no job with that id.');
  return {
    paths: {
      '/jobs': {
        post: {
          operationId: 'schedule_job', summary: 'Schedule a job.', requestBody: body('JobInput', { name: 'send-digest', run_at: '2030-01-01T08:00:00Z', payload: { list: 'weekly' } }),
          responses: { '201': job, '400': INVALID, '401': UNAUTHORIZED, '409': errorResponse('The scheduler is full.') },
        },
        get: { operationId: 'list_jobs', summary: 'List jobs.', parameters: [...PAGING, queryParameter('state', { enum: STATES }, 'Only jobs in this state.')], responses: { '200': jobs, '400': INVALID, '401': UNAUTHORIZED } },
      },
      '/jobs/due': {
        get: { operationId: 'list_due_jobs', summary: 'Scheduled jobs whose time has come.', parameters: [...PAGING, queryParameter('at', TIME, 'Due as of this time; now when left out.')], responses: { '200': jobs, '400': INVALID, '401': UNAUTHORIZED } },
      },
      '/jobs/{id}': {
        parameters: [pathParameter('id', { type: 'string', minLength: 1, maxLength: 100 }, 'The job.')],
        get: { operationId: 'get_job', summary: 'One job.', responses: { '200': job, '401': UNAUTHORIZED, '404': missing } },
        patch: {
          operationId: 'move_job', summary: 'Move a job to its next state.', requestBody: body('JobStateChange', { state: 'running' }),
          responses: { '200': job, '400': INVALID, '401': UNAUTHORIZED, '404': missing, '409': errorResponse('The states do not allow that move.') },
        },
      },
    },
    schemas: {
      JobInput: { type: 'object', additionalProperties: false, required: ['name', 'run_at'], properties: { name: NAME, run_at: TIME, payload: { type: 'object' } } },
      JobStateChange: { type: 'object', additionalProperties: false, required: ['state'], properties: { state: { enum: STATES } } },
      Job: {
        type: 'object', required: ['id', 'name', 'run_at', 'payload', 'state', 'created_at', 'updated_at'],
        properties: { id: { type: 'string', minLength: 1 }, name: NAME, run_at: TIME, payload: { type: 'object' }, state: { enum: STATES }, created_at: TIME, updated_at: TIME },
      },
      JobPage: {
        type: 'object', required: ['items', 'total', 'limit', 'offset'],
        properties: { items: { type: 'array', items: ref('Job') }, total: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 100 }, offset: { type: 'integer', minimum: 0 } },
      },
    },
  };
}

function scenarios(plan: ArchetypePlan): AcceptanceScenario[] {
  const covers = plan.covers;
  const past = '2000-01-01T00:00:00.000Z';
  const future = '2999-01-01T00:00:00.000Z';
  const move = (state: string, status: number, json: unknown) => ({ request: { method: 'PATCH' as const, path: '/jobs/{{id}}', body: { state } }, expect: { status, json } });
  return [
    {
      name: 'a job whose run_at has come is listed as due, runs and is done; a later one waits',
      covers,
      steps: [
        { request: { method: 'POST', path: '/jobs', body: { name: 'acceptance-due', run_at: past, payload: { n: 1 } } }, expect: { status: 201, json: { name: 'acceptance-due', run_at: past, state: 'scheduled', payload: { n: 1 } } }, capture: { id: 'id' } },
        { request: { method: 'POST', path: '/jobs', body: { name: 'acceptance-later', run_at: future } }, expect: { status: 201, json: { state: 'scheduled' } }, capture: { later: 'id' } },
        { request: { method: 'GET', path: '/jobs/due' }, expect: { status: 200, json: { total: 1 } } },
        move('running', 200, { id: '{{id}}', state: 'running' }),
        { request: { method: 'GET', path: '/jobs/due' }, expect: { status: 200, json: { total: 0 } } },
        move('done', 200, { state: 'done' }),
        { request: { method: 'GET', path: '/jobs/{{id}}' }, expect: { status: 200, json: { id: '{{id}}', state: 'done' } } },
        { request: { method: 'GET', path: `/jobs/due?at=${future}` }, expect: { status: 200, json: { total: 1 } } },
        { request: { method: 'GET', path: '/jobs?state=done' }, expect: { status: 200, json: { total: 1 } } },
      ],
    },
    {
      name: 'a job moves only forward through its states, and can be cancelled before it ends',
      covers,
      steps: [
        { request: { method: 'POST', path: '/jobs', body: { name: 'acceptance-cancelled', run_at: future } }, expect: { status: 201 }, capture: { id: 'id' } },
        move('done', 409, { error: { code: 'INVALID_TRANSITION', details: { from: 'scheduled', to: 'done' } } }),
        move('cancelled', 200, { state: 'cancelled' }),
        move('running', 409, { error: { code: 'INVALID_TRANSITION' } }),
        { request: { method: 'POST', path: '/jobs', body: { name: 'no time' } }, expect: { status: 400, json: { error: { code: 'VALIDATION_FAILED' } } } },
        { request: { method: 'GET', path: '/jobs/no-such-job' }, expect: { status: 404, json: { error: { code: 'NOT_FOUND' } } } },
      ],
    },
    {
      name: 'the scheduler needs the API token',
      covers,
      steps: [{ request: { method: 'GET', path: '/jobs/due' }, expect: { status: 401, json: { error: { code: 'UNAUTHORIZED' } } }, auth: false }],
    },
  ];
}

export const SCHEDULER: Archetype = {
  kind: 'scheduler',
  title: 'Scheduler',
  triggers: [/\bscheduler\b/, /\bschedul(?:e|es|ed|ing) (?:job|task|run)/, /\bjob queue/, /\b(?:cron|delayed job|run_at)\b/, /\b(?:job|task)s? (?:that|to) run at\b/],
  vocabulary: new Set(['job', 'task', 'schedule', 'scheduler', 'scheduling', 'run', 'time', 'cron', 'due', 'state', 'queue', 'worker', 'later', 'given', 'delay']),
  paths: ['jobs'],
  settings: { max_jobs: 100_000 },
  variables: [{ name: 'SCHEDULER_MAX_JOBS', setting: 'max_jobs', comment: 'Jobs kept at most.' }],
  capabilities: ['job_scheduling'],
  supportedOperations: ['schedule_job', 'list_jobs', 'list_due_jobs', 'get_job', 'move_job'],
  endpoints: ENDPOINTS,
  spec,
  openApi,
  scenarios,
};
