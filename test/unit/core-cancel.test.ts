/**
 * Core tier: cancel at every point of a build. The held step shows `cancelled` (steps
 * never reached stay pending), nothing starts after `build.cancelled`, and cancel()
 * answers only once the runner has returned.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { STEP_NAMES, type StepName } from '../../src/domain/build.js';
import { ConflictError, StepError } from '../../src/domain/errors.js';
import type { BuildView } from '../../src/domain/status.js';
import { type CoreHost, hosts, turns } from '../support/core-host.js';

const made = hosts();
afterEach(() => made.closeAll());

/** Steps whose stub point receives the abort signal: their hold rejects when the build is cancelled. */
const SIGNAL_AWARE = new Set<StepName>(['spec_generation', 'apprentice_build', 'verifier', 'deployer', 'complete']);

const CANCELLED = { code: 'CANCELLED', message: 'The build was cancelled.', details: {}, retryable: true };
/** The cancelled step carries the build's error (without the build-level `retryable`). */
const CANCELLED_STEP = { code: 'CANCELLED', message: 'The build was cancelled.', details: {} };

/** Nothing step-related is journaled as starting after the build was cancelled. */
function expectNothingStartedAfterCancel(host: CoreHost, id: string) {
  const trail = host.trail(id);
  const cancelAt = trail.indexOf('build.cancelled');
  expect(cancelAt).toBeGreaterThan(0);
  expect(trail.slice(cancelAt + 1).filter((entry) => entry.startsWith('step.started') || entry === 'build.completed' || entry === 'build.failed')).toEqual([]);
}

/** Cancels, and notes whether the runner was still running when cancel() answered. */
function cancelWatching(host: CoreHost, id: string) {
  const state = { answered: false, runnerRunningAtAnswer: true };
  const answer = host.service.cancel(id).then((view) => {
    state.answered = true;
    state.runnerRunningAtAnswer = host.isRunning(id);
    return view;
  });
  return { state, answer };
}

describe('cancel while a step is in progress', () => {
  it.each(STEP_NAMES.map((name, index) => [index + 1, name] as const))('step %i (%s)', async (stepNumber, step) => {
    const host = made.make();
    const hold = host.probe.hold(step);
    const { build_id: id } = await host.submit({ autoDeploy: true });
    await hold.reached;
    const before = await host.service.get(id);
    expect(before.status).toBe('in_progress');
    expect(before.steps[stepNumber - 1]!.status).toBe('in_progress');
    expect(before.current_step).toBe(step);

    const { state, answer } = cancelWatching(host, id);
    await host.waitForStatus(id, 'cancelled');
    if (!SIGNAL_AWARE.has(step)) {
      // This stub ignores the signal: the runner is still inside the step, and cancel() must wait for it.
      await turns();
      expect(state.answered).toBe(false);
      expect(host.isRunning(id)).toBe(true);
      hold.release();
    }
    const view = await answer;
    expect(state.runnerRunningAtAnswer).toBe(false);
    expect(host.isRunning(id)).toBe(false);

    expect(view.status).toBe('cancelled');
    expect(view.error).toEqual(CANCELLED);
    expect(view.steps[stepNumber - 1]).toMatchObject({ status: 'cancelled', started_at: expect.any(String), completed_at: expect.any(String), error: CANCELLED_STEP });
    expect(view.steps[stepNumber - 1]!.duration_seconds).toBeGreaterThanOrEqual(0);
    expect(view.steps.slice(0, stepNumber - 1).map((s) => s.status)).toEqual(Array(stepNumber - 1).fill('completed'));
    expect(view.steps.slice(stepNumber).map((s) => s.status)).toEqual(Array(8 - stepNumber).fill('pending'));
    expectNothingStartedAfterCancel(host, id);
    expect(host.trail(id).slice(-2)).toEqual([`step.started:${stepNumber}`, 'build.cancelled']);
    expect(host.events(id).at(-1)!.data).toEqual({ reason: 'cancelled by request', step, step_number: stepNumber });
    // No later step was ever reached.
    for (const later of STEP_NAMES.slice(stepNumber)) expect(host.probe.entered[later]).toBe(0);
    await turns();
    expect(await host.service.get(id)).toEqual(view);
    expect(host.runnerErrors).toEqual([]);
  });
});

