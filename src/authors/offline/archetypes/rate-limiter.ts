/**
 * Rate limiter: a token bucket per key (a calling droplet, an external API, a user).
 * Callers ask `POST /checks` before doing the limited thing and are told allowed (200)
 * or not yet (429 with Retry-After). Limits default from plan.json, the environment
 * overrides the defaults, and `PUT /limits/{key}` gives one key its own.
 */
import type { AcceptanceScenario } from '../../../domain/acceptance.js';
import type { Archetype, ArchetypePlan, OpenApiPart } from './archetype.js';
import { INVALID, UNAUTHORIZED, answer, body, errorResponse, pathParameter } from './openapi-parts.js';

const KEY_SCHEMA = { type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,200}$', description: 'Who or what is limited: a droplet, an API, a user.' };
const CAPACITY_SCHEMA = { type: 'integer', minimum: 1, maximum: 1_000_000_000, description: 'Tokens the bucket holds when full: the largest burst.' };
const REFILL_SCHEMA = { type: 'number', exclusiveMinimum: 0, maximum: 1_000_000, description: 'Tokens added back per second, fractions allowed.' };

const ENDPOINTS = [
  { method: 'POST', path: '/checks', description: 'Check and consume: allowed (200) or 429 with Retry-After.' },
  { method: 'GET', path: '/limits/:key', description: "A key's limit and the tokens it has now." },
  { method: 'PUT', path: '/limits/:key', description: 'Give a key its own limit (its bucket starts full).' },
  { method: 'DELETE', path: '/limits/:key', description: "Remove a key's own limit: the default applies again." },
];

function spec(plan: ArchetypePlan): string {
  const { capacity, refill_per_second: refill, max_keys: maxKeys } = plan.settings;
  return `Every key has a token bucket. A bucket holds at most \`capacity\` tokens and gains
\`refill_per_second\` tokens per second, up to full. \`POST /checks\` with \`{"key", "cost"}\`
(cost 1 unless given) takes \`cost\` tokens when the bucket has them and answers 200
\`{allowed: true, key, limit, remaining, retry_after_seconds: 0}\`; otherwise it takes nothing
and answers 429 \`RATE_LIMITED\` with a \`Retry-After\` header and \`details.retry_after_seconds\`:
the whole seconds until the bucket holds \`cost\` tokens. A cost above the key's capacity could
never be allowed and is refused with 422 \`COST_ABOVE_CAPACITY\`.

| setting | default (plan.json) | environment |
|---|---|---|
| \`capacity\` | ${capacity} | \`RATE_LIMIT_CAPACITY\` |
| \`refill_per_second\` | ${refill} | \`RATE_LIMIT_REFILL_PER_SECOND\` |

\`PUT /limits/{key}\` gives one key its own \`{capacity, refill_per_second}\` and fills its bucket;
\`DELETE /limits/{key}\` removes it (404 when the key had none). \`GET /limits/{key}\` shows the
limit in force (\`source\`: \`key\` or \`default\`) and the tokens left now. Buckets and limits are
kept in \`DATA_DIR/rate-limits.json\` (atomic writes), so a restart neither forgets a key's limit
nor refills a spent bucket; at most ${maxKeys} keys are tracked (409 \`CAPACITY_REACHED\` beyond).`;
}

function openApi(_plan: ArchetypePlan): OpenApiPart {
  const key = pathParameter('key', KEY_SCHEMA, 'The limited key.');
  const limitInput = { capacity: 100, refill_per_second: 2 };
  const limit = answer('The limit in force and the tokens left.', 'Limit');
  return {
    paths: {
      '/checks': {
        post: {
          operationId: 'check_and_consume', summary: 'Take tokens from a key\'s bucket, or say when to retry.',
          requestBody: body('Check', { key: 'payments-api', cost: 1 }),
          responses: {
            '200': answer('Allowed: the tokens were taken.', 'Allowed'),
            '400': INVALID, '401': UNAUTHORIZED,
            '409': errorResponse('Too many keys are tracked.'),
            '422': errorResponse('The cost is above the key\'s capacity: it could never be allowed.'),
            '429': answer('Not allowed yet: nothing was taken.', 'RateLimited', { 'Retry-After': { description: 'Whole seconds until the cost fits.', schema: { type: 'integer', minimum: 1 } } }),
          },
        },
      },
      '/limits/{key}': {
        parameters: [key],
        get: { operationId: 'get_limit', summary: "A key's limit and tokens.", responses: { '200': limit, '400': INVALID, '401': UNAUTHORIZED } },
        put: {
          operationId: 'set_limit', summary: 'Give a key its own limit.', requestBody: body('LimitInput', limitInput),
          responses: { '200': limit, '400': INVALID, '401': UNAUTHORIZED, '409': errorResponse('Too many keys are tracked.') },
        },
        delete: {
          operationId: 'remove_limit', summary: "Remove a key's own limit.",
          responses: { '204': { description: 'Removed: the default applies.' }, '400': INVALID, '401': UNAUTHORIZED, '404': errorResponse('The key has no limit of its own.') },
        },
      },
    },
    schemas: {
      Check: { type: 'object', additionalProperties: false, required: ['key'], properties: { key: KEY_SCHEMA, cost: { type: 'integer', minimum: 1, maximum: 1_000_000_000, default: 1 } } },
      Allowed: {
        type: 'object', required: ['allowed', 'key', 'limit', 'remaining', 'retry_after_seconds'],
        properties: { allowed: { const: true }, key: KEY_SCHEMA, limit: CAPACITY_SCHEMA, remaining: { type: 'integer', minimum: 0 }, retry_after_seconds: { const: 0 } },
      },
      RateLimited: {
        type: 'object', required: ['error'],
        properties: {
          error: {
            type: 'object', required: ['code', 'message', 'details'],
            properties: {
              code: { const: 'RATE_LIMITED' }, message: { type: 'string', minLength: 1 },
              details: { type: 'object', required: ['key', 'limit', 'remaining', 'retry_after_seconds'], properties: { key: KEY_SCHEMA, limit: CAPACITY_SCHEMA, remaining: { type: 'integer', minimum: 0 }, retry_after_seconds: { type: 'integer', minimum: 1 } } },
            },
          },
        },
      },
      LimitInput: { type: 'object', additionalProperties: false, required: ['capacity', 'refill_per_second'], properties: { capacity: CAPACITY_SCHEMA, refill_per_second: REFILL_SCHEMA } },
      Limit: {
        type: 'object', required: ['key', 'capacity', 'refill_per_second', 'tokens', 'source'],
        properties: { key: KEY_SCHEMA, capacity: CAPACITY_SCHEMA, refill_per_second: REFILL_SCHEMA, tokens: { type: 'number', minimum: 0 }, source: { enum: ['key', 'default'] } },
      },
    },
  };
}

