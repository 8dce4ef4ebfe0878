/**
 * Core tier: the build service over the real runner and scheduler. Approval gates,
 * and the races between submits, approvals and retries.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, StepError } from '../../src/domain/errors.js';
import { hosts, turns } from '../support/core-host.js';

const made = hosts();
afterEach(() => made.closeAll());

const STEPS_1_TO = (last: number, status: string) => Array.from({ length: 8 }, (_, index) => (index < last ? status : 'pending'));

describe('approval gates', () => {
  it("'final' stops before the deploy, and approving runs the rest", async () => {
    const host = made.make();
    const { build_id: id } = await host.submit({ approvalMode: 'final' });
    const waiting = await host.settle(id, 'waiting_approval');
    expect(waiting.pending_approval).toEqual({
      gate: 'before_deploy',
      step_number: 6,
      requested_at: expect.any(String),
      summary: 'Review the verified droplet before it is deployed (/virtual/repos/1-analytics-engine).',
    });
    expect(waiting.steps.map((step) => step.status)).toEqual(STEPS_1_TO(5, 'completed'));
    expect(host.isRunning(id)).toBe(false);
    expect(host.probe.entered.deployer).toBe(0);
    expect(host.events(id).at(-1)).toMatchObject({ type: 'build.waiting_approval', data: { gate: 'before_deploy', step_number: 6, summary: waiting.pending_approval!.summary } });

    const approved = await host.service.approve(id, { approved: true, feedback: 'ship it' });
    expect(approved.pending_approval).toBeNull();
    const done = await host.settle(id, 'completed');
    expect(done.steps.map((step) => step.status)).toEqual(Array(8).fill('completed'));
    expect(host.trail(id).slice(12)).toEqual([
      'build.waiting_approval', 'build.approved', 'build.started',
      'step.started:6', 'step.completed:6', 'step.started:7', 'step.completed:7', 'step.started:8', 'step.completed:8', 'build.completed',
    ]);
    expect(host.events(id).find((event) => event.type === 'build.approved')!.data).toEqual({ gate: 'before_deploy', step_number: 6, feedback: 'ship it' });
    // Steps 1 to 5 ran once, before the gate.
    for (let step = 1; step <= 8; step += 1) expect(host.starts(id, step)).toBe(1);
    expect(host.runsStarted.get(id)).toBe(2);
  });

  it("'checkpoints' stops after the SPEC and again before the deploy", async () => {
    const host = made.make();
    const { build_id: id } = await host.submit({ approvalMode: 'checkpoints' });
    const atSpec = await host.settle(id, 'waiting_approval');
    expect(atSpec.pending_approval).toMatchObject({ gate: 'after_spec', step_number: 3, summary: 'Review the SPEC, its acceptance scenarios and its API operations (steps[1].details.spec, .scenarios, .operations) before the repository and code are written.' });
    expect(atSpec.steps.map((step) => step.status)).toEqual(STEPS_1_TO(2, 'completed'));
    expect(atSpec.steps[1]!.details.spec).toContain('# analytics-engine SPEC');
    // The proof, parsed, next to the SPEC: what the reviewer approves the droplet will be held to.
    expect(atSpec.steps[1]!.details.scenarios).toEqual((JSON.parse(host.author.proof(host.author.specRequests[0]!).acceptance) as { scenarios: unknown }).scenarios);
    expect((atSpec.steps[1]!.details.operations as { method: string; path: string }[]).map((operation) => `${operation.method} ${operation.path}`)).toEqual([
      'GET /health', 'GET /capabilities', 'GET /state', 'GET /dependencies', 'POST /message',
    ]);
    expect(host.probe.entered.coordinator_package).toBe(0);

    await host.service.approve(id, { approved: true });
    const atDeploy = await host.settle(id, 'waiting_approval');
    expect(atDeploy.pending_approval).toMatchObject({ gate: 'before_deploy', step_number: 6 });
    expect(atDeploy.steps.map((step) => step.status)).toEqual(STEPS_1_TO(5, 'completed'));

    await host.service.approve(id, { approved: true });
    await host.settle(id, 'completed');
    expect(host.types(id).filter((type) => type.startsWith('build.'))).toEqual([
      'build.queued', 'build.started', 'build.waiting_approval', 'build.approved', 'build.started',
      'build.waiting_approval', 'build.approved', 'build.started', 'build.completed',
    ]);
    expect(host.probe.entered).toMatchObject({ intent: 1, spec_generation: 1, coordinator_package: 1, apprentice_build: 1 });
  });

  it('rejecting cancels the build with REJECTED; a retry asks again at the same gate', async () => {
    const host = made.make();
    const { build_id: id } = await host.submit({ approvalMode: 'final' });
    await host.settle(id, 'waiting_approval');
    const rejected = await host.service.approve(id, { approved: false, feedback: 'not yet' });
    expect(rejected.status).toBe('cancelled');
    expect(rejected.error).toEqual({ code: 'REJECTED', message: 'Rejected at the before_deploy gate.', details: { feedback: 'not yet' }, retryable: true });
    expect(host.events(id).slice(-2).map((event) => [event.type, event.data])).toEqual([
      ['build.rejected', { gate: 'before_deploy', step_number: 6, feedback: 'not yet' }],
      ['build.cancelled', { reason: 'rejected', gate: 'before_deploy', step: 'deployer', step_number: 6 }],
    ]);
    // The gate's step shows what happened to it; the steps after it were never reached.
    expect(rejected.steps[5]).toMatchObject({ status: 'cancelled', started_at: null, completed_at: expect.any(String), duration_seconds: null, error: { code: 'REJECTED', message: 'Rejected at the before_deploy gate.', details: { feedback: 'not yet' } } });
    expect(rejected.steps.map((step) => step.status)).toEqual([...STEPS_1_TO(5, 'completed').slice(0, 5), 'cancelled', 'pending', 'pending']);
    await turns();
    expect(host.scheduler.isActive(id)).toBe(false);
    expect(host.probe.entered.deployer).toBe(0);

    await host.service.retry(id);
    const again = await host.settle(id, 'waiting_approval');
    expect(again.pending_approval).toMatchObject({ gate: 'before_deploy', step_number: 6 });
    expect(host.events(id).find((event) => event.type === 'build.retried')!.data).toEqual({ from_step: 6 });
    await host.service.approve(id, { approved: true });
    await host.settle(id, 'completed');
    expect(host.probe.entered.verifier).toBe(1);
  });

  it('two approvals at once: exactly one is taken, the other is a ConflictError', async () => {
    const host = made.make();
    const { build_id: id } = await host.submit({ approvalMode: 'final' });
    await host.settle(id, 'waiting_approval');
    const results = await Promise.allSettled([
      host.service.approve(id, { approved: true, feedback: 'first' }),
      host.service.approve(id, { approved: true, feedback: 'second' }),
    ]);
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(ConflictError);
    await host.settle(id, 'completed');
    expect(host.types(id).filter((type) => type === 'build.approved')).toHaveLength(1);
    expect(host.starts(id, 6)).toBe(1);
    expect(host.db.prepare('SELECT count(*) AS n FROM approvals WHERE build_id = ?').get(id)).toEqual({ n: 1 });
  });

  it('an approval landing as the runner leaves the gate still runs the build once', async () => {
    const host = made.make();
    const { build_id: id } = await host.submit({ approvalMode: 'final' });
    const approving: Promise<unknown>[] = [];
    host.bus.subscribe(id, (event) => {
      if (event.type === 'build.waiting_approval') approving.push(host.service.approve(id, { approved: true }));
    });
    await host.waitForStatus(id, 'completed');
    await Promise.all(approving);
    await host.idle(id);
    expect(host.starts(id, 6)).toBe(1);
    expect(host.types(id).at(-1)).toBe('build.completed');
  });

  it('approving a build that is not waiting is a ConflictError (queued, running, completed) or NotFoundError', async () => {
    const host = made.make({ concurrency: 1 });
    const hold = host.probe.hold('apprentice_build');
    const running = await host.submit({ dropletName: 'running-one' });
    await hold.reached;
    const queued = await host.submit({ dropletName: 'queued-one' });
    for (const id of [running.build_id, queued.build_id]) {
      const error = await host.service.approve(id, { approved: true }).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).details).toEqual({ status: id === running.build_id ? 'in_progress' : 'queued' });
    }
    hold.release();
    await host.settle(queued.build_id, 'completed');
    await expect(host.service.approve(queued.build_id, { approved: false })).rejects.toBeInstanceOf(ConflictError);
    await expect(host.service.approve('build-404', { approved: true })).rejects.toBeInstanceOf(NotFoundError);
    expect(host.types(running.build_id)).not.toContain('build.approved');
  });
});

describe('races between requests', () => {
  it('two submits of the same droplet name at once: one is queued, the other is DROPLET_BUSY', async () => {
    const host = made.make();
    const hold = host.probe.hold('spec_generation');
    const results = await Promise.allSettled([host.submit({ dropletName: 'twin' }), host.submit({ dropletName: 'twin' })]);
    const [won, lost] = results;
    expect(won).toMatchObject({ status: 'fulfilled', value: { droplet_id: 1, droplet_name: 'twin' } });
    expect(lost.status).toBe('rejected');
    const error = (lost as PromiseRejectedResult).reason as ConflictError;
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.code).toBe('DROPLET_BUSY');
    expect(error.details).toEqual({ build_id: (won as PromiseFulfilledResult<{ build_id: string }>).value.build_id });
    expect((await host.catalog.list({ limit: 10, offset: 0 })).total).toBe(1);
    hold.release();
  });

  it('submits of different names without droplet_id at once get distinct droplet ids', async () => {
    const host = made.make({ concurrency: 4 });
    const names = ['alpha-one', 'beta-two', 'gamma-three', 'delta-four'];
    const views = await Promise.all(names.map((dropletName) => host.submit({ dropletName })));
    expect(views.map((view) => [view.droplet_name, view.droplet_id])).toEqual(names.map((name, index) => [name, index + 1]));
    expect(new Set(views.map((view) => view.build_id)).size).toBe(4);
    for (const view of views) expect((await host.settle(view.build_id, 'completed')).status).toBe('completed');
    expect(host.workspace.repos.size).toBe(4);
  });

  it('a second build of a droplet reuses its id once the first has finished', async () => {
    const host = made.make();
    const first = await host.submit({ dropletName: 'repeat-me' });
    await host.settle(first.build_id, 'completed');
    const second = await host.submit({ dropletName: 'repeat-me' });
    expect(second.droplet_id).toBe(first.droplet_id);
    expect(second.build_id).not.toBe(first.build_id);
  });

  it('two retries at once: one wins and runs once, the other is a ConflictError', async () => {
    const host = made.make();
    host.probe.failAt('deployer', new StepError('DEPLOY_UNHEALTHY', 'never healthy'));
    const { build_id: id } = await host.submit();
    await host.settle(id, 'failed');
    const results = await Promise.allSettled([host.service.retry(id), host.service.retry(id, 4)]);
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((results.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    await host.settle(id, 'completed');
    expect(host.types(id).filter((type) => type === 'build.retried')).toHaveLength(1);
    expect(host.starts(id, 6)).toBe(2);
    expect(host.runsStarted.get(id)).toBe(2);
  });

  it('a retry and a new submit of the same droplet at once: exactly one gets the droplet', async () => {
    const host = made.make();
    host.probe.failAt('verifier', new StepError('VERIFICATION_FAILED', 'no'));
    const { build_id: id } = await host.submit({ dropletName: 'contested' });
    await host.settle(id, 'failed');
    const hold = host.probe.hold('verifier');
    const [retried, submitted] = await Promise.allSettled([host.service.retry(id), host.submit({ dropletName: 'contested' })]);
    expect(retried.status).toBe('fulfilled');
    expect(submitted).toMatchObject({ status: 'rejected', reason: { code: 'DROPLET_BUSY', details: { build_id: id } } });
    hold.release();
    await host.settle(id, 'completed');
    expect((await host.catalog.list({ limit: 10, offset: 0 })).total).toBe(1);
  });

  it('a retry while another build of the droplet is unfinished is DROPLET_BUSY', async () => {
    const host = made.make();
    const first = await host.submit({ dropletName: 'busy-one', approvalMode: 'final' });
    await host.settle(first.build_id, 'waiting_approval');
    await host.service.cancel(first.build_id);
    const second = await host.submit({ dropletName: 'busy-one', approvalMode: 'final' });
    await host.settle(second.build_id, 'waiting_approval');
    await expect(host.service.retry(first.build_id)).rejects.toMatchObject({ code: 'DROPLET_BUSY', details: { build_id: second.build_id } });
    expect((await host.service.get(first.build_id)).status).toBe('cancelled');
  });

  it('refuses an id that belongs to another name, a name that has another id, and unknown channels', async () => {
    const host = made.make();
    const first = await host.submit({ dropletName: 'owner-one' });
    await host.settle(first.build_id, 'completed');
    await expect(host.submit({ dropletName: 'someone-else', dropletId: 1 })).rejects.toMatchObject({ code: 'DROPLET_ID_TAKEN', details: { droplet_id: 1, droplet_name: 'owner-one' } });
    await expect(host.submit({ dropletName: 'owner-one', dropletId: 9 })).rejects.toMatchObject({ code: 'DROPLET_NAME_TAKEN', details: { droplet_id: 1 } });
    await expect(host.submit({ dropletName: 'new-one', notifyChannels: ['pager'] })).rejects.toMatchObject({ code: 'INVALID_INPUT', details: { unknown: ['pager'] } });
    expect((await host.catalog.list({ limit: 10, offset: 0 })).total).toBe(1);
  });

  it('events and get of an unknown build are NotFoundError', async () => {
    const host = made.make();
    await expect(host.service.get('build-nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(host.service.events('build-nope', 0)).rejects.toBeInstanceOf(NotFoundError);
    await expect(host.service.cancel('build-nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(host.service.retry('build-nope')).rejects.toBeInstanceOf(NotFoundError);
  });
});
