/**
 * The executor's own API description (GET /docs/json, UI at /docs), fetched over real
 * HTTP from the real app: it validates as OpenAPI, lists every route the app serves
 * (read from Fastify's router, not from a list kept here) with its error responses in the
 * UDC shape, is public while everything with build data needs the token, and real answers
 * of the main routes match the schemas it describes for them.
 * (test/unit/openapi*.test.ts are about the generated droplets' documents, not this one.)
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { registerApiDescription } from '../../src/http/api-description.js';
import { servedRoutesOf } from '../../src/http/auth.js';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { createBuildFileService } from '../../src/pipeline/build-files.js';
import { EmbeddedFleetRegistry } from '../../src/registry/embedded-fleet-registry.js';
import { GitRepositoryHistory } from '../../src/repo/history.js';
import { SignedApprovalLinkRedeemer } from '../../src/pipeline/approval-links.js';
import { SqliteApprovalLinkLedger } from '../../src/store/approval-links.js';
import { RegistryEntryStore } from '../../src/store/registry-entries.js';
import { type AnswerCheck, answerChecker } from '../support/described-answers.js';
import { TestBuilds, createTestApp, listen } from '../support/http-app.js';

const TOKEN = 'openapi-test-token-5150';
const auth = { authorization: `Bearer ${TOKEN}` };
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options'] as const;

interface Operation {
  parameters?: { in: string; name: string }[];
  requestBody?: unknown;
  security?: Record<string, unknown>[];
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
type Document = { openapi: string; paths: Record<string, Partial<Record<(typeof HTTP_METHODS)[number], Operation>>> };

let app: FastifyInstance;
let base: string;
let builds: TestBuilds;
let document: Document;

beforeAll(async () => {
  builds = new TestBuilds();
  const fleetRegistry = new EmbeddedFleetRegistry(new RegistryEntryStore(builds.db), { defaultTtlSeconds: 90 });
  const approvalLinks = new SignedApprovalLinkRedeemer({ key: Buffer.alloc(32, 7), builds: builds.service, ledger: new SqliteApprovalLinkLedger(builds.db) });
  const buildFiles = createBuildFileService({ store: builds.store, history: new GitRepositoryHistory() });
  // Every optional route family on: the document must list them all.
  ({ app } = await createTestApp({ builds, fleetRegistry, approvalLinks, buildFiles, apiToken: TOKEN }));
  base = await listen(app);
  const response = await fetch(`${base}/docs/json`);
  expect(response.status).toBe(200);
  document = (await response.json()) as Document;
});

afterAll(async () => {
  await app?.close();
});

/**
 * Every `METHOD /path` the app serves, as its onRoute hooks saw them register (auth.ts
 * records them all), with `:param` written `{param}` and a trailing wildcard `{*}`, as the
 * document does. HEAD twins of GET routes are left out.
 */
function servedOperations(server: FastifyInstance): Set<string> {
  const served = new Set<string>();
  for (const { method, url } of servedRoutesOf(server)) {
    if (method === 'HEAD') continue;
    served.add(`${method} ${url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\/\*$/, '/{*}')}`);
  }
  return served;
}

/** Routes served on purpose without a place in the document: the UI's assets and the dashboard's static files. */
function isUndocumentedAsset(operation: string): boolean {
  const path = operation.split(' ')[1]!;
  if (path === '/docs/json' || path === '/docs/yaml') return false;
  return path.startsWith('/docs/') || path === '/' || path.startsWith('/dashboard/') || path === '/dashboard';
}

function documentedOperations(): Map<string, Operation> {
  const operations = new Map<string, Operation>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (operation) operations.set(`${method.toUpperCase()} ${path}`, operation);
    }
  }
  return operations;
}

