/** The generated droplet's project files: package.json, manifest, README, env example, .gitignore. */
import type { DropletPlan } from '../plan.js';
import { UDC_ENDPOINTS, resourceEndpoints } from '../spec.js';

export const DROPLET_VERSION = '1.0.0';

export function packageJson(plan: DropletPlan, fastifyVersion: string): string {
  const manifest = {
    name: plan.name,
    version: DROPLET_VERSION,
    description: plan.purpose,
    private: true,
    type: 'module',
    main: 'src/server.js',
    scripts: { start: 'node src/server.js', test: 'node --test' },
    engines: { node: '>=20' },
    dependencies: { fastify: fastifyVersion },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export function manifestJs(plan: DropletPlan): string {
  const manifest = {
    name: plan.name,
    dropletId: plan.dropletId,
    version: DROPLET_VERSION,
    description: plan.purpose,
    capabilities: plan.capabilities,
    supportedOperations: plan.supportedOperations,
  };
  return [
    '// What this droplet is: the defaults behind /capabilities and the environment.',
    `export const manifest = ${JSON.stringify(manifest, null, 2)};`,
    '',
  ].join('\n');
}

export function envExample(plan: DropletPlan): string {
  return [
    '# Copy to .env (never committed) or set in the environment. Empty means unset.',
    `SERVICE_NAME=${plan.name}`,
    'SERVICE_PORT=3000',
    'HOST=127.0.0.1',
    `DROPLET_ID=${plan.dropletId}`,
    'REGISTRY_URL=',
    'ENVIRONMENT=development',
    'LOG_LEVEL=info',
    '# Set to require "Authorization: Bearer <token>" on everything but GET /health.',
    'API_TOKEN=',
    'BODY_LIMIT_BYTES=1048576',
    '',
  ].join('\n');
}

export const GITIGNORE = ['node_modules/', '.env', '*.log', ''].join('\n');

export function readme(plan: DropletPlan): string {
  const endpointRows = [...UDC_ENDPOINTS, ...plan.resources.flatMap(resourceEndpoints)].map(
    (endpoint) => `| \`${endpoint.method}\` | \`${endpoint.path}\` | ${endpoint.description} |`,
  );
  const fieldLines = plan.resources.map(
    (resource) =>
      `- \`${resource.plural}\`: ${resource.fields
        .map((field) => `\`${field.name}\`${field.required ? ' (required)' : ''}`)
        .join(', ')}; plus \`id\`, \`created_at\`, \`updated_at\`.`,
  );
  return `# ${plan.title}

${plan.purpose}

A droplet: a small HTTP service that answers the five UDC endpoints (\`/health\`,
\`/capabilities\`, \`/state\`, \`/dependencies\`, \`/message\`) plus its own JSON API.
Built with Node.js 20 and Fastify; records are kept in memory.

## Run

\`\`\`
npm install
npm test
SERVICE_PORT=3000 API_TOKEN=change-me npm start
curl localhost:3000/health
curl -H "Authorization: Bearer change-me" localhost:3000/capabilities
\`\`\`

Stop it with Ctrl-C or SIGTERM: it finishes in-flight requests and exits.

## Environment

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

A bad value stops the droplet at boot with one JSON log line saying which variable is wrong.

## Endpoints

| method | path | does |
|---|---|---|
${endpointRows.join('\n')}

Records:

${fieldLines.join('\n')}

Errors always look like \`{"error": {"code": "NOT_FOUND", "message": "…", "details": {}}}\`.

## Layout

- \`src/server.js\` starts it; \`src/config.js\` reads the environment; \`src/app.js\` builds the app.
- \`src/udc.js\` the UDC endpoints; \`src/metrics.js\` the figures in \`/state\`.
- \`src/resources/\` one module per resource; \`src/crud.js\` and \`src/store.js\` serve them.
- \`test/\` \`node:test\` files, run by \`npm test\`.
`;
}
