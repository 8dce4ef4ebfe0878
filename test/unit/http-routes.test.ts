/** The shapes the build API and the UDC endpoints answer with. */
import { describe, expect, it } from 'vitest';
import type { BuildSummary, BuildView } from '../../src/domain/status.js';
import type { BuildEvent } from '../../src/domain/events.js';
import { executorInfo, startsTestApps } from '../support/http-app.js';

const INTENT = 'Build Analytics Engine for tracking droplet metrics';
const start = startsTestApps();

describe('build API', () => {
  it('accepts a build with 202 and the stream and status URLs', async () => {
    const { app, builds } = await start({ publicUrl: 'https://executor.example.com/' });
    const before = Date.now();
    const response = await app.inject({
      method: 'POST',
      url: '/executor/build-droplet',
      payload: { architect_intent: `  ${INTENT}  `, droplet_id: 13, droplet_name: 'analytics-engine', notify_channels: ['log'] },
    });
    const after = Date.now();
    expect(response.statusCode).toBe(202);
    const body = response.json();
    const id = 'build-13-analytics-engine-20260101-000000';
    expect(body).toEqual({
      build_id: id,
      status: 'queued',
      droplet_id: 13,
      droplet_name: 'analytics-engine',
      estimated_completion: expect.any(String),
      stream_url: `wss://executor.example.com/executor/builds/${id}/stream`,
      status_url: `https://executor.example.com/executor/builds/${id}/status`,
    });
    // Queued, first in line: its typical run (600 s here) from now, not from created_at.
    expect(Date.parse(body.estimated_completion as string)).toBeGreaterThanOrEqual(before + 600_000);
    expect(Date.parse(body.estimated_completion as string)).toBeLessThanOrEqual(after + 600_000);
    expect(builds.submitted).toEqual([
      { architectIntent: INTENT, dropletId: 13, dropletName: 'analytics-engine', approvalMode: 'final', autoDeploy: true, notifyChannels: ['log'] },
    ]);
  });

  it('serves status, a paged list with X-Total-Count, and the journal after a seq', async () => {
    const { app, builds } = await start();
    const ids: string[] = [];
    for (const intent of ['Build Ticket Desk for support', 'Build Poll Booth for team votes', INTENT]) {
      ids.push((await builds.submit({ architectIntent: intent, approvalMode: 'auto', autoDeploy: true })).build_id);
    }
    const first = ids[0]!;
    await builds.begin(first);

    const status = await app.inject({ method: 'GET', url: `/executor/builds/${first}/status` });
    expect(status.statusCode).toBe(200);
    expect(status.json<BuildView>().status).toBe('in_progress');

    const page = await app.inject({ method: 'GET', url: '/executor/builds?limit=2&offset=0' });
    expect(page.headers['x-total-count']).toBe('3');
    expect(page.json<BuildSummary[]>().map((view) => view.build_id)).toEqual([ids[2], ids[1]]);
    const filtered = await app.inject({ method: 'GET', url: '/executor/builds?status=in_progress' });
    expect(filtered.json<BuildSummary[]>().map((view) => view.build_id)).toEqual([first]);
    expect(filtered.headers['x-total-count']).toBe('1');
    for (const bad of ['limit=0', 'limit=201', 'offset=-1', 'status=running', 'limit=abc']) {
      expect((await app.inject({ method: 'GET', url: `/executor/builds?${bad}` })).statusCode).toBe(400);
    }
    // Out of range or not a number, the refusal names the range.
    for (const [query, message] of [
      ['limit=1000', 'Must be an integer from 1 to 200.'],
      ['limit=abc', 'Must be an integer from 1 to 200.'],
      ['limit=2.5', 'Must be an integer from 1 to 200.'],
      ['offset=-1', 'Must be an integer of at least 0.'],
    ]) {
      const refused = await app.inject({ method: 'GET', url: `/executor/builds?${query}` });
      expect(refused.json<{ error: { details: { issues: { message: string }[] } } }>().error.details.issues.map((issue) => issue.message), query).toEqual([message]);
    }

    const all = (await app.inject({ method: 'GET', url: `/executor/builds/${first}/events` })).json<BuildEvent[]>();
    expect(all.map((event) => event.type)).toEqual(['build.queued', 'build.started', 'step.started']);
    const later = (await app.inject({ method: 'GET', url: `/executor/builds/${first}/events?after=${all[0]!.seq}` })).json<BuildEvent[]>();
    expect(later).toEqual(all.slice(1));
    expect((await app.inject({ method: 'GET', url: `/executor/builds/${first}/events?after=-1` })).statusCode).toBe(400);
  });

  it('approves, cancels and retries through the service, with its conflicts', async () => {
    const { app, builds } = await start();
    const id = (await builds.submit({ architectIntent: INTENT, approvalMode: 'final', autoDeploy: true })).build_id;

    const early = await app.inject({ method: 'POST', url: `/executor/builds/${id}/approve`, payload: { approved: true } });
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe('CONFLICT');

    await builds.waitAtGate(id);
    const strict = await app.inject({ method: 'POST', url: `/executor/builds/${id}/approve`, payload: { approved: true, comment: 'x' } });
    expect(strict.statusCode).toBe(400);
    const tooLong = await app.inject({ method: 'POST', url: `/executor/builds/${id}/approve`, payload: { approved: true, feedback: 'f'.repeat(5001) } });
    expect(tooLong.statusCode).toBe(400);
    const approved = await app.inject({ method: 'POST', url: `/executor/builds/${id}/approve`, payload: { approved: true, feedback: 'ship it' } });
    expect(approved.statusCode).toBe(200);
    expect(approved.json<BuildSummary>().status).toBe('queued');

    const cancelled = await app.inject({ method: 'DELETE', url: `/executor/builds/${id}` });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json<BuildSummary>().status).toBe('cancelled');
    expect((await app.inject({ method: 'DELETE', url: `/executor/builds/${id}` })).statusCode).toBe(409);

    const outOfRange = await app.inject({ method: 'POST', url: `/executor/builds/${id}/retry?from_step=9` });
    expect(outOfRange.statusCode).toBe(400);
    expect(outOfRange.json<{ error: { details: { issues: { path: string; message: string }[] } } }>().error.details.issues).toEqual([
      { path: 'from_step', message: 'Must be an integer from 1 to 8.' },
    ]);
    const retried = await app.inject({ method: 'POST', url: `/executor/builds/${id}/retry?from_step=3` });
    expect(retried.statusCode).toBe(202);
    expect(retried.json<BuildSummary>().status).toBe('queued');
    const events = await builds.service.events(id, 0);
    expect(events.at(-1)).toMatchObject({ type: 'build.retried', data: { from_step: 3 } });
  });

  it('lists the registry as droplets, with no deployment where nothing deploys', async () => {
    const { app, registry } = await start();
    await registry.register({ dropletId: 13, name: 'analytics-engine', url: 'http://127.0.0.1:9013', host: null, version: '1.0.0', capabilities: ['metrics'], buildId: 'build-13-x', commit: 'abc123' });
    const body = (await app.inject({ method: 'GET', url: '/executor/droplets' })).json();
    expect(body).toEqual({
      droplets: [
        {
          droplet_id: 13,
          name: 'analytics-engine',
          url: 'http://127.0.0.1:9013',
          host: null,
          version: '1.0.0',
          capabilities: ['metrics'],
          build_id: 'build-13-x',
          commit: 'abc123',
          registered_at: expect.any(String),
          updated_at: expect.any(String),
          deployment: null,
          health: { status: 'not_deployed' },
          releases: [],
        },
      ],
    });
  });

  it('answers droplet actions as DEPLOY_TARGET=none does, and refuses bad names', async () => {
    const { app, registry } = await start();
    await registry.register({ dropletId: 13, name: 'analytics-engine', url: null, host: null, version: '1.0.0', capabilities: [], buildId: 'build-13-x', commit: 'abc123' });
    const stop = await app.inject({ method: 'POST', url: '/executor/droplets/analytics-engine/stop' });
    expect(stop.statusCode).toBe(409);
    expect(stop.json().error.code).toBe('NO_DEPLOY_TARGET');
    expect((await app.inject({ method: 'GET', url: '/executor/droplets/nobody-here' })).statusCode).toBe(404);
    const bad = await app.inject({ method: 'POST', url: '/executor/droplets/Bad_Name/rollback' });
    expect(bad.statusCode).toBe(400);
    const badTo = await app.inject({ method: 'POST', url: '/executor/droplets/analytics-engine/rollback?to=nope' });
    expect(badTo.statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/executor/droplets/analytics-engine/logs?lines=0' })).json().error.message).toContain('between 1 and 2000');
  });
});

