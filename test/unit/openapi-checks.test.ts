/**
 * The answers check against schemas an author could write to stall the executor: a
 * `$ref` chain that doubles at every level, and a pattern that backtracks without end.
 * Both are refused as "cannot be compiled" instead of being run.
 */
import { describe, expect, it } from 'vitest';
import { openApiChecks } from '../../src/verify/openapi-checks.js';
import { parseApiDescription } from '../../src/verify/openapi.js';
import { minimalOpenApi } from '../support/spec-proof.js';

async function answersCheck(schemas: Record<string, unknown>, answer: unknown) {
  const document = minimalOpenApi() as { paths: Record<string, unknown>; components?: unknown };
  document.components = { schemas };
  document.paths['/bombs'] = { get: { responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/S0' } } } } } } };
  const parsed = await parseApiDescription(JSON.stringify(document));
  if (!parsed.ok) throw new Error(parsed.reason);
  return openApiChecks(parsed.api, [{ method: 'GET', path: '/bombs', status: 200, json: answer }])[1]!;
}

describe('the answers check against hostile schemas', () => {
  it('refuses a schema that doubles at every $ref level instead of compiling it', async () => {
    const schemas: Record<string, unknown> = { S40: { type: 'string' } };
    for (let level = 39; level >= 0; level -= 1) schemas[`S${level}`] = { anyOf: [{ $ref: `#/components/schemas/S${level + 1}` }, { $ref: `#/components/schemas/S${level + 1}` }] };
    const check = await answersCheck(schemas, 'x');
    expect(check.passed).toBe(false);
    expect(check.got).toContain('cannot be compiled: it is larger than 20000 nodes with its $refs resolved, or recursive');
  });

  it('refuses to run a pattern that can backtrack without end', async () => {
    const check = await answersCheck({ S0: { type: 'string', pattern: '^(a|a)*$' } }, `${'a'.repeat(40)}b`);
    expect(check.passed).toBe(false);
    expect(check.got).toContain('could backtrack without end');
  });

  it('still runs an ordinary pattern', async () => {
    expect((await answersCheck({ S0: { type: 'string', pattern: '^[a-z]+-[0-9]{2}$' } }, 'abc-12')).passed).toBe(true);
    expect((await answersCheck({ S0: { type: 'string', pattern: '^[a-z]+-[0-9]{2}$' } }, 'abc')).passed).toBe(false);
  });
});
