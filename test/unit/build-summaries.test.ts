/** Lists and actions answer compact BuildSummary objects; `?view=full` and …/status the whole view. */
import { describe, expect, it } from 'vitest';
import type { BuildSummary, BuildView } from '../../src/domain/status.js';
import { INTENT_SUMMARY_LENGTH, summaryOf } from '../../src/domain/summary.js';
import { startsTestApps, type TestBuilds } from '../support/http-app.js';

const INTENT = 'Build Analytics Engine for tracking droplet metrics';
const SUMMARY_KEYS = [
  'approval_mode', 'build_id', 'completed_at', 'cost_usd', 'created_at', 'current_step', 'current_step_number', 'deployment_url',
  'droplet_id', 'droplet_name', 'error', 'estimated_completion', 'intent_summary', 'pending_approval', 'progress_percent', 'started_at', 'status',
];
const start = startsTestApps();

/** A build at its before-deploy gate whose SPEC step holds a long SPEC, as real builds' do. */
async function gatedBuild(builds: TestBuilds, intent = INTENT, dropletName = 'analytics-engine'): Promise<string> {
  const id = (await builds.submit({ architectIntent: intent, dropletName, approvalMode: 'final', autoDeploy: true })).build_id;
  await builds.store.claim(id);
  for (let step = 1; step <= 5; step += 1) {
    await builds.store.startStep(id, step);
    const details = step === 2 ? { spec: `## SPEC\n${'A scenario line of the SPEC. '.repeat(600)}` } : { files: ['src/app.js', 'src/udc.js'] };
    await builds.store.completeStep(id, step, { skipped: false, details, output: null, durationSeconds: 0.01 });
  }
  await builds.store.awaitApproval(id, { gate: 'before_deploy', step_number: 6, requested_at: new Date().toISOString(), summary: 'Review it.' });
  return id;
}

describe('build summaries', () => {
  it('lists summaries by default and whole views with view=full', async () => {
    const { app, builds } = await start();
    const ids: string[] = [];
    for (let index = 0; index < 10; index += 1) ids.push(await gatedBuild(builds, INTENT, `analytics-engine-${index + 1}`));
    const summaries = await app.inject({ method: 'GET', url: '/executor/builds' });
    expect(summaries.statusCode).toBe(200);
    expect(summaries.headers['x-total-count']).toBe('10');
    const listed = summaries.json<BuildSummary[]>();
    expect(listed.map((summary) => summary.build_id)).toEqual([...ids].reverse());
    for (const summary of listed) expect(Object.keys(summary).sort()).toEqual(SUMMARY_KEYS);
    const status = (await app.inject({ method: 'GET', url: `/executor/builds/${ids[0]}/status` })).json<BuildView>();
    // (The estimate moves with the clock while a build waits: compared as a time only.)
    expect(listed.at(-1)).toEqual({ ...summaryOf(status), estimated_completion: expect.any(String) });
    expect(listed.at(-1)).toMatchObject({ status: 'waiting_approval', pending_approval: { gate: 'before_deploy' }, cost_usd: 0, intent_summary: INTENT });

    const full = await app.inject({ method: 'GET', url: '/executor/builds?view=full' });
    expect(full.headers['x-total-count']).toBe('10');
    const views = full.json<BuildView[]>();
    expect(views.at(-1)).toEqual({ ...status, estimated_completion: expect.any(String) });
    expect(views.every((view) => view.steps.length === 8)).toBe(true);
    // The point of the summary: ten gated builds in a fraction of the bytes.
    expect(summaries.body.length * 10).toBeLessThan(full.body.length);

    const bad = await app.inject({ method: 'GET', url: '/executor/builds?view=everything' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'INVALID_INPUT', details: { issues: [{ path: 'view' }] } } });
  });

  it('answers approve, cancel and retry with a summary', async () => {
    const { app, builds } = await start();
    const id = await gatedBuild(builds);
    const approved = await app.inject({ method: 'POST', url: `/executor/builds/${id}/approve`, payload: { approved: true } });
    expect(approved.statusCode).toBe(200);
    expect(Object.keys(approved.json()).sort()).toEqual(SUMMARY_KEYS);
    expect(approved.json<BuildSummary>()).toMatchObject({ build_id: id, status: 'queued', pending_approval: null });

    const cancelled = await app.inject({ method: 'DELETE', url: `/executor/builds/${id}` });
    expect(cancelled.json<BuildSummary>()).toMatchObject({ build_id: id, status: 'cancelled', error: { code: 'CANCELLED', retryable: true } });
    expect(Object.keys(cancelled.json<BuildSummary>().error!).sort()).toEqual(['code', 'message', 'retryable']);
    const view = (await app.inject({ method: 'GET', url: `/executor/builds/${id}/status` })).json<BuildView>();
    expect(cancelled.json()).toEqual({ ...summaryOf(view), estimated_completion: expect.any(String) });

    const retried = await app.inject({ method: 'POST', url: `/executor/builds/${id}/retry?from_step=3` });
    expect(retried.statusCode).toBe(202);
    expect(Object.keys(retried.json()).sort()).toEqual(SUMMARY_KEYS);
    expect(retried.json<BuildSummary>()).toMatchObject({ status: 'queued', progress_percent: 25, error: null });
  });

  it('cuts a long intent at 160 characters with an ellipsis, and keeps a short one whole', async () => {
    const { builds } = await start();
    const long = `Build Field Notes for ${'surveying the north meadow and its hedges, '.repeat(8)}`;
    const view = await builds.service.get(await gatedBuild(builds, long));
    const { intent_summary: summary } = summaryOf(view);
    expect([...summary]).toHaveLength(INTENT_SUMMARY_LENGTH);
    expect(summary.endsWith('…')).toBe(true);
    expect(long.startsWith(summary.slice(0, -1))).toBe(true);
    expect(summaryOf({ ...view, architect_intent: 'x'.repeat(INTENT_SUMMARY_LENGTH) }).intent_summary).toBe('x'.repeat(INTENT_SUMMARY_LENGTH));
  });
});