describe('UDC endpoints', () => {
  it('answers /health, degraded when the store does not answer', async () => {
    const { app, builds } = await start();
    const body = (await app.inject({ method: 'GET', url: '/health' })).json<{ timestamp: string; uptime_seconds: number }>();
    expect(body).toEqual({ status: 'healthy', timestamp: expect.any(String), uptime_seconds: expect.any(Number), version: '1.0.0', problems: [] });
    expect(Number.isInteger(body.uptime_seconds)).toBe(true);
    expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp);
    await app.close();

    const degraded = await start({ builds, info: executorInfo(builds, { storeHealthy: async () => false }) });
    expect((await degraded.app.inject({ method: 'GET', url: '/health' })).json().status).toBe('degraded');
    expect((await degraded.app.inject({ method: 'GET', url: '/state' })).json().status).toBe('error');
  });

  it('advertises every route in /capabilities', async () => {
    const { app } = await start();
    const body = (await app.inject({ method: 'GET', url: '/capabilities' })).json();
    expect(body).toMatchObject({ service_name: 'autonomous-executor', droplet_id: 0 });
    expect(body.capabilities.length).toBeGreaterThan(0);
    expect(body.supported_operations).toContain('build_droplet');
    const advertised = (body.integration_endpoints as { method: string; path: string; description: string }[]).map((e) => `${e.method} ${e.path}`);
    expect(advertised.sort()).toEqual([
      'DELETE /executor/builds/{id}',
      'DELETE /executor/droplets/{name}',
      'GET /capabilities',
      'GET /dependencies',
      'GET /executor/builds',
      'GET /executor/builds/{id}/events',
      'GET /executor/builds/{id}/files',
      'GET /executor/builds/{id}/files/*',
      'GET /executor/builds/{id}/repairs',
      'GET /executor/builds/{id}/status',
      'GET /executor/builds/{id}/stream',
      'GET /executor/capabilities',
      'GET /executor/droplets',
      'GET /executor/droplets/{name}',
      'GET /executor/droplets/{name}/logs',
      'GET /executor/health',
      'GET /health',
      'GET /state',
      'POST /executor/build-droplet',
      'POST /executor/builds/{id}/approve',
      'POST /executor/builds/{id}/retry',
      'POST /executor/droplets/{name}/restart',
      'POST /executor/droplets/{name}/rollback',
      'POST /executor/droplets/{name}/start',
      'POST /executor/droplets/{name}/stop',
      'POST /message',
    ]);
  });

  it('answers /state with build and request metrics, and /dependencies', async () => {
    const { app, builds } = await start();
    await builds.submit({ architectIntent: INTENT, approvalMode: 'auto', autoDeploy: true });
    await app.inject({ method: 'GET', url: '/health' });
    const state = (await app.inject({ method: 'GET', url: '/state' })).json<{ metrics: { requests_per_minute: number }; last_activity: string }>();
    expect(state).toMatchObject({ status: 'active', mode: 'production', metrics: { builds_by_status: { queued: 1 }, active_builds: 1 } });
    expect(state.metrics.requests_per_minute).toBeGreaterThanOrEqual(1);
    expect(new Date(state.last_activity).toISOString()).toBe(state.last_activity);

    const deps = (await app.inject({ method: 'GET', url: '/dependencies' })).json();
    expect(deps.required_services).toEqual([{ name: 'sqlite', status: 'available' }]);
    expect(deps.optional_services).toContainEqual({ name: 'registry', kind: 'embedded', status: 'available' });
    expect(deps.optional_services).toContainEqual({ name: 'notify:log', kind: 'log', status: 'configured' });
    expect(deps.external_apis).toEqual([]);
  });

  it('starts a build from a task_assignment and completes other messages', async () => {
    const { app, builds } = await start();
    const task = await app.inject({
      method: 'POST',
      url: '/message',
      payload: { from_service: 'orchestrator', message_type: 'task_assignment', payload: { intent: INTENT, approval_mode: 'auto' }, trace_id: 't-1' },
    });
    expect(task.statusCode).toBe(200);
    const body = task.json();
    expect(body).toMatchObject({ received: true, status: 'processing', trace_id: 't-1', build_status: 'queued' });
    expect(body.message_id).toMatch(/^msg-/);
    expect(body.build_id).toMatch(/^build-/);
    expect(builds.submitted).toEqual([{ architectIntent: INTENT, approvalMode: 'auto', autoDeploy: true }]);

    const query = await app.inject({ method: 'POST', url: '/message', payload: { from_service: 'dashboard', message_type: 'query', payload: {} } });
    expect(query.json()).toEqual({ received: true, message_id: expect.any(String), status: 'completed' });

    const noIntent = await app.inject({ method: 'POST', url: '/message', payload: { from_service: 'o', message_type: 'task_assignment', payload: { droplet_name: 'x-y-z' } } });
    expect(noIntent.statusCode).toBe(400);
    expect(noIntent.json().error.details.issues[0].path).toBe('architect_intent');
    const badType = await app.inject({ method: 'POST', url: '/message', payload: { from_service: 'o', message_type: 'shout', payload: {} } });
    expect(badType.statusCode).toBe(400);
    expect(builds.submitted).toHaveLength(1);
  });

  it('answers /executor/health and /executor/capabilities', async () => {
    const { app } = await start();
    const health = (await app.inject({ method: 'GET', url: '/executor/health' })).json();
    expect(health).toMatchObject({ status: 'healthy', service: 'autonomous-executor', version: '1.0.0', author: 'offline', sandbox: 'process', active_builds: 0 });
    const caps = (await app.inject({ method: 'GET', url: '/executor/capabilities' })).json();
    expect(caps).toMatchObject({
      author: { id: 'offline' },
      deploy_target: 'local',
      registry: 'embedded',
      max_concurrent_builds: 2,
      approval_modes: ['auto', 'checkpoints', 'final'],
      notify_channels: ['log'],
    });
    expect(caps.steps).toHaveLength(8);
    expect(caps.steps[4]).toEqual({ step_number: 5, step: 'verifier', name: 'Verifier' });
  });
});
