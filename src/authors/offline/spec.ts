/** `docs/SPEC.md` for a planned droplet. */
import type { FoundationFile } from '../../domain/ports/author.js';
import type { FieldPlan } from './fields.js';
import type { DropletPlan, ResourcePlan } from './plan.js';
import { archetypeSection } from './archetypes/spec.js';

interface EndpointLine {
  method: string;
  path: string;
  description: string;
}

export const UDC_ENDPOINTS: readonly EndpointLine[] = [
  { method: 'GET', path: '/health', description: 'Liveness: status, timestamp, uptime_seconds, version. Public.' },
  { method: 'GET', path: '/capabilities', description: 'What the droplet offers, including every business route.' },
  { method: 'GET', path: '/state', description: 'Live status, mode, last activity and request metrics.' },
  { method: 'GET', path: '/dependencies', description: 'Required and optional services and external APIs, with reachability.' },
  { method: 'POST', path: '/message', description: 'Inter-droplet message intake.' },
];

/** The business routes of one resource, in the order the code registers them. */
export function resourceEndpoints(resource: ResourcePlan): EndpointLine[] {
  const { plural, singular } = resource;
  return [
    { method: 'GET', path: `/${plural}`, description: `List ${plural}.` },
    { method: 'POST', path: `/${plural}`, description: `Create a ${singular}.` },
    { method: 'GET', path: `/${plural}/:id`, description: `Get one ${singular} by id.` },
    { method: 'PUT', path: `/${plural}/:id`, description: `Replace a ${singular}.` },
    { method: 'PATCH', path: `/${plural}/:id`, description: `Change some fields of a ${singular}.` },
    { method: 'DELETE', path: `/${plural}/:id`, description: `Delete a ${singular}.` },
  ];
}

function endpointTable(lines: readonly EndpointLine[]): string {
  const rows = lines.map((line) => `| \`${line.method}\` | \`${line.path}\` | ${line.description} |`);
  return ['| method | path | does |', '|---|---|---|', ...rows].join('\n');
}

function fieldType(field: FieldPlan): string {
  switch (field.type) {
    case 'tags':
      return 'string[] (at most 20, each at most 50 characters)';
    case 'url':
      return `URL (at most ${field.maxLength ?? 2000} characters)`;
    case 'email':
      return 'email address';
    case 'datetime':
      return 'ISO 8601 date-time';
    case 'date':
      return 'date (YYYY-MM-DD)';
    case 'reference':
      return `id of a \`${field.references ?? '?'}\` record (422 when there is none)`;
    case 'string':
      if (field.enum) return `one of ${field.enum.map((value) => `\`${value}\``).join(', ')}`;
      return `string (1..${field.maxLength ?? 200} characters)`;
    default:
      return field.type;
  }
}

const quoted = (phrases: readonly string[]): string => phrases.map((phrase) => `"${phrase.replace(/"/g, "'")}"`).join(', ');

/** What of the intent the droplet does not do, said plainly (and what it does, for contrast). */
function notCovered(plan: DropletPlan, limits: readonly string[]): string {
  const { covered, not_covered: missing } = plan.coverage;
  const cannot = limits.length > 0 ? `\n\nOf what it serves, the droplet cannot on its own:\n\n${limits.map((limit) => `- ${limit}`).join('\n')}` : '';
  const serves = (covered.length > 0 ? `It serves ${quoted(covered)}.` : 'It serves no part of the intent: nothing in it named a record to keep.') + cannot;
  if (missing.length === 0) return `Nothing that the offline author could tell: every part of the intent it read maps to a resource or a field. ${serves}`;
  return [
    'The offline author builds droplets that keep records. These parts of the intent ask for something',
    'else, so this droplet does not do them:',
    '',
    ...missing.map((phrase) => `- "${phrase.replace(/"/g, "'")}"`),
    '',
    serves,
  ].join('\n');
}

