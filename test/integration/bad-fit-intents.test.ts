/**
 * The record-keeping intents the offline author used to misread, through the real API
 * in `auto` mode: each droplet is named from its main noun, keeps what the intent names
 * (links with a url and tags; stock levels per warehouse; recipes; plants), and its
 * SPEC's acceptance scenarios, which exercise exactly that, pass against it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AcceptanceScenario } from '../../src/domain/acceptance.js';
import type { BuildView } from '../../src/domain/status.js';
import type { VerificationReport } from '../../src/domain/verification.js';
import { startExecutor, submitBuild, type TestExecutor, waitForStatus } from '../support/executor.js';

const INTENTS = {
  bookmarks: 'Build a bookmark service that stores links with tags',
  stock: 'Build a service for warehouses, products and stock levels per warehouse',
  recipes: 'Build a recipe catalogue with ingredients and cooking times',
  plants: 'make me a thing for tracking my plants',
} as const;

let server: TestExecutor;
const built: Partial<Record<keyof typeof INTENTS, BuildView>> = {};

beforeAll(async () => {
  server = await startExecutor({ DEPLOY_TARGET: 'none' });
  const keys = Object.keys(INTENTS) as (keyof typeof INTENTS)[];
  const ids = await Promise.all(keys.map(async (key) => [key, await submitBuild(server.baseUrl, { architect_intent: INTENTS[key], approval_mode: 'auto' })] as const));
  for (const [key, id] of ids) built[key] = await waitForStatus(server.baseUrl, id, ['completed', 'failed'], 240_000);
}, 300_000);

afterAll(async () => {
  await server?.close();
});

const scenariosOf = (view: BuildView) => view.steps[1]!.details.scenarios as AcceptanceScenario[];
const reportOf = (view: BuildView) => view.steps[4]!.details.report as VerificationReport;
/** Every request the scenarios make, as `METHOD /path` with placeholders as written. */
const requests = (view: BuildView) => scenariosOf(view).flatMap((scenario) => scenario.steps.map((step) => `${step.request.method} ${step.request.path}`));
const firstCreate = (view: BuildView, path: string) =>
  scenariosOf(view).flatMap((scenario) => scenario.steps).find((step) => step.request.method === 'POST' && step.request.path === path && step.expect.status === 201)?.request.body as Record<string, unknown>;

describe('intents the offline author used to misread', () => {
  it.each(Object.keys(INTENTS) as (keyof typeof INTENTS)[])('%s: completes, everything covered, every scenario and OpenAPI check passing', (key) => {
    const view = built[key]!;
    expect(view.status, JSON.stringify(view.error)).toBe('completed');
    expect(view.intent_coverage?.not_covered).toEqual([]);
    const report = reportOf(view);
    expect(report.acceptance!.length).toBe(scenariosOf(view).length);
    expect(report.acceptance!.every((scenario) => scenario.passed)).toBe(true);
    expect(report.contract!.filter((check) => check.name.startsWith('openapi: ')).every((check) => check.passed)).toBe(true);
  });

  it('a bookmark keeps its url and tags', () => {
    const view = built.bookmarks!;
    expect(view.droplet_name).toBe('bookmark-service');
    expect(firstCreate(view, '/bookmarks')).toMatchObject({ url: expect.stringMatching(/^https:\/\//) as unknown, tags: expect.any(Array) as unknown });
  });

  it('stock levels are kept per warehouse, and one naming no warehouse is refused with 422', () => {
    const view = built.stock!;
    expect(requests(view)).toEqual(expect.arrayContaining(['POST /warehouses', 'POST /products', 'POST /stock-levels']));
    expect(firstCreate(view, '/stock-levels')).toMatchObject({ warehouse_id: '{{warehouse_id}}', quantity: expect.any(Number) as unknown });
    const refusals = scenariosOf(view).flatMap((scenario) => scenario.steps).filter((step) => step.expect.status === 422);
    expect(refusals.map((step) => step.request.path)).toEqual(['/stock-levels']);
  });

  it('recipes keep their ingredients and cooking time; plants are tracked by a plant-tracker', () => {
    expect(built.recipes!.droplet_name).toBe('recipe-catalogue');
    expect(firstCreate(built.recipes!, '/recipes')).toMatchObject({ ingredients: expect.any(Array) as unknown, cooking_time_minutes: expect.any(Number) as unknown });
    expect(built.plants!.droplet_name).toBe('plant-tracker');
    expect(requests(built.plants!)).toEqual(expect.arrayContaining(['POST /plants', 'GET /plants/{{id}}', 'PUT /plants/{{id}}', 'PATCH /plants/{{id}}', 'DELETE /plants/{{id}}']));
  });
});
