/**
 * Service registry: droplets register `{name, url, metadata}`, renew their registration
 * with heartbeats and are looked up by name. A registration silent for longer than its
 * TTL (plan.json, the environment, or its own `ttl_seconds`) has expired: lookups and
 * listings no longer return it.
 */
import type { AcceptanceScenario } from '../../../domain/acceptance.js';
import type { Archetype, ArchetypePlan, OpenApiPart } from './archetype.js';
import { INVALID, UNAUTHORIZED, answer, body, errorResponse, pathParameter, queryParameter, ref } from './openapi-parts.js';

const NAME = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$', description: 'The service name instances register under and are looked up by.' };
const URL_SCHEMA = { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2000, description: 'Where the instance answers: http or https, no credentials.' };
const TTL = { type: 'integer', minimum: 1, maximum: 86400, description: 'Seconds without a heartbeat after which the registration expires.' };
const METADATA = { type: 'object', maxProperties: 50, additionalProperties: { type: 'string', maxLength: 500 }, description: 'Free labels: version, zone…' };
const TIME = { type: 'string', format: 'date-time' };

const ENDPOINTS = [
  { method: 'POST', path: '/services', description: 'Register a service instance (name, url, metadata); the same name and url again renews it.' },
  { method: 'GET', path: '/services', description: 'List live service instances, by name.' },
  { method: 'GET', path: '/services/:id', description: 'One live service instance.' },
  { method: 'DELETE', path: '/services/:id', description: 'Deregister a service instance.' },
  { method: 'POST', path: '/services/:id/heartbeat', description: 'Keep a registration alive for another TTL.' },
  { method: 'GET', path: '/lookup/:name', description: 'The live instances registered under a name.' },
];

function spec(plan: ArchetypePlan): string {
  return `\`POST /services\` with \`{name, url, metadata?, ttl_seconds?}\` registers an instance of a
service (\`url\`: http or https only, no credentials; \`metadata\`: string labels) and answers 201
\`{id, name, url, metadata, ttl_seconds, registered_at, last_heartbeat_at, expires_at}\`; the same
\`name\` and \`url\` again renews that instance (200, its metadata replaced). Several instances may
share a name. \`POST /services/{id}/heartbeat\` renews a registration for another \`ttl_seconds\`.
A registration silent for longer than its TTL has **expired**: \`GET /lookup/{name}\` (the live
instances under a name, 404 when there are none), \`GET /services?name=&limit=&offset=\` and
\`GET /services/{id}\` no longer return it, its heartbeat is 404 (it must register again), and
the next change drops it. \`DELETE /services/{id}\` deregisters at once (204).

| setting | default (plan.json) | environment |
|---|---|---|
| \`ttl_seconds\` | ${String(plan.settings.ttl_seconds)} | \`REGISTRY_TTL_SECONDS\` |
| \`max_services\` | ${String(plan.settings.max_services)} | \`REGISTRY_MAX_SERVICES\` |

A registration's own \`ttl_seconds\` (1..86400) wins over the default. Registrations are kept in
\`DATA_DIR/services.json\` (atomic writes), so a restart forgets no live instance; beyond
\`max_services\` a new one is refused with 409 \`CAPACITY_REACHED\`. The registry answers what
instances say about themselves: it does not probe their health.`;
}

function openApi(_plan: ArchetypePlan): OpenApiPart {
  const service = answer('The registration.', 'Service');
  const missing = errorResponse('No live instance has that id (an expired one must register again).');
  const id = pathParameter('id', { type: 'string', minLength: 1, maxLength: 100 }, 'The instance.');
  return {
    paths: {
      '/services': {
        post: {
          operationId: 'register_service', summary: 'Register (or renew) a service instance.',
          requestBody: body('ServiceInput', { name: 'payments', url: 'http://10.0.0.7:3000', metadata: { version: '1.4.2' } }),
          responses: { '201': answer('Registered.', 'Service'), '200': answer('The same name and url: renewed.', 'Service'), '400': INVALID, '401': UNAUTHORIZED, '409': errorResponse('The registry is full.') },
        },
        get: {
          operationId: 'list_services', summary: 'List live service instances.',
          parameters: [
            queryParameter('name', { type: 'string', minLength: 1, maxLength: 200 }, 'Only instances of this service.'),
            queryParameter('limit', { type: 'integer', minimum: 1, maximum: 100, default: 50 }, 'Page size.'),
            queryParameter('offset', { type: 'integer', minimum: 0, default: 0 }, 'Instances to skip.'),
          ],
          responses: { '200': answer('A page of live instances.', 'ServicePage'), '400': INVALID, '401': UNAUTHORIZED },
        },
      },
      '/services/{id}': {
        parameters: [id],
        get: { operationId: 'get_service', summary: 'One live instance.', responses: { '200': service, '401': UNAUTHORIZED, '404': missing } },
        delete: { operationId: 'deregister_service', summary: 'Deregister an instance.', responses: { '204': { description: 'Deregistered.' }, '401': UNAUTHORIZED, '404': missing } },
      },
      '/services/{id}/heartbeat': {
        parameters: [id],
        post: { operationId: 'send_heartbeat', summary: 'Renew a registration for another TTL.', responses: { '200': service, '401': UNAUTHORIZED, '404': missing } },
      },
      '/lookup/{name}': {
        parameters: [pathParameter('name', { type: 'string', minLength: 1, maxLength: 200 }, 'The service name.')],
        get: { operationId: 'lookup_service', summary: 'The live instances of a service.', responses: { '200': answer('The live instances.', 'Lookup'), '401': UNAUTHORIZED, '404': errorResponse('No live instance is registered under that name.') } },
      },
    },
    schemas: {
      ServiceInput: { type: 'object', additionalProperties: false, required: ['name', 'url'], properties: { name: NAME, url: URL_SCHEMA, metadata: METADATA, ttl_seconds: TTL } },
      Service: {
        type: 'object', required: ['id', 'name', 'url', 'metadata', 'ttl_seconds', 'registered_at', 'last_heartbeat_at', 'expires_at'],
        properties: { id: { type: 'string', minLength: 1 }, name: NAME, url: URL_SCHEMA, metadata: METADATA, ttl_seconds: TTL, registered_at: TIME, last_heartbeat_at: TIME, expires_at: TIME },
      },
      ServicePage: {
        type: 'object', required: ['items', 'total', 'limit', 'offset'],
        properties: { items: { type: 'array', items: ref('Service') }, total: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 100 }, offset: { type: 'integer', minimum: 0 } },
      },
      Lookup: { type: 'object', required: ['name', 'instances'], properties: { name: { type: 'string' }, instances: { type: 'array', minItems: 1, items: ref('Service') } } },
    },
  };
}