function dataModel(resource: ResourcePlan): string {
  const rows = resource.fields.map(
    (field) => `| \`${field.name}\` | ${fieldType(field)} | ${field.required ? 'yes' : 'no'} | ${field.description} |`,
  );
  return [
    `### ${resource.singular} (\`/${resource.plural}\`)`,
    '',
    '| field | type | required | meaning |',
    '|---|---|---|---|',
    '| `id` | string (UUID) | set by the droplet | Identifier. |',
    ...rows,
    '| `created_at`, `updated_at` | ISO 8601 time | set by the droplet | When it was created and last changed. |',
  ].join('\n');
}

export function renderSpec(plan: DropletPlan, foundation: readonly FoundationFile[]): string {
  const archetype = archetypeSection(plan);
  const business = [...archetype.endpoints, ...plan.resources.flatMap(resourceEndpoints)];
  const resourceList = plan.resources.map((r) => `\`${r.plural}\``).join(' and ');
  const builtAgainst =
    foundation.length > 0
      ? foundation.map((file) => `- \`foundation-files/${file.path}\``).join('\n')
      : '- (no foundation files were provided)';
  return `# ${plan.title}: SPEC

Droplet \`${plan.name}\`, id ${plan.dropletId}.

## Purpose

${plan.purpose}

${archetype.summary}${plan.resources.length === 0 ? '' : `The droplet keeps ${resourceList} records and serves them over a small JSON API, next to
the five UDC endpoints every droplet answers. Records are kept in one JSON file per resource
under \`DATA_DIR\` (written atomically before a change is answered, loaded at start; capped at
10,000 per resource), so they survive a restart and a redeploy.
`}
## Endpoints

### UDC

${endpointTable(UDC_ENDPOINTS)}

### Business

${endpointTable(business)}

List answers \`{items, total, limit, offset}\`: \`limit\` 1..100 (default 50), \`offset\` from 0, and an
equality filter per field (\`?field=value\`, every field but tags); \`total\` counts every match
before paging. Create answers 201 with the record; delete answers 204. A reference to a record
that does not exist is refused with 422 \`REFERENCE_NOT_FOUND\`.

The machine-readable contract is beside this SPEC: \`docs/openapi.json\` (OpenAPI 3.1) and
\`docs/acceptance.json\` (the acceptance scenarios the executor runs against the droplet).

${archetype.section}${plan.resources.length === 0 ? '' : `## Data model

${plan.resources.map(dataModel).join('\n\n')}

Bodies are validated by JSON schema: unknown fields, wrong types and missing required
fields are refused with 400. \`PUT\` needs every required field; \`PATCH\` needs at least one field.
`}
## Not covered

${notCovered(plan, archetype.limits)}

## UDC compliance

- \`/health\` is public and cheap; with \`API_TOKEN\` set every other route needs
  \`Authorization: Bearer <API_TOKEN>\` and answers 401 without it.
- \`/capabilities\` lists capabilities ${plan.capabilities.map((c) => `\`${c}\``).join(', ')} and one
  \`integration_endpoints\` entry per business route; it declares
  \`"authentication": {"type": "bearer", "env": "API_TOKEN"}\` when a token is set.
- \`/state\` reports requests per minute, average response time and error rate measured
  over the last minute of real requests.
- \`/dependencies\` lists the registry as an optional service when \`REGISTRY_URL\` is set.
- \`POST /message\` accepts every UDC message type and answers \`{received, message_id, status}\`.
- Every error, unknown paths included, is \`{"error": {"code", "message", "details"}}\`
  with 400, 401, 404, 409, 413 or 422 as fits; 5xx bodies carry no internals.
- Logs are JSON lines; the authorization header is redacted.

## Success criteria

1. \`npm install\` then \`npm test\` pass offline on Node.js 20.
2. The tests exercise all five UDC endpoints and every business route, including
   refusal without a token, validation errors, unknown ids and oversized bodies.
3. \`npm start\` serves on \`SERVICE_PORT\`, answers \`GET /health\` with \`healthy\`, and
   stops cleanly on SIGTERM.
4. The executor's contract check passes against the running droplet, every acceptance scenario
   of \`docs/acceptance.json\` passes, and every answer matches \`docs/openapi.json\`.

## Built against

${builtAgainst}
`;
}