const check = (key: string, cost?: number) => ({ method: 'POST' as const, path: '/checks', body: cost === undefined ? { key } : { key, cost } });
const limited = (key: string, limit: number) => ({ error: { code: 'RATE_LIMITED', details: { key, limit, remaining: 0 } } });
/** Slow enough that no token comes back while a scenario runs. */
const SLOW = 0.001;

function scenarios(plan: ArchetypePlan): AcceptanceScenario[] {
  const covers = plan.covers;
  const spent = 'acceptance-caller';
  const other = 'acceptance-other-caller';
  const removed = 'acceptance-removed';
  return [
    {
      name: 'a caller is allowed until its limit is spent, then refused with 429 and told when to retry',
      covers,
      steps: [
        // PUT fills the bucket, so the scenario holds however often it has run before.
        { request: { method: 'PUT', path: `/limits/${spent}`, body: { capacity: 2, refill_per_second: SLOW } }, expect: { status: 200, json: { key: spent, capacity: 2, source: 'key', tokens: 2 } } },
        { request: check(spent), expect: { status: 200, json: { allowed: true, key: spent, limit: 2, remaining: 1, retry_after_seconds: 0 } } },
        { request: check(spent), expect: { status: 200, json: { allowed: true, remaining: 0 } } },
        { request: check(spent), expect: { status: 429, json: limited(spent, 2) } },
        { request: check(spent, 3), expect: { status: 422, json: { error: { code: 'COST_ABOVE_CAPACITY' } } } },
        { request: { method: 'POST', path: '/checks', body: { cost: 1 } }, expect: { status: 400, json: { error: { code: 'VALIDATION_FAILED' } } } },
      ],
    },
    {
      name: 'each key has its own bucket, and keys without a limit of their own get the default',
      covers,
      steps: [
        { request: { method: 'PUT', path: `/limits/${spent}`, body: { capacity: 1, refill_per_second: SLOW } }, expect: { status: 200 } },
        { request: check(spent), expect: { status: 200, json: { allowed: true } } },
        { request: check(spent), expect: { status: 429, json: limited(spent, 1) } },
        { request: check(other), expect: { status: 200, json: { allowed: true, key: other, limit: plan.settings.capacity } } },
        { request: { method: 'GET', path: `/limits/${other}` }, expect: { status: 200, json: { key: other, source: 'default', capacity: plan.settings.capacity, refill_per_second: plan.settings.refill_per_second } } },
      ],
    },
    {
      name: "a key's own limit can be removed, and the default applies again",
      covers,
      steps: [
        { request: { method: 'PUT', path: `/limits/${removed}`, body: { capacity: 5, refill_per_second: 1 } }, expect: { status: 200, json: { capacity: 5, source: 'key' } } },
        { request: { method: 'DELETE', path: `/limits/${removed}` }, expect: { status: 204 } },
        { request: { method: 'GET', path: `/limits/${removed}` }, expect: { status: 200, json: { source: 'default', capacity: plan.settings.capacity } } },
        { request: { method: 'DELETE', path: `/limits/${removed}` }, expect: { status: 404, json: { error: { code: 'NOT_FOUND' } } } },
      ],
    },
    {
      name: 'the rate limiter refuses callers without the API token',
      covers,
      steps: [{ request: check(spent), expect: { status: 401, json: { error: { code: 'UNAUTHORIZED' } } }, auth: false }],
    },
  ];
}

export const RATE_LIMITER: Archetype = {
  kind: 'rate-limiter',
  title: 'Rate limiter',
  triggers: [/\brate ?limit/, /\bthrottl/, /\btoken bucket/, /\brequest quota/, /\blimit (?:the )?(?:rate|request|call)/],
  vocabulary: new Set(['rate', 'limit', 'limiter', 'limiting', 'throttle', 'throttling', 'quota', 'bucket', 'token', 'call', 'caller', 'request', 'api', 'key', 'client', 'hit', 'hitting', 'burst']),
  paths: ['checks', 'limits'],
  settings: { capacity: 60, refill_per_second: 1, max_keys: 10_000 },
  variables: [
    { name: 'RATE_LIMIT_CAPACITY', setting: 'capacity', comment: 'Default bucket size (largest burst) for keys without a limit of their own.' },
    { name: 'RATE_LIMIT_REFILL_PER_SECOND', setting: 'refill_per_second', comment: 'Default tokens added back per second (fractions allowed).' },
  ],
  capabilities: ['rate_limiting'],
  supportedOperations: ['check_and_consume', 'get_limit', 'set_limit', 'remove_limit'],
  endpoints: ENDPOINTS,
  spec,
  openApi,
  scenarios,
};
