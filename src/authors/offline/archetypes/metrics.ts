/**
 * Counters and metrics: data points (a value under a name, at a time) are ingested with
 * `POST /points`; `GET /aggregates` answers count, sum, min, max and avg of one name over
 * a time range; `GET /series` lists the names.
 */
import type { AcceptanceScenario } from '../../../domain/acceptance.js';
import type { Archetype, ArchetypePlan, OpenApiPart } from './archetype.js';
import { INVALID, UNAUTHORIZED, answer, body, errorResponse, queryParameter, ref } from './openapi-parts.js';

const NAME = { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,100}$', description: 'What is measured: `api.latency_ms`, `orders`.' };
const TIME = { type: 'string', format: 'date-time' };
const nullableNumber = { type: ['number', 'null'] };

const ENDPOINTS = [
  { method: 'POST', path: '/points', description: 'Ingest a data point: a value under a name, at a time.' },
  { method: 'GET', path: '/aggregates', description: 'Count, sum, min, max and avg of a name over a time range.' },
  { method: 'GET', path: '/series', description: 'The names points were ingested under, with their counts.' },
];

function spec(plan: ArchetypePlan): string {
  return `A data point is a \`value\` (any number; a counter sends 1 per event) under a \`name\`
(1..100 of \`A-Z a-z 0-9 _ . : -\`) at a time \`at\` (ISO 8601, now when left out).
\`POST /points\` answers 201 with the point and its \`id\`. \`GET /aggregates?name=&from=&to=\`
answers \`{name, from, to, count, sum, min, max, avg}\` over the points of that name with
\`from <= at < to\` (either end open when left out; \`min\`, \`max\` and \`avg\` are null when no point
falls in the range; \`from\` after \`to\` is 400). \`GET /series\` lists \`{name, count, last_at}\`
per name. Points are kept in \`DATA_DIR/points.json\` (atomic writes), at most
${String(plan.settings.max_points)} (\`METRICS_MAX_POINTS\`; 409 \`CAPACITY_REACHED\` beyond).`;
}

function openApi(_plan: ArchetypePlan): OpenApiPart {
  return {
    paths: {
      '/points': {
        post: {
          operationId: 'ingest_point', summary: 'Ingest a data point.', requestBody: body('PointInput', { name: 'api.latency_ms', value: 42.5, at: '2030-01-01T12:00:00Z' }),
          responses: { '201': answer('The point as kept.', 'Point'), '400': INVALID, '401': UNAUTHORIZED, '409': errorResponse('The droplet holds as many points as it may.') },
        },
      },
      '/aggregates': {
        get: {
          operationId: 'get_aggregates', summary: 'Aggregates of one name over a time range.',
          parameters: [
            queryParameter('name', NAME, 'The series.', true),
            queryParameter('from', TIME, 'Start of the range, inclusive.'),
            queryParameter('to', TIME, 'End of the range, exclusive.'),
          ],
          responses: { '200': answer('The aggregates.', 'Aggregates'), '400': INVALID, '401': UNAUTHORIZED },
        },
      },
      '/series': {
        get: { operationId: 'list_series', summary: 'Names with points.', responses: { '200': answer('The names.', 'SeriesList'), '401': UNAUTHORIZED } },
      },
    },
    schemas: {
      PointInput: { type: 'object', additionalProperties: false, required: ['name', 'value'], properties: { name: NAME, value: { type: 'number' }, at: TIME } },
      Point: { type: 'object', required: ['id', 'name', 'value', 'at'], properties: { id: { type: 'string', minLength: 1 }, name: NAME, value: { type: 'number' }, at: TIME } },
      Aggregates: {
        type: 'object', required: ['name', 'from', 'to', 'count', 'sum', 'min', 'max', 'avg'],
        properties: {
          name: NAME, from: { anyOf: [TIME, { type: 'null' }] }, to: { anyOf: [TIME, { type: 'null' }] },
          count: { type: 'integer', minimum: 0 }, sum: { type: 'number' }, min: nullableNumber, max: nullableNumber, avg: nullableNumber,
        },
      },
      SeriesList: {
        type: 'object', required: ['items'],
        properties: { items: { type: 'array', items: ref('Series') } },
      },
      Series: { type: 'object', required: ['name', 'count', 'last_at'], properties: { name: NAME, count: { type: 'integer', minimum: 1 }, last_at: TIME } },
    },
  };
}

