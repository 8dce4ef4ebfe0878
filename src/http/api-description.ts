/**
 * The executor's own API description: an OpenAPI 3.1 document generated from the zod
 * schemas the routes declare (`schema: { params, querystring, body, headers, response }`),
 * served at GET /docs/json with a browsable UI at /docs. Both are public (no build data).
 *
 * Validation happens once, in the handlers (`parseOrThrow`), whose InputError messages
 * clients and tests rely on; so Fastify's own validator passes values through untouched,
 * and answers are serialized as plain JSON, never filtered by a response schema.
 *
 * Every documented operation also gets the error responses its route's policy implies
 * (401 when it needs a token, 400 when it takes input, 413/415 with a body, 429 when rate
 * limited, 500 always), in the UDC error shape, so a route lists only its own (404, 409…).
 */
import fastifySwagger, { type SwaggerTransform, type SwaggerTransformObject } from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { PUBLIC_ROUTES } from './auth.js';
import { z } from 'zod';
import { type ErrorStatus, errorResponses, htmlErrorResponses, htmlResponse } from './response-schemas.js';

export const DOCS_PREFIX = '/docs';
const BEARER = 'bearer';

export interface ApiDescriptionOptions {
  version: string;
  publicUrl: string;
}

/** Whether the route asks for a bearer token (see auth.ts for the policy). */
function needsToken(route: RouteOptions): boolean {
  const policy = route.config?.auth;
  if (policy === 'public' || policy === 'signed-link') return false;
  const reads = [route.method].flat().every((method) => method === 'GET' || method === 'HEAD');
  return !(reads && PUBLIC_ROUTES.has(route.url));
}

function tagOf(url: string): string {
  if (url.startsWith(DOCS_PREFIX)) return 'api description';
  if (url.startsWith('/executor/droplets')) return 'droplets';
  if (url.startsWith('/executor/approvals')) return 'approval links';
  if (url.startsWith('/executor/build')) return 'builds';
  if (url.startsWith('/registry')) return 'registry';
  return 'service';
}

/** The statuses any route of this shape can answer, whatever its handler does. */
function standardErrors(schema: FastifySchema, route: RouteOptions): ErrorStatus[] {
  const statuses: ErrorStatus[] = [];
  if (schema.params || schema.querystring || schema.body || schema.headers) statuses.push(400);
  if (needsToken(route)) statuses.push(401);
  if (schema.body) statuses.push(413, 415);
  if (schema.params) statuses.push(414);
  // A build submission (rate-limit.ts) or @fastify/rate-limit's own per-route option.
  const config = route.config as Record<string, unknown> | undefined;
  if (config?.submitsBuilds || config?.rateLimit) statuses.push(429);
  statuses.push(500);
  return statuses;
}

const SUCCESS_TEXT: Readonly<Record<string, string>> = { 200: 'OK.', 201: 'Created.', 202: 'Accepted: the work goes on in the background.' };

/** A bare zod success schema as a described JSON response: its own description, else the status's meaning. */
function describedSuccess(response: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(response).map(([status, schema]) => {
      const text = SUCCESS_TEXT[status];
      if (text === undefined || !(schema instanceof z.ZodType)) return [status, schema];
      return [status, { description: schema.description ?? text, content: { 'application/json': { schema } } }];
    }),
  );
}

const queryToken = z.string().optional().describe('The API token, for WebSocket clients that cannot set Authorization (browsers); the header wins when both are sent.');

/** A WebSocket route that takes the token as `?token=` (auth.ts) lists it with its query. */
function withQueryToken(schema: FastifySchema, route: RouteOptions): FastifySchema {
  const config = route.config as Record<string, unknown> | undefined;
  if (config?.tokenInQuery !== true) return schema;
  const query = schema.querystring instanceof z.ZodObject ? schema.querystring : z.object({});
  return { ...schema, querystring: query.extend({ token: queryToken }) };
}

