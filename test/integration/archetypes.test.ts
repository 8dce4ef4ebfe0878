/**
 * Intents that are not plain records, built through the real API with the offline
 * author in `auto` mode: each becomes its archetype's droplet, and the verifier's
 * acceptance run (against the droplet in the sandbox) exercises what the intent asked for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildView } from '../../src/domain/status.js';
import { startExecutor, submitBuild, type TestExecutor, waitForStatus } from '../support/executor.js';

interface ScenarioReport {
  name: string;
  covers: string;
  passed: boolean;
}

const BUILDS = [
  {
    intent: 'Build a rate limiter service that other droplets call before hitting external APIs',
    routes: ['POST /checks', 'PUT /limits/{key}'],
    proves: 'a caller is allowed until its limit is spent, then refused with 429 and told when to retry',
  },
  {
    intent: 'Build a URL shortener that counts clicks',
    routes: ['POST /links', 'GET /{code}', 'GET /links/{code}'],
    proves: 'a short link redirects to its URL, and every click is counted',
  },
  {
    intent: 'A metrics service that ingests counters and reports aggregates',
    routes: ['POST /points', 'GET /aggregates'],
    proves: 'points ingested under a name are aggregated over a time range',
  },
  {
    intent: 'Build a job scheduler that runs jobs at a given time',
    routes: ['POST /jobs', 'GET /jobs/due', 'PATCH /jobs/{id}'],
    proves: 'a job whose run_at has come is listed as due, runs and is done; a later one waits',
  },
  {
    intent: 'Build a service registry where droplets register, send heartbeats and are looked up by name',
    routes: ['POST /services', 'POST /services/{id}/heartbeat', 'GET /lookup/{name}', 'DELETE /services/{id}'],
    proves: 'a registered service is looked up by name, keeps itself alive with heartbeats, and is gone once deregistered',
  },
  {
    intent: 'Build a notification hub that fans out messages to email and slack',
    routes: ['POST /channels', 'POST /messages', 'GET /messages/{id}/deliveries/{channel_id}', 'POST /inbox'],
    proves: "a message fans out to every channel named: the webhook to the droplet's own inbox is delivered, email and slack say not_configured",
  },
];

let server: TestExecutor;
beforeAll(async () => {
  server = await startExecutor({ DEPLOY_TARGET: 'none' });
});
afterAll(async () => {
  await server?.close();
});

describe.each(BUILDS)('"$intent"', ({ intent, routes, proves }) => {
  let build: BuildView;
  beforeAll(async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: intent, approval_mode: 'auto' });
    build = await waitForStatus(server.baseUrl, buildId, ['completed', 'failed']);
  }, 180_000);

  it('completes, its SPEC naming the routes the intent needs and covering all of it', () => {
    expect(build.status, JSON.stringify(build.error)).toBe('completed');
    const operations = (build.steps[1]!.details.operations as { method: string; path: string }[]).map((operation) => `${operation.method} ${operation.path}`);
    expect(operations).toEqual(expect.arrayContaining(routes));
    expect(build.intent_coverage).toMatchObject({ not_covered: [] });
  });

  it('passes acceptance scenarios that exercise what the intent asked for, every answer as documented', () => {
    const report = build.steps[4]!.details.report as { passed: boolean; acceptance: ScenarioReport[]; contract: { name: string; passed: boolean }[] };
    expect(report.passed).toBe(true);
    expect(report.acceptance.map((scenario) => scenario.name)).toContain(proves);
    expect(report.acceptance.every((scenario) => scenario.passed)).toBe(true);
    expect(report.contract.filter((check) => check.name.startsWith('openapi: ')).map((check) => check.passed)).toEqual([true, true]);
  });
});