describe('cancel at the other points', () => {
  it('while queued behind another build: it never starts', async () => {
    const host = made.make({ concurrency: 1 });
    const hold = host.probe.hold('spec_generation');
    const first = await host.submit({ dropletName: 'first-one' });
    await hold.reached;
    const second = await host.submit({ dropletName: 'second-one' });
    expect((await host.service.get(second.build_id)).status).toBe('queued');
    expect(host.scheduler.isActive(second.build_id)).toBe(true);

    const view = await host.service.cancel(second.build_id);
    expect(view).toMatchObject({ status: 'cancelled', error: CANCELLED, started_at: null });
    expect(view.steps.map((step) => step.status)).toEqual(Array(8).fill('pending'));
    expect(host.events(second.build_id).at(-1)!.data).toEqual({ reason: 'cancelled by request' });
    expect(host.scheduler.isActive(second.build_id)).toBe(false);

    hold.release();
    await host.settle(first.build_id, 'completed');
    await turns();
    expect(host.trail(second.build_id)).toEqual(['build.queued', 'build.cancelled']);
    expect(host.runsStarted.get(second.build_id)).toBeUndefined();
  });

  it.each([['final', 'before_deploy', 6], ['checkpoints', 'after_spec', 3]] as const)(
    'while waiting for approval (%s, at %s)',
    async (mode, gate, stepNumber) => {
      const host = made.make();
      const { build_id: id } = await host.submit({ approvalMode: mode });
      const waiting = await host.settle(id, 'waiting_approval');
      expect(waiting.pending_approval).toMatchObject({ gate, step_number: stepNumber });

      const view = await host.service.cancel(id);
      expect(view).toMatchObject({ status: 'cancelled', pending_approval: null, error: CANCELLED });
      // The gate's step, never started, shows the cancel; the steps after it were never reached.
      expect(view.steps[stepNumber - 1]).toMatchObject({ status: 'cancelled', started_at: null, completed_at: expect.any(String), duration_seconds: null, error: CANCELLED_STEP });
      expect(view.steps.map((step) => step.status)).toEqual([...Array(stepNumber - 1).fill('completed'), 'cancelled', ...Array(8 - stepNumber).fill('pending')]);
      expect(host.events(id).at(-1)!.data).toEqual({ reason: 'cancelled by request', step: STEP_NAMES[stepNumber - 1], step_number: stepNumber });
      expect(host.trail(id).slice(-2)).toEqual(['build.waiting_approval', 'build.cancelled']);
      await expect(host.service.approve(id, { approved: true })).rejects.toBeInstanceOf(ConflictError);
      await turns();
      expect(host.trail(id).at(-1)).toBe('build.cancelled');
    },
  );

  it.each(['completed', 'failed', 'cancelled'] as const)('of a %s build is a ConflictError and changes nothing', async (status) => {
    const host = made.make();
    if (status === 'failed') host.probe.failAt('verifier', new StepError('VERIFICATION_FAILED', 'no'));
    const hold = status === 'cancelled' ? host.probe.hold('apprentice_build') : null;
    const { build_id: id } = await host.submit();
    if (hold) {
      await hold.reached;
      await host.service.cancel(id);
    }
    const view = await host.settle(id, status);
    const trail = host.trail(id);
    const error = await host.service.cancel(id).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).details).toEqual({ status });
    expect(await host.service.get(id)).toEqual(view);
    expect(host.trail(id)).toEqual(trail);
  });
});

describe('cancel racing a step as it finishes', () => {
  it.each(STEP_NAMES.map((name, index) => [index + 1, name] as const))(
    'step %i (%s) returned but is not yet journaled: the build ends cancelled, never completed',
    async (stepNumber, step) => {
      const host = made.make();
      const hold = host.probe.holdFinish(step);
      const { build_id: id } = await host.submit();
      await hold.reached;
      const { state, answer } = cancelWatching(host, id);
      await host.waitForStatus(id, 'cancelled');
      await turns();
      expect(state.answered).toBe(false);
      hold.release();
      const view: BuildView = await answer;
      expect(state.runnerRunningAtAnswer).toBe(false);
      expect(view.status).toBe('cancelled');
      // What the step did is not written onto the cancelled build.
      expect(view.steps[stepNumber - 1]).toMatchObject({ status: 'cancelled', error: CANCELLED_STEP });
      expect(host.types(id)).not.toContain('build.completed');
      expect(host.trail(id).slice(-2)).toEqual([`step.started:${stepNumber}`, 'build.cancelled']);
      // The deploy itself did happen before the cancel landed: the build says where it is live.
      if (step === 'deployer') expect(view.deployment_url).toBe('http://127.0.0.1:4001');
    },
  );

  it('a retry while the cancelled runner is still winding down runs once that runner has returned', async () => {
    const host = made.make();
    const hold = host.probe.hold('registry_update');
    const { build_id: id } = await host.submit();
    await hold.reached;
    const cancelling = host.service.cancel(id);
    await host.waitForStatus(id, 'cancelled');
    const retried = await host.service.retry(id);
    expect(retried.status).toBe('queued');
    expect(host.runsStarted.get(id)).toBe(1);
    hold.release();
    await cancelling;
    const view = await host.settle(id, 'completed');
    expect(view.steps.map((step) => step.status)).toEqual(Array(8).fill('completed'));
    expect(host.runsStarted.get(id)).toBe(2);
    expect(host.trail(id).slice(14)).toEqual(['step.started:7', 'build.cancelled', 'build.retried', 'build.started', 'step.started:7', 'step.completed:7', 'step.started:8', 'step.completed:8', 'build.completed']);
  });

  it('a step failing after the cancel does not fail the build', async () => {
    const host = made.make();
    const hold = host.probe.hold('registry_update');
    host.probe.failAt('registry_update', new StepError('CONFLICT', 'name clash'));
    const { build_id: id } = await host.submit();
    await hold.reached;
    const cancelling = host.service.cancel(id);
    await host.waitForStatus(id, 'cancelled');
    hold.release();
    const view = await cancelling;
    expect(view.error).toEqual(CANCELLED);
    expect(view.steps[6]).toMatchObject({ status: 'cancelled', error: CANCELLED_STEP });
    expect(host.types(id)).not.toContain('step.failed');
  });
});