/** Adds the policy's error responses (a route's own entry for a status wins) and its security and tag. */
export function withStandardResponses(schema: FastifySchema, route: RouteOptions): FastifySchema {
  const html = schema.produces?.includes('text/html') === true;
  const implied = standardErrors(schema, route);
  const errors = html ? htmlErrorResponses(...implied) : errorResponses(...implied);
  const description = route.config?.description;
  return {
    tags: [tagOf(route.url)],
    ...(description !== undefined && { summary: description }),
    security: needsToken(route) ? [{ [BEARER]: [] }] : [],
    ...withQueryToken(schema, route),
    response: { ...errors, ...describedSuccess((schema.response ?? {}) as Record<string, unknown>) },
  };
}

const zodTransform = createJsonSchemaTransform({ skipList: [] });

const transform: SwaggerTransform = (input) => {
  if (input.schema?.hide) return { schema: input.schema, url: input.url };
  const described = zodTransform({ ...input, schema: withStandardResponses(input.schema ?? {}, input.route) });
  // The UI page is served at /docs and /docs/; Fastify hands the document the last of the two.
  return described.url === `${DOCS_PREFIX}/` ? { ...described, url: DOCS_PREFIX } : described;
};

/** The zod provider adds an input twin (`BuildViewInput`) of every named schema; keep only those the paths use. */
const transformObject: SwaggerTransformObject = (documentObject) => {
  const document = jsonSchemaTransformObject(documentObject) as { paths?: unknown; components?: { schemas?: Record<string, unknown> } };
  const schemas = document.components?.schemas;
  if (!schemas) return document as ReturnType<SwaggerTransformObject>;
  const referenced = JSON.stringify({ paths: document.paths, schemas: Object.entries(schemas).filter(([id]) => !id.endsWith('Input')) });
  const used = Object.entries(schemas).filter(([id]) => !id.endsWith('Input') || referenced.includes(`"#/components/schemas/${id}"`));
  return { ...document, components: { ...document.components, schemas: Object.fromEntries(used) } } as ReturnType<SwaggerTransformObject>;
};

/** Plain values in, plain JSON out: the handlers validate, and nothing is stripped from an answer. */
function describeOnlySchemas(app: FastifyInstance): void {
  app.setValidatorCompiler(() => (data: unknown) => ({ value: data }));
  app.setSerializerCompiler(() => (data: unknown) => JSON.stringify(data));
}

/**
 * The UI's routes are hidden by the plugin; the page and the document itself are worth
 * listing (the asset routes, `/docs/static/*` and `/docs/*`, stay hidden).
 */
const DOCS_ROUTES: Readonly<Record<string, FastifySchema>> = {
  [DOCS_PREFIX]: { summary: 'This API description, browsable (public).', response: { 200: htmlResponse('The browsable API description (Swagger UI).') } },
  [`${DOCS_PREFIX}/json`]: { summary: 'This API description as OpenAPI 3.1 JSON (public).', response: { 200: z.looseObject({ openapi: z.string(), paths: z.record(z.string(), z.unknown()) }).describe('This OpenAPI 3.1 document.') } },
  [`${DOCS_PREFIX}/yaml`]: { summary: 'This API description as OpenAPI 3.1 YAML (public).', produces: ['application/yaml'], response: { 200: z.string().describe('This OpenAPI 3.1 document, as YAML.') } },
};

/** Call on the root instance before any route is added: the document collects routes as they register. */
export async function registerApiDescription(app: FastifyInstance, options: ApiDescriptionOptions): Promise<void> {
  describeOnlySchemas(app);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Autonomous Executor',
        version: options.version,
        description: "Turns an architect's intent into a running droplet. Errors answer in the UDC shape `{ error: { code, message, details } }`.",
      },
      servers: [{ url: options.publicUrl }],
      components: { securitySchemes: { [BEARER]: { type: 'http', scheme: 'bearer', description: 'API_TOKEN (the fleet registry also takes REGISTRY_TOKEN; its reads DROPLET_API_TOKEN).' } } },
    },
    transform,
    transformObject,
  });
  await app.register(async (scope) => {
    // The UI's own routes (the page, its assets, /docs/json) hold no build data.
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, auth: 'public' };
      const described = DOCS_ROUTES[route.url];
      if (described) route.schema = described;
    });
    await scope.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX });
  });
}
