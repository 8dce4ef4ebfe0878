/** docs/openapi.json: its guard, and which operation a request belongs to. */
import { describe, expect, it } from 'vitest';
import { operationFor, templateFit } from '../../src/domain/api-description.js';
import { parseApiDescription } from '../../src/verify/openapi.js';
import { minimalOpenApi } from '../support/spec-proof.js';

const parse = (document: unknown) => parseApiDescription(typeof document === 'string' ? document : JSON.stringify(document));
const reason = async (document: unknown) => {
  const parsed = await parse(document);
  return parsed.ok ? 'valid' : parsed.reason;
};

describe('parseApiDescription', () => {
  it('lists the operations of a valid document, the UDC five marked', async () => {
    const parsed = await parse(minimalOpenApi());
    expect(parsed.ok && parsed.api.operations.map(({ method, path, udc, operation_id }) => ({ method, path, udc, operation_id }))).toEqual([
      { method: 'GET', path: '/health', udc: true, operation_id: 'getHealth' },
      { method: 'GET', path: '/capabilities', udc: true, operation_id: 'getCapabilities' },
      { method: 'GET', path: '/state', udc: true, operation_id: 'getState' },
      { method: 'GET', path: '/dependencies', udc: true, operation_id: 'getDependencies' },
      { method: 'POST', path: '/message', udc: true, operation_id: 'receiveMessage' },
    ]);
  });

  it('names the first problem of a document it refuses', async () => {
    expect(await reason('')).toBe('docs/openapi.json is missing or empty');
    expect(await reason('{"openapi": ')).toMatch(/^docs\/openapi\.json is not JSON \(/);
    expect(await reason({ ...minimalOpenApi(), openapi: '3.0.3' })).toBe('docs/openapi.json must be OpenAPI 3.1 ("openapi": "3.1.0"), not "3.0.3"');
    expect(await reason({ ...minimalOpenApi(), info: { title: 'no version' } })).toMatch(/^docs\/openapi\.json is not a valid OpenAPI 3\.1 document: .*version/);
    const noExample = minimalOpenApi() as { paths: Record<string, { post?: { requestBody: { content: Record<string, { example?: unknown }> } } }> };
    delete noExample.paths['/message']!.post!.requestBody.content['application/json']!.example;
    expect(await reason(noExample)).toBe('docs/openapi.json: POST /message takes a body but gives no example of it');
    const noState = minimalOpenApi() as { paths: Record<string, unknown> };
    delete noState.paths['/state'];
    expect(await reason(noState)).toBe('docs/openapi.json does not list the UDC endpoint GET /state');
  });

  it('resolves references inside the document and follows none outside it', async () => {
    const local = minimalOpenApi() as { paths: Record<string, unknown>; components?: unknown };
    local.components = { schemas: { Widget: { type: 'object' } } };
    local.paths['/widgets'] = { get: { responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Widget' } } } } } } };
    const parsed = await parse(local);
    expect(parsed.ok && parsed.api.operations.find((operation) => operation.path === '/widgets')?.definition.responses?.['200']?.content?.['application/json']?.schema).toEqual({ type: 'object' });
    const outside = minimalOpenApi() as { paths: Record<string, unknown> };
    outside.paths['/secrets'] = { get: { responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: 'file:///etc/passwd' } } } } } } };
    expect(await reason(outside)).toBe('docs/openapi.json refers outside itself ($ref "file:///etc/passwd"); keep every schema in the document');
  });
});

describe('which operation a request is for', () => {
  const operations = [
    { method: 'GET', path: '/links/{id}' },
    { method: 'GET', path: '/links/search' },
    { method: 'GET', path: '/links' },
  ];
  it('fits templates segment by segment, literal segments first, query strings aside', () => {
    expect(templateFit('/links/{id}', '/links/42')).toBe(1);
    expect(templateFit('/links/{id}', '/links')).toBeNull();
    expect(templateFit('/links/{id}', '/links/')).toBeNull();
    expect(operationFor(operations, 'GET', '/links/search?q=x')).toBe(operations[1]);
    expect(operationFor(operations, 'GET', '/links/42')).toBe(operations[0]);
    expect(operationFor(operations, 'GET', '/links?limit=1')).toBe(operations[2]);
    expect(operationFor(operations, 'DELETE', '/links/42')).toBeNull();
  });
});

describe('documents built to hurt the executor (security review)', () => {
  it('refuses a document nested too deep, without overflowing the stack', async () => {
    const levels = 200_000;
    const text = JSON.stringify({ ...minimalOpenApi(), 'x-deep': 'DEEP' }).replace('"DEEP"', `${'['.repeat(levels)}"x"${']'.repeat(levels)}`);
    expect(await reason(text)).toBe('docs/openapi.json nests deeper than 64 levels');
  });
});
