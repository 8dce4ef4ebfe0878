/** The generated droplet's README: how to run it, configure it, call it and change it. */
import { isFilterable } from '../field-schema.js';
import type { DropletPlan, ResourcePlan } from '../plan.js';
import { UDC_ENDPOINTS, resourceEndpoints } from '../spec.js';

function fieldLine(resource: ResourcePlan): string {
  const fields = resource.fields.map((field) => {
    const notes = [field.type === 'reference' ? `id of a \`${field.references}\` record` : field.type, field.required ? 'required' : ''];
    return `\`${field.name}\` (${notes.filter(Boolean).join(', ')})`;
  });
  const filters = resource.fields.filter(isFilterable).map((field) => `\`${field.name}\``);
  return `- \`${resource.plural}\`: ${fields.join(', ')}; plus \`id\`, \`created_at\`, \`updated_at\`. Filters: ${filters.join(', ') || 'none'}.`;
}

export function readme(plan: DropletPlan): string {
  const endpointRows = [...UDC_ENDPOINTS, ...plan.resources.flatMap(resourceEndpoints)].map(
    (endpoint) => `| \`${endpoint.method}\` | \`${endpoint.path}\` | ${endpoint.description} |`,
  );
  const first = plan.resources[0]?.plural ?? 'items';
  return `# ${plan.title}

${plan.purpose}

A droplet: a small HTTP service that answers the five UDC endpoints (\`/health\`,
\`/capabilities\`, \`/state\`, \`/dependencies\`, \`/message\`) plus its own JSON API.
Built with Node.js 20 and Fastify; records are kept in JSON files under \`DATA_DIR\`.

## Run

\`\`\`
npm install
npm test
cp .env.example .env    # then set API_TOKEN=change-me in it
npm start
curl localhost:3000/health
curl -H "Authorization: Bearer change-me" localhost:3000/capabilities
\`\`\`

Stop it with Ctrl-C or SIGTERM: it finishes in-flight requests and exits.

## Environment

Read from the environment and from \`.env\` in the working directory (a variable set in
the environment wins; no \`.env\` is fine).

| variable | default | meaning |
|---|---|---|
| \`SERVICE_NAME\` | \`${plan.name}\` | name in \`/capabilities\` and in logs |
| \`SERVICE_PORT\` | \`3000\` | port to listen on |
| \`HOST\` | \`127.0.0.1\` | interface to bind |
| \`DROPLET_ID\` | \`${plan.dropletId}\` | id in the fleet |
| \`REGISTRY_URL\` | unset | fleet registry, reported in \`/dependencies\` |
| \`ENVIRONMENT\` | \`development\` | \`production\`, \`development\` or \`staging\` |
| \`LOG_LEVEL\` | \`info\` | pino level, or \`silent\` |
| \`API_TOKEN\` | unset | when set, required as \`Authorization: Bearer …\` on everything but \`GET /health\` |
| \`BODY_LIMIT_BYTES\` | \`1048576\` | largest accepted request body |
| \`DATA_DIR\` | \`data\` | directory of the records, relative to the working directory; keep it outside the code you deploy |

A bad value stops the droplet at boot with one JSON log line saying which variable is wrong.

## Endpoints

| method | path | does |
|---|---|---|
${endpointRows.join('\n')}

Records:

${plan.resources.map(fieldLine).join('\n')}

Lists page and filter: \`GET /${first}?limit=10&offset=20&<field>=<value>\` answers
\`{"items": […], "total": <matching records>, "limit": 10, "offset": 20}\`; \`limit\` is 1..100
(default 50), \`offset\` 0 or more (default 0), filters compare by equality as the field's
type (\`true\`/\`false\`, numbers by value). Anything else in the query is refused with 400.
A reference field must name an existing record: otherwise 422 \`REFERENCE_NOT_FOUND\`.

Errors always look like \`{"error": {"code": "NOT_FOUND", "message": "…", "details": {}}}\`.

## Data

Each resource is one file, \`DATA_DIR/<resource>.json\`, replaced atomically on every change
(written beside it, flushed, renamed), and read at start. Back it up by copying the folder.

## Layout

- \`src/plan.json\` what is stored: resources and their fields. Change it to change the API;
  the schemas, routes and tests follow. \`src/manifest.json\` what \`/capabilities\` says.
- \`src/server.js\` starts it; \`src/config.js\` reads the environment; \`src/app.js\` builds the app.
- \`src/crud.js\` the routes of a resource, \`src/schemas.js\` their JSON schemas,
  \`src/store.js\` and \`src/data-file.js\` the records on disk.
- \`src/udc.js\` the UDC endpoints; \`src/metrics.js\` the figures in \`/state\`.
- \`test/\` \`node:test\` files, all run in one process by \`npm test\` (\`test/index.js\`).
`;
}
