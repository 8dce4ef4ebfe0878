/**
 * The droplet lifecycle through the HTTP API of a real executor (default `local` target,
 * real builds of the offline author): what the list and the droplet view show, rollback
 * (to the previous release and to a named one), stop, start, restart, logs and undeploy,
 * each journaled as a droplet event; every action refused with 409 while a build of the
 * droplet runs; unknown, malformed and impossible requests answered as such; and every
 * answer as the OpenAPI document describes it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildView } from '../../src/domain/status.js';
import { dropletView, type DropletJson, liveReleases, supervisorView } from '../support/droplet-api.js';
import { answerChecker } from '../support/described-answers.js';
import { api, startExecutor, submitBuild, type TestExecutor, waitForStatus } from '../support/executor.js';

const INTENT = 'Build Inventory Tracker for warehouse stock levels';
const NAME = 'lifecycle-api';

let server: TestExecutor;
const builds: BuildView[] = [];
let url = '';

beforeAll(async () => {
  server = await startExecutor({ START_TIMEOUT_SECONDS: '20' });
}, 60_000);
afterAll(async () => {
  await server?.close();
});

const dropletDir = () => join(server.dataDir, 'deployments', NAME);
const post = (path: string) => api<Record<string, unknown>>(server.baseUrl, path, { method: 'POST' });
const view = () => dropletView(server.baseUrl, NAME);
const errorCode = (body: unknown) => (body as { error?: { code?: string } }).error?.code;

async function build(): Promise<BuildView> {
  const buildId = await submitBuild(server.baseUrl, { architect_intent: INTENT, droplet_name: NAME, approval_mode: 'auto' });
  const done = await waitForStatus(server.baseUrl, buildId, ['completed']);
  builds.push(done);
  return done;
}

/** The droplet answers on its public URL (true), or the connection is refused (false). */
async function answers(): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(3_000) })).status === 200;
  } catch {
    return false;
  }
}

/** Droplet event types, oldest first. */
async function eventTypes(): Promise<string[]> {
  return ((await view()).events ?? []).map((event) => event.type).reverse();
}