describe('the API description', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeTruthy();
  });

  it('lists every route the app serves, and nothing else', () => {
    const all = [...servedOperations(app)];
    // The hidden ones are really there (and hidden, by the comparison below).
    expect(all).toEqual(expect.arrayContaining(['GET /', 'GET /dashboard/{*}', 'GET /docs/static/{*}']));
    const served = all.filter((operation) => !isUndocumentedAsset(operation)).sort();
    // Guards the collection itself: these are surely served.
    expect(served).toEqual(expect.arrayContaining(['POST /executor/build-droplet', 'GET /executor/builds/{id}/stream', 'DELETE /registry/services/{id}', 'POST /executor/approvals/{token}', 'GET /executor/builds/{id}/repairs', 'GET /docs/json']));
    expect([...documentedOperations().keys()].sort()).toEqual(served);
  });

  it('gives every operation its error responses, in the UDC shape where it answers JSON', () => {
    for (const [name, operation] of documentedOperations()) {
      const errors = Object.entries(operation.responses).filter(([status]) => Number(status) >= 400);
      expect(errors.length, name).toBeGreaterThan(0);
      expect(Object.keys(operation.responses).some((status) => Number(status) < 400), `${name} describes its success`).toBe(true);
      const takesInput = (operation.parameters?.length ?? 0) > 0 || operation.requestBody !== undefined;
      const needsToken = (operation.security?.length ?? 0) > 0;
      if (takesInput) expect(Object.keys(operation.responses), name).toContain('400');
      if (needsToken) expect(Object.keys(operation.responses), name).toContain('401');
      if (takesInput || needsToken) expect(errors.some(([status]) => Number(status) < 500), name).toBe(true);
      // Only the approval links' pages answer their errors as HTML pages.
      const pages = name.includes('/executor/approvals/');
      for (const [status, response] of errors) {
        // A health check answers 503 with its own body (status `unhealthy`), as UDC has it.
        if (status === '503' && name.endsWith('/health')) continue;
        if (pages) expect(response.content?.['text/html']?.schema, `${name} ${status}`).toEqual({ type: 'string' });
        else expect(response.content?.['application/json']?.schema, `${name} ${status}`).toEqual({ $ref: '#/components/schemas/UdcError' });
      }
    }
  });

  it('marks what needs the token exactly as the app enforces it', async () => {
    for (const [name, operation] of documentedOperations()) {
      const [method, path] = name.split(' ') as [string, string];
      if (path.includes('{') || method !== 'GET') continue;
      const answer = await fetch(`${base}${path}`);
      expect(answer.status === 401, name).toBe((operation.security?.length ?? 0) > 0);
    }
  });

  it('is browsable at /docs without a token', async () => {
    const page = await fetch(`${base}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('swagger-ui');
  });
});

describe('the responses a route policy implies', () => {
  it('adds 429 to a rate-limited route and nothing it does not imply to a bare public one', async () => {
    const bare = Fastify();
    await registerApiDescription(bare, { version: '0.0.0', publicUrl: 'http://127.0.0.1:8400' });
    bare.post('/limited', { schema: { body: z.object({ n: z.number() }) }, config: { rateLimit: { max: 1 } } as never }, async (request) => request.body);
    bare.get('/open', { schema: { response: { 200: z.object({ ok: z.boolean() }) } }, config: { auth: 'public' } }, async () => ({ ok: true }));
    bare.get('/hidden', { schema: { hide: true } }, async () => ({}));
    bare.get('/socket', { schema: { querystring: z.object({ after: z.string().optional() }) }, config: { tokenInQuery: true } as never }, async () => ({}));
    bare.get('/extra', { schema: { response: { 200: z.object({ ok: z.boolean() }) } } }, async () => ({ ok: true, more: 1 }));
    await bare.ready();
    const paths = (bare.swagger() as unknown as Document).paths;
    expect(Object.keys(paths['/limited']!.post!.responses).sort()).toEqual(['400', '401', '413', '415', '429', '500']);
    expect(paths['/limited']!.post!.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(paths['/open']!.get!.responses).sort()).toEqual(['200', '500']);
    expect(paths['/open']!.get!.security).toEqual([]);
    expect(paths['/hidden']).toBeUndefined();
    expect(paths['/socket']!.get!.parameters!.map((parameter) => `${parameter.in} ${parameter.name}`).sort()).toEqual(['query after', 'query token']);
    // Describing never filters nor validates: the handler's parseOrThrow is the one check.
    expect((await bare.inject({ method: 'GET', url: '/extra' })).json()).toEqual({ ok: true, more: 1 });
    expect((await bare.inject({ method: 'POST', url: '/limited', payload: { n: 'not a number' } })).json()).toEqual({ n: 'not a number' });
    await bare.close();
  });
});

describe('real answers match the described schemas', () => {
  let check: AnswerCheck;

  beforeAll(async () => {
    check = await answerChecker(document);
  });

  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, { ...init, headers: { ...auth, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers } });

  it('for the build routes, success and errors', async () => {
    const submitted = (await check(
      'POST /executor/build-droplet',
      await call('/executor/build-droplet', { method: 'POST', body: JSON.stringify({ architect_intent: 'Build a service that tracks plants and their watering.' }) }),
    )) as { build_id: string };
    const id = submitted.build_id;
    await check('GET /executor/builds', await call('/executor/builds'));
    await check('GET /executor/builds', await call('/executor/builds?view=full'));
    await check('GET /executor/builds/{id}/status', await call(`/executor/builds/${id}/status`));
    await builds.waitAtGate(id);
    await check('GET /executor/builds/{id}/status', await call(`/executor/builds/${id}/status`));
    await check('GET /executor/builds/{id}/events', await call(`/executor/builds/${id}/events`));
    await check('POST /executor/builds/{id}/approve', await call(`/executor/builds/${id}/approve`, { method: 'POST', body: JSON.stringify({ approved: true }) }));
    await check('GET /executor/builds/{id}/files', await call(`/executor/builds/${id}/files`));
    await check('GET /executor/builds/{id}/files/{*}', await call(`/executor/builds/${id}/files/src/index.js`));
    await check('GET /executor/builds/{id}/repairs', await call(`/executor/builds/${id}/repairs`));
    await check('DELETE /executor/builds/{id}', await call(`/executor/builds/${id}`, { method: 'DELETE' }));
    await check('POST /executor/builds/{id}/retry', await call(`/executor/builds/${id}/retry`, { method: 'POST' }));

    await check('POST /executor/build-droplet', await call('/executor/build-droplet', { method: 'POST', body: JSON.stringify({ architect_intent: 'short' }) }));
    await check('GET /executor/builds/{id}/status', await call('/executor/builds/build-1-nothing-20260101-000000/status'));
    await check('GET /executor/builds/{id}/status', await fetch(`${base}/executor/builds/${id}/status`));
    await check('POST /executor/builds/{id}/approve', await call(`/executor/builds/${id}/approve`, { method: 'POST', body: '{"approved": tru' }));
  });

  it('for the service, droplet and registry routes', async () => {
    for (const path of ['/health', '/capabilities', '/state', '/dependencies', '/executor/health', '/executor/capabilities', '/executor/droplets', '/registry/health', '/registry/services']) {
      await check(`GET ${path}`, await call(path));
    }
    await check('POST /message', await call('/message', { method: 'POST', body: JSON.stringify({ from_service: 'architect', message_type: 'query', payload: {} }) }));
    await check('GET /executor/droplets/{name}', await call('/executor/droplets/no-such-droplet'));
    const registration = { name: 'plant-tracker', url: 'http://127.0.0.1:41001', capabilities: ['plants'], version: '1.0.0' };
    await check('POST /registry/register', await call('/registry/register', { method: 'POST', body: JSON.stringify(registration) }));
    await check('GET /registry/services/{id}', await call('/registry/services/plant-tracker'));
    await check('GET /registry/services', await call('/registry/services'));
  });
});
