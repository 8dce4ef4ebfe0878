/**
 * `docs/openapi.json` of an offline droplet: OpenAPI 3.1 of each resource's routes and
 * the five UDC endpoints, with the schemas the droplet validates (`fieldSchema`) and an
 * example body for every operation that takes one.
 */
import type { DropletPlan, ResourcePlan } from '../plan.js';
import { fieldSchema, isFilterable, type JsonSchema } from '../field-schema.js';
import { sample } from '../samples.js';
import { archetypeOpenApi } from '../archetypes/proof.js';
import { errorResponse, json, UDC_PATHS, UDC_SCHEMAS, UNAUTHORIZED } from './udc-operations.js';

/** Page sizes the droplet's list routes accept; the generated code enforces the same. */
export const LIST_LIMIT = { min: 1, max: 100, default: 50 } as const;
const EXAMPLE_ID = '3f2b8c4e-9a1d-4e7b-8c2f-5d6e7f8a9b0c';

function schemaName(resource: ResourcePlan): string {
  return resource.singular.split(/[-_\s]+/).map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('');
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** A body the example can show: references get a sample id instead of a scenario's placeholder. */
function exampleBody(resource: ResourcePlan, variant: 0 | 1): Record<string, unknown> {
  const body: Record<string, unknown> = sample(resource, variant);
  for (const field of resource.fields) if (field.type === 'reference') body[field.name] = EXAMPLE_ID;
  return body;
}

function resourceSchemas(resource: ResourcePlan): Record<string, JsonSchema> {
  const name = schemaName(resource);
  const properties = Object.fromEntries(resource.fields.map((field) => [field.name, fieldSchema(field)]));
  const required = resource.fields.filter((field) => field.required).map((field) => field.name);
  const stamp = { type: 'string', format: 'date-time' };
  return {
    [`${name}Input`]: { type: 'object', additionalProperties: false, required, properties },
    [`${name}Change`]: { type: 'object', additionalProperties: false, minProperties: 1, properties },
    [name]: {
      type: 'object',
      required: ['id', ...required, 'created_at', 'updated_at'],
      properties: { id: { type: 'string', minLength: 1 }, ...properties, created_at: stamp, updated_at: stamp },
    },
    [`${name}Page`]: {
      type: 'object',
      required: ['items', 'total', 'limit', 'offset'],
      properties: {
        items: { type: 'array', items: ref(name) },
        total: { type: 'integer', minimum: 0, description: 'Records matching the filters, before paging.' },
        limit: { type: 'integer', minimum: LIST_LIMIT.min, maximum: LIST_LIMIT.max },
        offset: { type: 'integer', minimum: 0 },
      },
    },
  };
}

function listParameters(resource: ResourcePlan): unknown[] {
  const paging = [
    { name: 'limit', in: 'query', required: false, description: 'Page size.', schema: { type: 'integer', minimum: LIST_LIMIT.min, maximum: LIST_LIMIT.max, default: LIST_LIMIT.default } },
    { name: 'offset', in: 'query', required: false, description: 'Records to skip.', schema: { type: 'integer', minimum: 0, default: 0 } },
  ];
  const filters = resource.fields.filter(isFilterable).map((field) => ({
    name: field.name,
    in: 'query',
    required: false,
    description: `Only ${resource.plural} whose ${field.name} equals this.`,
    schema: fieldSchema(field),
  }));
  return [...paging, ...filters];
}

function writeResponses(resource: ResourcePlan, success: Record<string, unknown>): Record<string, unknown> {
  const references = resource.fields.some((field) => field.type === 'reference');
  return {
    ...success,
    '400': errorResponse('The body is not a valid record.'),
    '401': UNAUTHORIZED,
    ...(references ? { '422': errorResponse('A reference names no existing record.') } : {}),
  };
}

function resourcePaths(resource: ResourcePlan): Record<string, unknown> {
  const { plural, singular } = resource;
  const name = schemaName(resource);
  const record = { description: `The ${singular}.`, content: json(ref(name)) };
  const missing = errorResponse(`There is no ${singular} with that id.`);
  const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 100 } };
  const body = (schema: string, variant: 0 | 1) => ({ required: true, content: json(ref(schema), exampleBody(resource, variant)) });
  const tags = [plural];
  return {
    [`/${plural}`]: {
      get: {
        operationId: `list_${plural}`, summary: `List ${plural}, a page at a time, filtered by field values.`, tags,
        parameters: listParameters(resource),
        responses: { '200': { description: `A page of ${plural}.`, content: json(ref(`${name}Page`)) }, '400': errorResponse('A query parameter is invalid.'), '401': UNAUTHORIZED },
      },
      post: {
        operationId: `create_${singular}`, summary: `Create a ${singular}.`, tags,
        requestBody: body(`${name}Input`, 0),
        responses: { ...writeResponses(resource, { '201': record }), '409': errorResponse('The store is full.') },
      },
    },
    [`/${plural}/{id}`]: {
      parameters: [idParameter],
      get: { operationId: `get_${singular}`, summary: `Get one ${singular} by id.`, tags, responses: { '200': record, '401': UNAUTHORIZED, '404': missing } },
      put: { operationId: `replace_${singular}`, summary: `Replace a ${singular}.`, tags, requestBody: body(`${name}Input`, 1), responses: { ...writeResponses(resource, { '200': record }), '404': missing } },
      patch: { operationId: `update_${singular}`, summary: `Change some fields of a ${singular}.`, tags, requestBody: body(`${name}Change`, 1), responses: { ...writeResponses(resource, { '200': record }), '404': missing } },
      delete: { operationId: `delete_${singular}`, summary: `Delete a ${singular}.`, tags, responses: { '204': { description: 'Deleted.' }, '401': UNAUTHORIZED, '404': missing } },
    },
  };
}

export function openApiDocument(plan: DropletPlan): Record<string, unknown> {
  const archetype = archetypeOpenApi(plan);
  return {
    openapi: '3.1.0',
    info: { title: plan.title, version: '0.1.0', description: plan.purpose },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: [{ name: 'udc', description: 'The five endpoints every droplet serves.' }, ...archetype.tags, ...plan.resources.map((resource) => ({ name: resource.plural }))],
    paths: { ...archetype.paths, ...Object.assign({}, ...plan.resources.map(resourcePaths)), ...UDC_PATHS },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The API_TOKEN of the droplet.' } },
      schemas: { ...UDC_SCHEMAS, ...archetype.schemas, ...(Object.assign({}, ...plan.resources.map(resourceSchemas)) as Record<string, JsonSchema>) },
    },
  };
}

export function openApiJson(plan: DropletPlan): string {
  return `${JSON.stringify(openApiDocument(plan), null, 2)}\n`;
}