describe('the droplet lifecycle API over a real local deploy', () => {
  it('a build deploys: the list and the view show target, host, url, release, commit, supervisor, start time and live health', async () => {
    const first = await build();
    url = first.deployment_url!;
    const deployer = first.steps.find((step) => step.step === 'deployer')!;
    const expected = {
      target: 'local',
      host: 'local',
      url,
      release: first.build_id,
      commit: deployer.details.commit,
      supervisor: 'process',
      status: 'active',
    };
    const one = await view();
    expect(one.deployment).toMatchObject(expected);
    expect(Date.parse(one.deployment!.started_at!)).not.toBeNaN();
    expect(one.health.status).toBe('healthy');
    expect(one.releases).toEqual([]);

    const listed = await api<{ droplets: DropletJson[] }>(server.baseUrl, '/executor/droplets');
    const entry = listed.body.droplets.find((droplet) => droplet.name === NAME);
    expect(entry?.deployment).toMatchObject(expected);
    expect(entry?.health.status).toBe('healthy');
  }, 180_000);

  it('with one release there is nothing to roll back to: 409 NO_ROLLBACK_TARGET, the droplet untouched', async () => {
    const refused = await post(`/executor/droplets/${NAME}/rollback`);
    expect(refused.status).toBe(409);
    expect(errorCode(refused.body)).toBe('NO_ROLLBACK_TARGET');
    const unknown = await post(`/executor/droplets/${NAME}/rollback?to=build-999-nowhere-20260101-000000`);
    expect(unknown.status).toBe(409);
    expect(errorCode(unknown.body)).toBe('NO_ROLLBACK_TARGET');
    expect((await view()).deployment?.release).toBe(builds[0]!.build_id);
    expect(await answers()).toBe(true);
  });

  it('after a second build the first is a previous release, kept on the host, on the same address', async () => {
    const second = await build();
    expect(second.deployment_url).toBe(url);
    const now = await view();
    expect(now.deployment).toMatchObject({ release: second.build_id, status: 'active' });
    expect(now.releases).toEqual([expect.objectContaining({ release: builds[0]!.build_id, status: 'replaced', on_host: true })]);
    expect(liveReleases(now)).toEqual([second.build_id]);
  }, 180_000);

  it('rolls back to the previous release, then forward with ?to=, health-gated on the same address', async () => {
    const [first, second] = [builds[0]!.build_id, builds[1]!.build_id];
    const back = await post(`/executor/droplets/${NAME}/rollback`);
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    expect(back.body).toMatchObject({ action: 'rollback', release: first, url });
    expect((await supervisorView(dropletDir())).active).toBe(first);
    expect(await view()).toMatchObject({ deployment: { release: first, status: 'active' }, health: { status: 'healthy' } });

    const forward = await post(`/executor/droplets/${NAME}/rollback?to=${second}`);
    expect(forward.status, JSON.stringify(forward.body)).toBe(200);
    expect(forward.body).toMatchObject({ action: 'rollback', release: second });
    expect((await supervisorView(dropletDir())).active).toBe(second);
    expect(liveReleases(await view())).toEqual([second]);
  }, 120_000);

  it('stops (health stopped, the address refuses), starts and restarts', async () => {
    const stopped = await post(`/executor/droplets/${NAME}/stop`);
    expect(stopped.status, JSON.stringify(stopped.body)).toBe(200);
    expect(stopped.body).toMatchObject({ action: 'stop', release: builds[1]!.build_id });
    expect((await view()).health.status).toBe('stopped');
    expect((await view()).deployment?.status).toBe('stopped');
    expect(await answers()).toBe(false);

    const started = await post(`/executor/droplets/${NAME}/start`);
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect(started.body).toMatchObject({ action: 'start', release: builds[1]!.build_id });
    expect(await answers()).toBe(true);
    expect(await view()).toMatchObject({ deployment: { status: 'active' }, health: { status: 'healthy' } });

    const before = (await view()).deployment!.started_at;
    const restarted = await post(`/executor/droplets/${NAME}/restart`);
    expect(restarted.status, JSON.stringify(restarted.body)).toBe(200);
    expect(restarted.body).toMatchObject({ action: 'restart', release: builds[1]!.build_id });
    expect(restarted.body.started_at).not.toBe(before);
    expect(await answers()).toBe(true);
  }, 120_000);

  it("shows the last lines of the live release's log", async () => {
    const logs = await api<{ name: string; lines: string[] }>(server.baseUrl, `/executor/droplets/${NAME}/logs?lines=20`);
    expect(logs.status).toBe(200);
    expect(logs.body.name).toBe(NAME);
    expect(logs.body.lines.length).toBeGreaterThan(0);
    expect(logs.body.lines.length).toBeLessThanOrEqual(20);
    const tooMany = await api(server.baseUrl, `/executor/droplets/${NAME}/logs?lines=5000`);
    expect(tooMany.status).toBe(400);
  });

  it('journals every action as a droplet event', async () => {
    const types = await eventTypes();
    for (const type of ['droplet.rolled_back', 'droplet.stopped', 'droplet.started', 'droplet.restarted']) expect(types).toContain(type);
    expect(types.filter((type) => type === 'droplet.rolled_back')).toHaveLength(2);
    const events = (await view()).events!;
    expect(events.find((event) => event.type === 'droplet.stopped')?.data).toMatchObject({ release: builds[1]!.build_id, host: 'local', url });
  });

  it('answers exactly as the OpenAPI document describes: list, view with releases and events, logs, an action, a 404', async () => {
    const document = await api<object>(server.baseUrl, '/docs/json');
    const check = await answerChecker(document.body);
    const get = (path: string, init?: RequestInit) => fetch(`${server.baseUrl}${path}`, init);
    const listed = (await check('GET /executor/droplets', await get('/executor/droplets'))) as { droplets: DropletJson[] };
    expect(listed.droplets.find((droplet) => droplet.name === NAME)?.releases.length).toBeGreaterThan(0);
    const one = (await check('GET /executor/droplets/{name}', await get(`/executor/droplets/${NAME}`))) as DropletJson;
    expect(one.events?.length).toBeGreaterThan(0);
    await check('GET /executor/droplets/{name}/logs', await get(`/executor/droplets/${NAME}/logs?lines=5`));
    await check('POST /executor/droplets/{name}/restart', await get(`/executor/droplets/${NAME}/restart`, { method: 'POST' }));
    await check('GET /executor/droplets/{name}', await get('/executor/droplets/no-such-droplet'));
  }, 60_000);

  it('refuses every action with 409 DROPLET_BUSY while a build of the droplet is queued or running', async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: INTENT, droplet_name: NAME, approval_mode: 'auto' });
    const answersWhileBusy = await Promise.all([
      post(`/executor/droplets/${NAME}/rollback`),
      post(`/executor/droplets/${NAME}/stop`),
      post(`/executor/droplets/${NAME}/start`),
      post(`/executor/droplets/${NAME}/restart`),
      api(server.baseUrl, `/executor/droplets/${NAME}`, { method: 'DELETE' }),
    ]);
    // Still unfinished after the answers: they were given while it ran.
    expect(['queued', 'in_progress']).toContain((await api<BuildView>(server.baseUrl, `/executor/builds/${buildId}/status`)).body.status);
    for (const answer of answersWhileBusy) {
      expect(answer.status).toBe(409);
      expect(errorCode(answer.body)).toBe('DROPLET_BUSY');
      expect((answer.body as { error: { details: { build_id: string } } }).error.details.build_id).toBe(buildId);
    }
    builds.push(await waitForStatus(server.baseUrl, buildId, ['completed']));
    expect(await answers()).toBe(true);
  }, 180_000);

  it('answers 404 for an unknown droplet and 400 for a malformed name', async () => {
    for (const path of ['/executor/droplets/no-such-droplet', '/executor/droplets/no-such-droplet/logs']) {
      expect((await api(server.baseUrl, path)).status).toBe(404);
    }
    for (const action of ['rollback', 'stop', 'start', 'restart']) {
      const unknown = await post(`/executor/droplets/no-such-droplet/${action}`);
      expect(unknown.status).toBe(404);
      const bad = await post(`/executor/droplets/Not_A_Name/${action}`);
      expect(bad.status).toBe(400);
    }
    expect((await api(server.baseUrl, '/executor/droplets/no-such-droplet', { method: 'DELETE' })).status).toBe(404);
    expect((await api(server.baseUrl, '/executor/droplets/Not_A_Name')).status).toBe(400);
    expect((await post(`/executor/droplets/${NAME}/rollback?to=not-a-build`)).status).toBe(400);
  });

  it('undeploys: stopped, its releases gone, out of the registry list; its repository and builds stay', async () => {
    const removed = await api<Record<string, unknown>>(server.baseUrl, `/executor/droplets/${NAME}`, { method: 'DELETE' });
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    expect(removed.body).toMatchObject({ action: 'undeploy', name: NAME, undeployed: true });
    expect(await answers()).toBe(false);
    expect(existsSync(dropletDir())).toBe(false);
    const listed = await api<{ droplets: DropletJson[] }>(server.baseUrl, '/executor/droplets');
    expect(listed.body.droplets.map((droplet) => droplet.name)).not.toContain(NAME);

    for (const done of builds) {
      const status = await api<BuildView>(server.baseUrl, `/executor/builds/${done.build_id}/status`);
      expect(status.status).toBe(200);
      expect(status.body.status).toBe('completed');
      expect(existsSync(status.body.repository_path!)).toBe(true);
    }
    const after = await view();
    expect(after.deployment).toBeNull();
    expect(liveReleases(after)).toEqual([]);
    expect(after.events?.[0]?.type).toBe('droplet.undeployed');
    expect(await eventTypes()).toEqual(expect.arrayContaining(['droplet.rolled_back', 'droplet.stopped', 'droplet.started', 'droplet.restarted', 'droplet.undeployed']));
  }, 60_000);
});
