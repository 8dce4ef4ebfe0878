/**
 * The small per-droplet files around the skeleton: package.json, the data files the
 * skeleton's code reads (src/manifest.json, src/plan.json), README, .env.example, .gitignore.
 */
import type { DropletDependencies } from '../fastify-version.js';
import type { FieldPlan } from '../fields.js';
import type { DropletPlan, ResourcePlan } from '../plan.js';
import { readme } from './readme.js';
import { archetypeEnvLines, archetypePlanEntry } from '../archetypes/project.js';

export { readme };

export const DROPLET_VERSION = '1.0.0';
/** Records kept per resource before create answers 409 CAPACITY_REACHED. */
export const MAX_RECORDS = 10_000;

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

export function packageJson(plan: DropletPlan, dependencies: DropletDependencies): string {
  return json({
    name: plan.name,
    version: DROPLET_VERSION,
    description: plan.purpose,
    private: true,
    type: 'module',
    main: 'src/server.js',
    // One process for the whole suite: test/index.js loads every test file.
    scripts: { start: 'node src/server.js', test: 'node --test test/index.js' },
    // util.parseEnv, which reads .env, is in Node from 20.12.
    engines: { node: '>=20.12' },
    dependencies,
  });
}

/** What the droplet is: the defaults behind /capabilities and the environment. */
export function manifestJson(plan: DropletPlan): string {
  return json({
    name: plan.name,
    dropletId: plan.dropletId,
    version: DROPLET_VERSION,
    description: plan.purpose,
    capabilities: plan.capabilities,
    supportedOperations: plan.supportedOperations,
  });
}

/** The keys of a field in a fixed order, so the same plan always gives the same bytes. */
function planField(field: FieldPlan): Record<string, unknown> {
  return {
    name: field.name,
    type: field.type,
    required: field.required,
    description: field.description,
    ...(field.maxLength !== undefined ? { maxLength: field.maxLength } : {}),
    ...(field.enum !== undefined ? { enum: field.enum } : {}),
    ...(field.references !== undefined ? { references: field.references } : {}),
  };
}

function planResource(resource: ResourcePlan): Record<string, unknown> {
  return { plural: resource.plural, singular: resource.singular, maxRecords: MAX_RECORDS, fields: resource.fields.map(planField) };
}

/** What the droplet keeps: its resources and their fields, read by the skeleton's code and tests. */
export function planJson(plan: DropletPlan): string {
  return json({ resources: plan.resources.map(planResource), ...archetypePlanEntry(plan) });
}

export function envExample(plan: DropletPlan): string {
  return [
    '# Copy to .env (never committed) or set in the environment, which wins over .env. Empty means unset.',
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
    '# Where records are kept, one JSON file per resource; relative to the working directory.',
    'DATA_DIR=data',
    ...archetypeEnvLines(plan),
    '',
  ].join('\n');
}

export const GITIGNORE = ['node_modules/', '.env', '*.log', '/data/', ''].join('\n');
