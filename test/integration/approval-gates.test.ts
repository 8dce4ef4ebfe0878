/** Approval modes: `final` and `checkpoints` stop at their gates; approve resumes, reject cancels. */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildSummary, BuildView } from '../../src/domain/status.js';
import type { BuildEvent } from '../../src/domain/events.js';
import { api, startExecutor, submitBuild, type TestExecutor, waitForStatus } from '../support/executor.js';

let server: TestExecutor;
beforeAll(async () => {
  server = await startExecutor();
});
afterAll(async () => {
  await server?.close();
});

const approve = (buildId: string, approved: boolean, feedback?: string) =>
  api<BuildSummary>(server.baseUrl, `/executor/builds/${buildId}/approve`, { body: { approved, ...(feedback ? { feedback } : {}) } });

const statuses = (view: BuildView) => view.steps.map((step) => step.status);

describe('approval gates', () => {
  it('final waits before deploying and finishes after approval', async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Inventory Tracker for warehouse stock levels', approval_mode: 'final' });
    const waiting = await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(waiting.pending_approval).toMatchObject({ gate: 'before_deploy', step_number: 6 });
    expect(statuses(waiting)).toEqual(['completed', 'completed', 'completed', 'completed', 'completed', 'pending', 'pending', 'pending']);

    const approved = await approve(buildId, true, 'ship it');
    expect(approved.status).toBe(200);
    const done = await waitForStatus(server.baseUrl, buildId, ['completed']);
    expect(done.pending_approval).toBeNull();
    expect((await api<{ status: string }>(done.deployment_url!, '/health')).body.status).toBe('healthy');
    const events = (await api<BuildEvent[]>(server.baseUrl, `/executor/builds/${buildId}/events`)).body;
    expect(events.find((event) => event.type === 'build.approved')?.data).toMatchObject({ gate: 'before_deploy', feedback: 'ship it' });
  });

  it('checkpoints waits after the SPEC and before deploying', async () => {
    const buildId = await submitBuild(server.baseUrl, {
      architect_intent: 'Build Feedback Collector for user survey responses',
      approval_mode: 'checkpoints',
      auto_deploy: false,
    });
    const afterSpec = await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(afterSpec.pending_approval).toMatchObject({ gate: 'after_spec', step_number: 3 });
    expect(statuses(afterSpec).slice(0, 3)).toEqual(['completed', 'completed', 'pending']);
    expect(afterSpec.steps[1]!.details.spec).toContain('## ');
    expect(afterSpec.repository_path).toBeNull();

    expect((await approve(buildId, true)).status).toBe(200);
    // Approval moves the build out of waiting_approval at once, so the next wait is the next gate.
    const beforeDeploy = await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(beforeDeploy.pending_approval?.gate).toBe('before_deploy');
    expect(beforeDeploy.pending_approval?.step_number).toBe(6);

    expect((await approve(buildId, true)).status).toBe(200);
    const done = await waitForStatus(server.baseUrl, buildId, ['completed']);
    expect(done.steps[5]).toMatchObject({ step: 'deployer', status: 'skipped', details: { reason: 'auto_deploy is false' } });
    expect(done.deployment_url).toBeNull();
  });

  it('reject cancels the build and keeps its repository and events', async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Recipe Library for family cooking notes', approval_mode: 'final' });
    await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    const rejected = await approve(buildId, false, 'not this quarter');
    expect(rejected.status).toBe(200);
    expect(rejected.body.status).toBe('cancelled');
    expect(rejected.body.error).toMatchObject({ code: 'REJECTED' });
    expect(rejected.body).not.toHaveProperty('steps');
    const cancelled = (await api<BuildView>(server.baseUrl, `/executor/builds/${buildId}/status`)).body;
    expect(existsSync(cancelled.repository_path!)).toBe(true);
    const events = (await api<BuildEvent[]>(server.baseUrl, `/executor/builds/${buildId}/events`)).body;
    expect(events.map((event) => event.type).slice(-2)).toEqual(['build.rejected', 'build.cancelled']);

    const again = await approve(buildId, true);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: { code: 'CONFLICT' } });
  });

  it('refuses to approve a build that is not waiting', async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Uptime Monitor for recording health checks of droplets', approval_mode: 'auto', auto_deploy: false });
    const done = await waitForStatus(server.baseUrl, buildId, ['completed']);
    const response = await approve(done.build_id, true);
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ error: { code: 'CONFLICT', message: expect.any(String), details: expect.any(Object) } });
  });
});
