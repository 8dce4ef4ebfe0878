/**
 * The whole loop through real HTTP against the real app: offline author, real git,
 * real npm install and tests, a real droplet process, the embedded registry.
 */
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildSummary, BuildView } from '../../src/domain/status.js';
import type { BuildEvent } from '../../src/domain/events.js';
import { dropletView, supervisorView } from '../support/droplet-api.js';
import { api, startExecutor, submitBuild, type TestExecutor, waitForStatus } from '../support/executor.js';

const SEED_INTENT = 'Build Analytics Engine for tracking droplet metrics and performance';
let server: TestExecutor;

beforeAll(async () => {
  server = await startExecutor();
});
afterAll(async () => {
  await server?.close();
});

describe('an auto build of the seed intent', () => {
  let build: BuildView;
  let buildId: string;

  beforeAll(async () => {
    const submitted = await api<Record<string, unknown>>(server.baseUrl, '/executor/build-droplet', {
      body: { architect_intent: SEED_INTENT, droplet_id: 13, approval_mode: 'auto' },
    });
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({ status: 'queued', droplet_id: 13, droplet_name: 'analytics-engine' });
    buildId = submitted.body.build_id as string;
    expect(buildId).toMatch(/^build-13-analytics-engine-\d{8}-\d{6}$/);
    expect(submitted.body.stream_url).toBe(`${server.wsUrl}/executor/builds/${buildId}/stream`);
    expect(submitted.body.status_url).toBe(`${server.baseUrl}/executor/builds/${buildId}/status`);
    expect(Date.parse(submitted.body.estimated_completion as string)).toBeGreaterThan(Date.now());
    build = await waitForStatus(server.baseUrl, buildId, ['completed']);
  });

  it('completes all eight steps', () => {
    expect(build.steps.map((step) => [step.step, step.status])).toEqual([
      ['intent', 'completed'],
      ['spec_generation', 'completed'],
      ['coordinator_package', 'completed'],
      ['apprentice_build', 'completed'],
      ['verifier', 'completed'],
      ['deployer', 'completed'],
      ['registry_update', 'completed'],
      ['complete', 'completed'],
    ]);
    expect(build.progress_percent).toBe(100);
    expect(build.completed_at).not.toBeNull();
    expect(build.files_created).toEqual(expect.arrayContaining(['package.json', 'src/server.js', 'docs/SPEC.md']));
    expect(build.steps[4]!.details.report).toMatchObject({ passed: true });
  });

  it("proves the droplet serves its resources with its SPEC's acceptance scenarios and keeps its OpenAPI document", () => {
    const report = build.steps[4]!.details.report as { contract: { name: string; passed: boolean; got: string }[]; acceptance: { name: string; passed: boolean }[] };
    const acceptance = report.contract.filter((check) => check.name.startsWith('acceptance: '));
    // Analytics Engine for tracking droplet metrics and performance: per resource, three scenarios.
    expect(acceptance.map((check) => check.name)).toEqual(
      (build.steps[1]!.details.scenarios as { name: string }[]).map((scenario) => `acceptance: ${scenario.name}`),
    );
    expect(acceptance.length).toBeGreaterThanOrEqual(3);
    expect(acceptance[0]!.name).toMatch(/^acceptance: an? .+ keeps what it was given, changes and goes away$/);
    expect(acceptance.every((check) => check.passed)).toBe(true);
    expect(report.acceptance.every((scenario) => scenario.passed)).toBe(true);
    const openapi = report.contract.filter((check) => check.name.startsWith('openapi: '));
    expect(openapi.map((check) => [check.name, check.passed])).toEqual([
      ['openapi: every operation is exercised', true],
      ['openapi: answers match the documented schemas', true],
    ]);
    // The proof is committed beside the SPEC.
    expect(build.files_created).toEqual(expect.arrayContaining(['docs/openapi.json', 'docs/acceptance.json']));
  });

  it('serves the droplet at its deployment URL', async () => {
    expect(build.deployment_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await api<{ status: string }>(build.deployment_url!, '/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('healthy');
  });

  it('registers the droplet in the embedded registry', async () => {
    const listed = await api<{ droplets: Record<string, unknown>[] }>(server.baseUrl, '/executor/droplets');
    expect(listed.body.droplets).toEqual([
      expect.objectContaining({ droplet_id: 13, name: 'analytics-engine', url: build.deployment_url, build_id: buildId, version: '1.0.0' }),
    ]);
    // The executor is the fleet registry too: other droplets find it under /registry, with its provenance.
    const fleet = await api<{ services: Record<string, unknown>[]; total: number }>(server.baseUrl, '/registry/services?name=analytics-engine');
    expect(fleet.body.total).toBe(1);
    expect(fleet.body.services[0]).toMatchObject({ droplet_id: 13, url: build.deployment_url, version: '1.0.0', build_id: buildId, provenance: { build_id: buildId, tag: 'v1.0.0' } });
    expect(build.steps[6]!.details).toMatchObject({ registry: 'embedded', version: '1.0.0', tag: 'v1.0.0', fleet_entry_id: fleet.body.services[0]!.id });
  });

  it('leaves a repository with a commit for every step, and a release tag', async () => {
    const git = simpleGit(build.repository_path!);
    const log = await git.log();
    const steps = new Set(log.all.map((commit) => /Executor-Step: (\w+)/.exec(commit.body)?.[1]));
    expect([...steps].sort()).toEqual(build.steps.map((step) => step.step).sort());
    const perFile = log.all.filter((commit) => commit.body.includes('Executor-Step: apprentice_build'));
    expect(perFile.length).toBe((build.steps[3]!.details.files as string[]).length);
    expect(log.all.every((commit) => commit.body.includes(`Executor-Build: ${buildId}`))).toBe(true);
    expect((await git.tags()).all).toContain(`release-${buildId}`);
    // The lockfile npm resolved is committed by the verifier: the next build and the deploy install nothing.
    expect(log.all.map((commit) => commit.message)).toContain('chore: lock the dependencies npm resolved');
    expect(await git.raw(['ls-files', 'package-lock.json'])).toBe('package-lock.json\n');
  });

  it('journals the whole story in order', async () => {
    const events = (await api<BuildEvent[]>(server.baseUrl, `/executor/builds/${buildId}/events?after=0`)).body;
    const types = events.map((event) => event.type);
    expect(types[0]).toBe('build.queued');
    expect(types.at(-1)).toBe('build.completed');
    expect(types.filter((type) => type === 'step.completed')).toHaveLength(8);
    expect(events.map((event) => event.seq)).toEqual([...events.map((event) => event.seq)].sort((a, b) => a - b));
    const later = (await api<BuildEvent[]>(server.baseUrl, `/executor/builds/${buildId}/events?after=${events[2]!.seq}`)).body;
    expect(later).toEqual(events.slice(3));
  });

  it('lists builds newest first with a total', async () => {
    const listed = await api<BuildSummary[]>(server.baseUrl, '/executor/builds?limit=1');
    expect(listed.headers.get('x-total-count')).not.toBeNull();
    expect(listed.body).toHaveLength(1);
    // Summaries by default; `view=full` gives each build's whole status view.
    expect(listed.body[0]).not.toHaveProperty('steps');
    const full = await api<BuildView[]>(server.baseUrl, '/executor/builds?limit=1&view=full');
    expect(full.body[0]!.build_id).toBe(listed.body[0]!.build_id);
    expect(full.body[0]!.steps).toHaveLength(8);
    const completed = await api<BuildSummary[]>(server.baseUrl, '/executor/builds?status=completed');
    expect(completed.body.map((view) => view.build_id)).toContain(buildId);
  });

  it('rebuilding the same droplet keeps its address and supervisor, and replaces the old release once the new one is healthy', async () => {
    const supervisorPid = build.steps[5]!.details.pid as number;
    const secondId = await submitBuild(server.baseUrl, { architect_intent: SEED_INTENT, droplet_name: 'analytics-engine', approval_mode: 'auto' });
    const second = await waitForStatus(server.baseUrl, secondId, ['completed']);
    expect(second.droplet_id).toBe(13);
    expect(second.deployment_url).toBe(build.deployment_url);
    expect(second.steps[5]!.details.pid).toBe(supervisorPid);
    expect((await api<{ status: string }>(second.deployment_url!, '/health')).body.status).toBe('healthy');
    // The first release's process is stopped: the supervisor runs one backend, the new release.
    expect(await supervisorView(join(server.dataDir, 'deployments', 'analytics-engine'))).toEqual({ active: secondId, candidate: null, backends: 1 });
    const view = await dropletView(server.baseUrl, 'analytics-engine');
    expect(view.releases).toEqual([expect.objectContaining({ release: buildId, status: 'replaced' })]);
    const listed = await api<{ droplets: { build_id: string }[] }>(server.baseUrl, '/executor/droplets');
    expect(listed.body.droplets).toEqual([expect.objectContaining({ build_id: secondId })]);
  });
});
