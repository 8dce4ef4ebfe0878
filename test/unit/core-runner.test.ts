/**
 * Core tier: the real runner and steps over in-memory SQLite with stub providers.
 * Whole builds, what the journal says of them, step failures and their codes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { STEP_NAMES } from '../../src/domain/build.js';
import { ConflictError, StepError } from '../../src/domain/errors.js';
import { failingReport, hosts, INTENT, TEST_SECRET } from '../support/core-host.js';

const made = hosts();
afterEach(() => made.closeAll());

const PAIRS = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, index) => [`step.started:${from + index}`, `step.completed:${from + index}`]).flat();

describe('a full auto build', () => {
  it('runs all eight steps to completed and journals them in order (deploy skipped without auto_deploy)', async () => {
    const host = made.make();
    const queued = await host.submit({ autoDeploy: false });
    expect(queued).toMatchObject({ status: 'queued', droplet_id: 1, droplet_name: 'analytics-engine', current_step: 'intent', progress_percent: 0 });
    expect(queued.build_id).toBe('build-1-analytics-engine-20260101-000000');

    const view = await host.settle(queued.build_id, 'completed');
    expect(view.status).toBe('completed');
    expect(view.error).toBeNull();
    expect(view.progress_percent).toBe(100);
    expect(view.steps.map((step) => [step.step, step.status])).toEqual(
      STEP_NAMES.map((name) => [name, name === 'deployer' ? 'skipped' : 'completed']),
    );
    expect(view.steps[5]!.details).toEqual({ reason: 'auto_deploy is false' });
    expect(view.repository_path).toBe('/virtual/repos/1-analytics-engine');
    expect(view.repository_url).toBe('file:///virtual/repos/1-analytics-engine');
    expect(view.deployment_url).toBeNull();
    expect(view.files_created).toEqual(['docs/INTENT.md', 'docs/SPEC.md', 'docs/openapi.json', 'docs/acceptance.json', 'docs/foundation/UDC.md', 'package.json', 'src/server.js']);

    expect(host.trail(queued.build_id)).toEqual([
      'build.queued',
      'build.started',
      ...PAIRS(1, 5),
      'step.started:6',
      'step.skipped:6',
      ...PAIRS(7, 8),
      'build.completed',
    ]);
    const events = host.events(queued.build_id);
    expect(events.map((event) => event.seq)).toEqual([...events.map((event) => event.seq)].sort((a, b) => a - b));
    expect(events[1]!.data).toEqual({ from_step: 1 });
    expect(events.at(-1)!.data).toEqual({ deployment_url: null, repository_path: '/virtual/repos/1-analytics-engine', intent_coverage: null });
    // Every progress line sits between its own step's start and end.
    let current = 0;
    for (const event of events) {
      if (event.type === 'step.started') current = event.data.step_number;
      if (event.type === 'step.progress') expect(event.data.step_number).toBe(current);
    }
    expect(events.filter((event) => event.type === 'step.progress').length).toBeGreaterThan(5);
    expect(await host.service.events(queued.build_id, 0)).toEqual(events);
    expect(host.runnerErrors).toEqual([]);
    expect(host.runsStarted.get(queued.build_id)).toBe(1);
  });

  it('hands each step what the earlier ones saved and records every provider call once', async () => {
    const host = made.make();
    const { build_id: id } = await host.submit();
    const view = await host.settle(id, 'completed');
    expect(host.probe.entered).toEqual({
      intent: 1, spec_generation: 1, coordinator_package: 1, apprentice_build: 1, verifier: 1, deployer: 1, registry_update: 1, complete: 1,
    });
    const repo = host.workspace.repoFor({ dropletId: 1, name: 'analytics-engine' });
    const spec = `${host.author.spec({ dropletId: 1, name: 'analytics-engine' }).trim()}\n`;
    expect(host.author.codeRequests[0]!.spec).toBe(spec);
    expect(repo.files.get('docs/SPEC.md')).toBe(spec);
    expect(view.steps[1]!.details).toMatchObject({ author: 'stub', spec, sections: ['Endpoints', 'Data'] });
    // The SPEC's proof: committed beside it, handed to the verifier, and parsed for the reviewer.
    const proof = host.author.proof(host.author.specRequests[0]!);
    expect(repo.files.get('docs/openapi.json')).toBe(proof.openapi);
    expect(repo.files.get('docs/acceptance.json')).toBe(proof.acceptance);
    expect(host.verifier.proofs[0]).toEqual(proof);
    expect(view.steps[1]!.details).toMatchObject({
      scenarios: [{ name: 'the droplet says it is healthy' }],
      operations: expect.arrayContaining([{ method: 'GET', path: '/health', operation_id: 'getHealth', summary: null, udc: true }]) as unknown,
    });
    // The deploy ships the verified commit; the registry gets what verification observed.
    const verified = host.record(id);
    const deploy = host.deployTarget!.requests[0]!;
    expect(deploy).toMatchObject({ releaseId: id, sourceDir: repo.path, droplet: { dropletId: 1, name: 'analytics-engine' } });
    expect(host.registry.registrations[0]).toMatchObject({ dropletId: 1, url: 'http://127.0.0.1:4001', version: '1.2.3', capabilities: ['udc'], buildId: id, commit: deploy.commit });
    expect(view.deployment_url).toBe('http://127.0.0.1:4001');
    expect(verified.deploymentUrl).toBe('http://127.0.0.1:4001');
    // The deploy's release tag, and the registered version's tag on the verified commit.
    expect(repo.tags).toEqual([`release-${id}`, 'v1.2.3']);
    expect(repo.taggedCommits.get('v1.2.3')).toBe(deploy.commit);
    expect(view.steps[6]!.details).toMatchObject({
      registry: 'stub-registry',
      version: '1.2.3',
      tag: 'v1.2.3',
      changed: true,
      fleet_entry_id: expect.any(Number) as unknown,
      provenance: { build_id: id, commit: deploy.commit, author: { id: 'stub' }, cost_usd: expect.any(Number) as unknown, deployed: { url: 'http://127.0.0.1:4001' }, tag: 'v1.2.3', approvals: [] },
    });
    expect(host.notifier.sent.map((sent) => sent.deliveryId)).toEqual([`${id}:completed`]);
    expect(view.steps[7]!.details).toEqual({
      summary: `Droplet #1 analytics-engine is live at http://127.0.0.1:4001 (verified in 1 attempt(s)).`,
      deliveries: [
        {
          channel: 'log', delivery_id: `${id}:completed`, status: 'delivered', detail: 'logged', next_attempt_at: null,
          attempts: [{ attempt: 1, outcome: 'delivered', detail: 'logged', at: expect.any(String) }],
        },
      ],
    });
    expect(host.types(id, { notifications: true }).slice(-3)).toEqual(['notification.attempted', 'step.completed', 'build.completed']);
    expect(host.events(id).at(-1)).toMatchObject({ type: 'build.completed', data: { deployment_url: 'http://127.0.0.1:4001' } });
    expect([...repo.files.keys()].sort()).toEqual([
      'docs/DEPLOYMENT.md', 'docs/INTENT.md', 'docs/NOTIFICATIONS.md', 'docs/REGISTRATION.md', 'docs/SPEC.md', 'docs/VERIFICATION.md',
      'docs/acceptance.json', 'docs/foundation/UDC.md', 'docs/openapi.json', 'package.json', 'src/server.js',
    ]);
  });

  it('skips the deploy when there is no deploy target', async () => {
    const host = made.make({ deploy: false });
    const { build_id: id } = await host.submit({ autoDeploy: true });
    const view = await host.settle(id, 'completed');
    expect(view.steps[5]).toMatchObject({ status: 'skipped', details: { reason: 'DEPLOY_TARGET is none' } });
    expect(host.registry.registrations[0]!.url).toBeNull();
  });
});

describe('a failing step', () => {
  it('fails the build with INTENT_TOO_SHORT, not retryable, before any provider is asked', async () => {
    const host = made.make();
    const { build_id: id } = await host.submit({ architectIntent: 'tiny app', dropletName: 'tiny-app' });
    const view = await host.settle(id, 'failed');
    expect(view.error).toEqual({
      code: 'INTENT_TOO_SHORT',
      message: 'The intent must say what to build in at least 10 characters.',
      details: { step: 'intent', step_number: 1 },
      retryable: false,
    });
    expect(view.steps[0]).toMatchObject({ status: 'failed', error: { code: 'INTENT_TOO_SHORT' } });
    expect(view.steps.slice(1).map((step) => step.status)).toEqual(Array(7).fill('pending'));
    expect(host.trail(id)).toEqual(['build.queued', 'build.started', 'step.started:1', 'step.failed:1', 'build.failed']);
    expect(host.events(id).at(-1)!.data).toEqual({
      step: 'intent', step_number: 1, error: { code: 'INTENT_TOO_SHORT', message: 'The intent must say what to build in at least 10 characters.' },
    });
    expect(host.author.specRequests).toHaveLength(0);
  });

  it('repairs and verifies again, then fails with VERIFICATION_FAILED (retryable) at the last attempt', async () => {
    const host = made.make({ maxBuildIterations: 3 });
    host.verifier.script.push(failingReport(['a']), failingReport(['b']), failingReport(['c']));
    const { build_id: id } = await host.submit();
    const view = await host.settle(id, 'failed');
    expect(view.error).toMatchObject({ code: 'VERIFICATION_FAILED', retryable: true, details: { step: 'verifier', step_number: 5 } });
    expect(view.error!.message).toBe('Verification failed after 3 attempt(s): 1 test(s) failed.');
    expect(host.probe.entered.verifier).toBe(3);
    expect(host.author.repairRequests.map((request) => [request.attempt, request.failure.tests!.failingTests])).toEqual([[1, ['a']], [2, ['b']]]);
    expect(view.steps[4]!.error!.details).toMatchObject({ attempts: [{ attempt: 1, passed: false }, { attempt: 2, passed: false }, { attempt: 3, passed: false }] });
    expect(host.trail(id).slice(-3)).toEqual(['step.started:5', 'step.failed:5', 'build.failed']);
  });

  it('passes verification on a later attempt and says so in the step details', async () => {
    const host = made.make();
    host.verifier.script.push(failingReport(['a']));
    const { build_id: id } = await host.submit();
    const view = await host.settle(id, 'completed');
    expect(view.steps[4]!.details).toMatchObject({ attempts: [{ attempt: 1, passed: false }, { attempt: 2, passed: true }] });
    expect(host.notifier.sent[0]!.summary).toContain('verified in 2 attempt(s)');
  });

  it('stops early with REPAIR_NOT_CONVERGING when two attempts fail the same way', async () => {
    const host = made.make({ maxBuildIterations: 5 });
    host.verifier.script.push(failingReport(['same']), failingReport(['same']));
    const { build_id: id } = await host.submit();
    const view = await host.settle(id, 'failed');
    expect(view.error).toMatchObject({ code: 'REPAIR_NOT_CONVERGING', retryable: true });
    expect(host.probe.entered.verifier).toBe(2);
  });

  it('fails with EMPTY_SPEC when the author returns nothing', async () => {
    const host = made.make();
    host.author.spec = () => '   \n';
    const { build_id: id } = await host.submit();
    const view = await host.settle(id, 'failed');
    expect(view.error).toMatchObject({ code: 'EMPTY_SPEC', retryable: true, details: { step: 'spec_generation', step_number: 2 } });
  });

  it('turns a non-StepError throw into STEP_CRASHED and redacts secrets from the error', async () => {
    const host = made.make();
    host.probe.failAt('registry_update', new Error(`registry said no to token ${TEST_SECRET}`));
    const { build_id: id } = await host.submit();
    const view = await host.settle(id, 'failed');
    expect(view.error).toEqual({ code: 'STEP_CRASHED', message: 'registry said no to token [REDACTED]', details: { step: 'registry_update', step_number: 7 }, retryable: true });
    expect(JSON.stringify(host.events(id))).not.toContain(TEST_SECRET);
    expect(host.runnerErrors).toEqual([]);
  });

  it('keeps a StepError thrown by a provider as it is (code, message, details)', async () => {
    const host = made.make();
    host.probe.failAt('deployer', new StepError('DEPLOY_BAD_MANIFEST', 'package.json has no start script.', { file: 'package.json' }));
    const { build_id: id } = await host.submit();
    const view = await host.settle(id, 'failed');
    expect(view.error).toMatchObject({ code: 'DEPLOY_BAD_MANIFEST', retryable: false });
    expect(view.steps[5]!.error).toEqual({ code: 'DEPLOY_BAD_MANIFEST', message: 'package.json has no start script.', details: { file: 'package.json' } });
    expect(view.steps.slice(6).map((step) => step.status)).toEqual(['pending', 'pending']);
  });
});

describe('errors that are not plain step failures', () => {
  it('a ConflictError of a provider (a registry clash) fails the step like any other error', async () => {
    const host = made.make();
    host.probe.failAt('registry_update', new ConflictError('Droplet name "analytics-engine" belongs to #7.', { droplet_id: 7 }));
    const { build_id: id } = await host.submit();
    const view = await host.settle(id, 'failed');
    expect(view.error).toEqual({ code: 'CONFLICT', message: 'Droplet name "analytics-engine" belongs to #7.', details: { step: 'registry_update', step_number: 7 }, retryable: false });
    expect(view.steps[6]).toMatchObject({ status: 'failed', error: { code: 'CONFLICT', details: { droplet_id: 7 } } });
  });

  it('a failure the runner cannot journal ends the build as RUNNER_CRASHED, its step back to pending, and it can be retried', async () => {
    const host = made.make();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    host.probe.failAt('apprentice_build', new StepError('NO_CODE', 'The author returned no files.', circular));
    const { build_id: id } = await host.submit();
    const view = await host.settle(id, 'failed');
    expect(view.error).toMatchObject({ code: 'RUNNER_CRASHED', retryable: true });
    expect(view.steps[3]!.status).toBe('pending');
    expect(host.runnerErrors.map((crash) => crash.buildId)).toEqual([id]);
    expect(host.trail(id).slice(-2)).toEqual(['step.started:4', 'build.failed']);
    await host.service.retry(id);
    expect((await host.settle(id, 'completed')).status).toBe('completed');
    expect(host.probe.entered.apprentice_build).toBe(2);
  });
});

describe('a missing prior output', () => {
  it('fails the step that needs it with MISSING_PRIOR_OUTPUT, naming the step to retry from', async () => {
    const host = made.make();
    host.probe.failAt('apprentice_build', new StepError('MODEL_UNAVAILABLE', 'The model API is down.'));
    const { build_id: id } = await host.submit();
    await host.settle(id, 'failed');
    // The saved SPEC is lost (an older version, a manual repair gone wrong…).
    expect(host.db.prepare('UPDATE build_steps SET output = NULL WHERE build_id = ? AND step_number = 2').run(id).changes).toBe(1);

    await host.service.retry(id, 3);
    const view = await host.settle(id, 'failed');
    expect(view.error).toMatchObject({ code: 'MISSING_PRIOR_OUTPUT', retryable: true, details: { step: 'coordinator_package', step_number: 3 } });
    expect(view.steps[2]!.error).toEqual({
      code: 'MISSING_PRIOR_OUTPUT',
      message: 'Step coordinator_package needs what spec_generation saved, and it is not there; retry from step 2.',
      details: { missing: ['spec_generation'], retry_from_step: 2 },
    });
    expect(host.probe.entered.coordinator_package).toBe(1);

    // Retrying from where it says makes the SPEC again and finishes.
    await host.service.retry(id, 2);
    const done = await host.settle(id, 'completed');
    expect(done.steps.map((step) => step.status)).toEqual(Array(8).fill('completed'));
    expect(host.probe.entered.spec_generation).toBe(2);
    expect(host.probe.entered.intent).toBe(1);
  });

  it('skips the deploy with auto_deploy false before asking for its prerequisites', async () => {
    const host = made.make();
    host.probe.failAt('deployer', new StepError('DEPLOY_UNHEALTHY', 'never healthy'));
    const { build_id: id } = await host.submit({ autoDeploy: false });
    const done = await host.settle(id, 'completed');
    expect(host.probe.entered.deployer ?? 0).toBe(0);
    expect(done.steps[5]).toMatchObject({ status: 'skipped', details: { reason: 'auto_deploy is false' } });

    // The verified commit is lost: the skipped deploy still needs nothing, the registry step does.
    const again = made.make();
    again.probe.failAt('registry_update', new StepError('UNAVAILABLE', 'registry down'));
    const { build_id: second } = await again.submit({ autoDeploy: false });
    await again.settle(second, 'failed');
    again.db.prepare('UPDATE build_steps SET output = NULL WHERE build_id = ? AND step_number = 5').run(second);
    await again.service.retry(second, 6);
    const view = await again.settle(second, 'failed');
    expect(view.steps[5]).toMatchObject({ status: 'skipped', details: { reason: 'auto_deploy is false' } });
    expect(view.error).toMatchObject({ code: 'MISSING_PRIOR_OUTPUT', details: { step: 'registry_update', step_number: 7 } });
  });

  it('fails the intent-needing steps too when the intent output is gone (retry from 1)', async () => {
    const host = made.make();
    host.probe.failAt('spec_generation', new StepError('MODEL_UNAVAILABLE', 'down'));
    const { build_id: id } = await host.submit({ architectIntent: `${INTENT} and more` });
    await host.settle(id, 'failed');
    host.db.prepare('UPDATE build_steps SET output = NULL WHERE build_id = ? AND step_number = 1').run(id);
    await host.service.retry(id);
    const view = await host.settle(id, 'failed');
    expect(view.steps[1]!.error).toMatchObject({ code: 'MISSING_PRIOR_OUTPUT', details: { missing: ['intent'], retry_from_step: 1 } });
  });
});