function scenarios(plan: ArchetypePlan): AcceptanceScenario[] {
  const covers = plan.covers;
  const name = 'acceptance.latency_ms';
  const point = (value: number, at: string) => ({ request: { method: 'POST' as const, path: '/points', body: { name, value, at } }, expect: { status: 201, json: { name, value, at } } });
  return [
    {
      name: 'points ingested under a name are aggregated over a time range',
      covers,
      steps: [
        point(10, '2030-01-01T00:00:00.000Z'),
        point(20, '2030-01-01T00:01:00.000Z'),
        point(30, '2030-01-01T00:02:00.000Z'),
        point(1000, '2030-01-02T00:00:00.000Z'),
        { request: { method: 'GET', path: `/aggregates?name=${name}&from=2030-01-01T00:00:00Z&to=2030-01-01T01:00:00Z` }, expect: { status: 200, json: { name, count: 3, sum: 60, min: 10, max: 30, avg: 20 } } },
        { request: { method: 'GET', path: `/aggregates?name=${name}` }, expect: { status: 200, json: { count: 4, sum: 1060, max: 1000 } } },
        { request: { method: 'GET', path: '/aggregates?name=acceptance.nothing' }, expect: { status: 200, json: { count: 0, sum: 0, min: null, max: null, avg: null } } },
        { request: { method: 'GET', path: '/series' }, expect: { status: 200 } },
      ],
    },
    {
      name: 'points and queries that make no sense are refused',
      covers,
      steps: [
        { request: { method: 'POST', path: '/points', body: { name, value: 'ten' } }, expect: { status: 400, json: { error: { code: 'VALIDATION_FAILED' } } } },
        { request: { method: 'GET', path: '/aggregates' }, expect: { status: 400, json: { error: { code: 'VALIDATION_FAILED' } } } },
        { request: { method: 'GET', path: `/aggregates?name=${name}&from=yesterday` }, expect: { status: 400, json: { error: { code: 'VALIDATION_FAILED' } } } },
      ],
    },
    {
      name: 'metrics need the API token',
      covers,
      steps: [{ request: { method: 'POST', path: '/points', body: { name, value: 1 } }, expect: { status: 401, json: { error: { code: 'UNAUTHORIZED' } } }, auth: false }],
    },
  ];
}

const MEASURES = '(?:counter|metric|gauge|measurement|data point|time series|telemetry|kpi)';
const ROLLUPS = '(?:ingest|aggregat|sum|average|avg|rollup|roll up|percentile)';

export const METRICS: Archetype = {
  kind: 'metrics',
  title: 'Counters and metrics',
  // "metrics" alone is a record kind ("tracking droplet metrics"): it takes ingesting or aggregating too.
  triggers: [new RegExp(`\\b${MEASURES}\\b.*\\b${ROLLUPS}`), new RegExp(`\\b${ROLLUPS}\\w*\\b.*\\b${MEASURES}\\b`), /\bcounter and metric/, /\bmetric and counter/],
  vocabulary: new Set(['metric', 'counter', 'gauge', 'point', 'measurement', 'value', 'aggregate', 'aggregation', 'series', 'ingest', 'sum', 'count', 'min', 'max', 'average', 'avg', 'telemetry', 'report', 'sample', 'kpi', 'range', 'rollup']),
  paths: ['points', 'aggregates', 'series'],
  settings: { max_points: 50_000 },
  variables: [{ name: 'METRICS_MAX_POINTS', setting: 'max_points', comment: 'Data points kept at most.' }],
  capabilities: ['metrics_ingestion', 'metrics_aggregation'],
  supportedOperations: ['ingest_point', 'get_aggregates', 'list_series'],
  endpoints: ENDPOINTS,
  spec,
  openApi,
  scenarios,
};
