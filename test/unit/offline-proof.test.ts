/**
 * The offline author's SPEC proof: docs/openapi.json is valid OpenAPI 3.1 and agrees
 * with docs/acceptance.json, and every body a scenario sends is one the document's
 * request schema accepts (the same schemas the droplet validates with).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parseAcceptanceFile } from '../../src/domain/acceptance.js';
import { operationFor, stepPathShape } from '../../src/domain/api-description.js';
import { planDroplet, type DropletPlan } from '../../src/authors/offline/plan.js';
import { acceptanceJson } from '../../src/authors/offline/proof/acceptance.js';
import { openApiJson } from '../../src/authors/offline/proof/openapi.js';
import { parseApiDescription } from '../../src/verify/openapi.js';
import { checkSpecProof } from '../../src/verify/spec-proof.js';

const droplet = { dropletId: 7, name: 'stock-keeper' };

/** A plan with every field kind, and a reference from one resource to another. */
function stockPlan(): DropletPlan {
  const base = planDroplet('Build a service for warehouses and stock levels', droplet);
  return {
    ...base,
    resources: [
      {
        plural: 'warehouses', singular: 'warehouse', fields: [
          { name: 'name', type: 'string', required: true, maxLength: 200, description: 'Name.' },
          { name: 'site', type: 'url', required: false, description: 'Web page.' },
          { name: 'manager_email', type: 'email', required: false, description: 'Who runs it.' },
          { name: 'opened_on', type: 'date', required: false, description: 'When it opened.' },
          { name: 'active', type: 'boolean', required: false, description: 'Whether it ships.' },
        ],
      },
      {
        plural: 'stock-levels', singular: 'stock-level', fields: [
          { name: 'warehouse_id', type: 'reference', references: 'warehouses', required: true, description: 'Where.' },
          { name: 'quantity', type: 'integer', required: true, description: 'How many.' },
          { name: 'unit_price', type: 'number', required: false, description: 'Price of one.' },
          { name: 'counted_at', type: 'datetime', required: false, description: 'When counted.' },
          { name: 'status', type: 'string', enum: ['ok', 'low', 'out'], required: false, description: 'Level.' },
          { name: 'tags', type: 'tags', required: false, description: 'Labels.' },
        ],
      },
    ],
  };
}

const plans: [string, DropletPlan][] = [
  ['metrics', planDroplet('Build Analytics Engine for tracking droplet metrics and performance', { dropletId: 1, name: 'analytics-engine' })],
  ['bookmarks', planDroplet('Build a bookmark service that stores links with tags', { dropletId: 2, name: 'bookmarks' })],
  ['stock levels with a reference', stockPlan()],
];

describe.each(plans)('the offline SPEC proof of %s', (_label, plan) => {
  it('is valid, and its scenarios request every business operation and nothing else', async () => {
    const check = await checkSpecProof({ openapi: openApiJson(plan), acceptance: acceptanceJson(plan) });
    expect(check).toMatchObject({ ok: true });
    if (!check.ok) return;
    const business = check.proof.operations.filter((operation) => !operation.udc);
    expect(business).toHaveLength(plan.resources.length * 6);
    expect(check.proof.scenarios).toHaveLength(plan.resources.length * 3);
  });

  it('sends only bodies the documented request schema accepts, and gives an example of each that does', async () => {
    const parsed = await parseApiDescription(openApiJson(plan));
    if (!parsed.ok) throw new Error(parsed.reason);
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    const acceptance = parseAcceptanceFile(acceptanceJson(plan));
    if (!acceptance.ok) throw new Error(acceptance.reason);
    let checked = 0;
    for (const step of acceptance.file.scenarios.flatMap((scenario) => scenario.steps)) {
      const operation = operationFor(parsed.api.operations, step.request.method, stepPathShape(step.request.path))!;
      const media = operation.definition.requestBody?.content?.['application/json'];
      if (!media || step.request.body === undefined) continue;
      const validate = ajv.compile(media.schema as object);
      expect(validate(media.example), `${operation.method} ${operation.path} example`).toBe(true);
      const body = JSON.parse(JSON.stringify(step.request.body).replace(/\{\{[a-z_]+\}\}/g, 'an-id')) as unknown;
      const wantsRefusal = step.expect.status >= 400;
      expect(validate(body), `${step.request.method} ${step.request.path} → ${step.expect.status}`).toBe(!wantsRefusal || step.expect.status === 422);
      checked += 1;
    }
    expect(checked).toBeGreaterThanOrEqual(plan.resources.length * 4);
  });
});

describe('the offline acceptance scenarios of a resource that refers to another', () => {
  it('create the referenced record first and use its id, and prove a dangling reference is refused with 422', () => {
    const parsed = parseAcceptanceFile(acceptanceJson(stockPlan()));
    if (!parsed.ok) throw new Error(parsed.reason);
    const kept = parsed.file.scenarios.find((scenario) => scenario.name === 'a stock-level keeps what it was given, changes and goes away')!;
    expect(kept.steps[0]).toMatchObject({ request: { method: 'POST', path: '/warehouses' }, expect: { status: 201 }, capture: { warehouse_id: 'id' } });
    expect(kept.steps[1]).toMatchObject({ request: { method: 'POST', path: '/stock-levels', body: { warehouse_id: '{{warehouse_id}}', quantity: 12 } } });
    const refused = parsed.file.scenarios.find((scenario) => scenario.name.startsWith('a stock-level that is incomplete'))!;
    expect(refused.steps.map((step) => step.expect.status)).toEqual([201, 400, 422, 404]);
    expect(refused.steps[2]).toMatchObject({ request: { body: { warehouse_id: 'no-such-record' } }, expect: { json: { error: { code: 'REFERENCE_NOT_FOUND' } } } });
  });

  it('find the created record alone by a filter on its own values', () => {
    const parsed = parseAcceptanceFile(acceptanceJson(stockPlan()));
    if (!parsed.ok) throw new Error(parsed.reason);
    const kept = parsed.file.scenarios[0]!;
    expect(kept.steps[2]).toEqual({ request: { method: 'GET', path: '/warehouses?name=Example%20name' }, expect: { status: 200, json: { total: 1, offset: 0 } } });
  });
});