function scenarios(plan: ArchetypePlan): AcceptanceScenario[] {
  const covers = plan.covers;
  const name = 'acceptance-payments';
  const url = 'http://127.0.0.1:4010';
  const register = (extra: Record<string, unknown> = {}) => ({ method: 'POST' as const, path: '/services', body: { name, url, ...extra } });
  return [
    {
      name: 'a registered service is looked up by name, keeps itself alive with heartbeats, and is gone once deregistered',
      covers,
      steps: [
        { request: register({ metadata: { version: '1.0.0' }, ttl_seconds: 120 }), expect: { status: 201, json: { name, url, metadata: { version: '1.0.0' }, ttl_seconds: 120 } }, capture: { id: 'id' } },
        { request: { method: 'GET', path: `/lookup/${name}` }, expect: { status: 200, json: { name } } },
        { request: { method: 'POST', path: '/services/{{id}}/heartbeat' }, expect: { status: 200, json: { id: '{{id}}', name, ttl_seconds: 120 } } },
        { request: register({ metadata: { version: '1.0.1' }, ttl_seconds: 120 }), expect: { status: 200, json: { id: '{{id}}', metadata: { version: '1.0.1' } } } },
        { request: { method: 'GET', path: '/services/{{id}}' }, expect: { status: 200, json: { id: '{{id}}', url } } },
        { request: { method: 'GET', path: `/services?name=${name}` }, expect: { status: 200, json: { total: 1 } } },
        { request: { method: 'DELETE', path: '/services/{{id}}' }, expect: { status: 204 } },
        { request: { method: 'GET', path: `/lookup/${name}` }, expect: { status: 404, json: { error: { code: 'NOT_FOUND' } } } },
        { request: { method: 'POST', path: '/services/{{id}}/heartbeat' }, expect: { status: 404, json: { error: { code: 'NOT_FOUND' } } } },
        { request: { method: 'GET', path: '/services/{{id}}' }, expect: { status: 404, json: { error: { code: 'NOT_FOUND' } } } },
      ],
    },
    {
      name: `a registration without a TTL of its own gets the default of ${String(plan.settings.ttl_seconds)} s; bad names and urls are refused`,
      covers,
      steps: [
        { request: { method: 'POST', path: '/services', body: { name: 'acceptance-default-ttl', url: 'https://example.org' } }, expect: { status: 201, json: { ttl_seconds: plan.settings.ttl_seconds, metadata: {} } }, capture: { id: 'id' } },
        { request: { method: 'DELETE', path: '/services/{{id}}' }, expect: { status: 204 } },
        { request: { method: 'POST', path: '/services', body: { name, url: 'ftp://example.org' } }, expect: { status: 400, json: { error: { code: 'VALIDATION_FAILED' } } } },
        { request: { method: 'POST', path: '/services', body: { name: 'no spaces allowed', url } }, expect: { status: 400, json: { error: { code: 'VALIDATION_FAILED' } } } },
      ],
    },
    {
      name: 'the registry needs the API token',
      covers,
      steps: [{ request: { method: 'GET', path: `/lookup/${name}` }, expect: { status: 401, json: { error: { code: 'UNAUTHORIZED' } } }, auth: false }],
    },
  ];
}

export const SERVICE_REGISTRY: Archetype = {
  kind: 'service-registry',
  title: 'Service registry',
  triggers: [/\b(?:service|droplet|instance) (?:registry|discovery)\b/, /\bdiscovery service\b/, /\bheartbeat\b/, /\bregistry where\b/, /\bregister(?:s|ed)? (?:itself|themsel(?:f|ves)|service|droplet|instance)/],
  vocabulary: new Set(['service', 'registry', 'register', 'registration', 'heartbeat', 'droplet', 'instance', 'lookup', 'look', 'looked', 'name', 'discovery', 'discover', 'url', 'endpoint', 'expiry', 'expire', 'ttl', 'metadata', 'silent', 'alive']),
  paths: ['services', 'lookup'],
  settings: { ttl_seconds: 30, max_services: 10_000 },
  variables: [
    { name: 'REGISTRY_TTL_SECONDS', setting: 'ttl_seconds', comment: 'Seconds without a heartbeat after which a registration expires (unless it set its own).' },
    { name: 'REGISTRY_MAX_SERVICES', setting: 'max_services', comment: 'Registrations kept at most.' },
  ],
  capabilities: ['service_registration', 'service_discovery'],
  supportedOperations: ['register_service', 'list_services', 'get_service', 'deregister_service', 'send_heartbeat', 'lookup_service'],
  endpoints: ENDPOINTS,
  spec,
  openApi,
  scenarios,
};
