/**
 * Core tier: retry. A build failed at step N and retried from step K ≤ N keeps steps
 * before K as they were (not run again) and runs K onwards again; anything else is a
 * ConflictError.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { STEP_NAMES, type StepName } from '../../src/domain/build.js';
import { ConflictError, StepError } from '../../src/domain/errors.js';
import type { BuildView } from '../../src/domain/status.js';
import { type CoreHost, hosts } from '../support/core-host.js';

const made = hosts();
afterEach(() => made.closeAll());

/** How each step is made to fail, and what the build's error then says. */
const FAULTS: Record<StepName, { error: () => unknown; code: string; retryable: boolean }> = {
  intent: { error: () => new StepError('STEP_CRASHED', 'The intent could not be recorded.'), code: 'STEP_CRASHED', retryable: true },
  spec_generation: { error: () => new StepError('MODEL_UNAVAILABLE', 'The model API is down.'), code: 'MODEL_UNAVAILABLE', retryable: true },
  coordinator_package: { error: () => new StepError('UNSAFE_REPOSITORY', 'The repository is a symlink.'), code: 'UNSAFE_REPOSITORY', retryable: false },
  apprentice_build: { error: () => new StepError('MODEL_OUTPUT_TRUNCATED', 'The answer was cut off.'), code: 'MODEL_OUTPUT_TRUNCATED', retryable: true },
  verifier: { error: () => new StepError('VERIFICATION_FAILED', 'npm test failed.'), code: 'VERIFICATION_FAILED', retryable: true },
  deployer: { error: () => new StepError('DEPLOY_UNHEALTHY', 'The droplet never became healthy.'), code: 'DEPLOY_UNHEALTHY', retryable: true },
  registry_update: { error: () => new Error('registry offline'), code: 'STEP_CRASHED', retryable: true },
  complete: { error: () => new StepError('COMMIT_FAILED', 'git could not write.'), code: 'COMMIT_FAILED', retryable: true },
};

const STEPS = STEP_NAMES.map((name, index) => [index + 1, name] as const);
/** Every (failed step N, retried from K ≤ N). */
const PAIRS = STEPS.flatMap(([failed, name]) => Array.from({ length: failed }, (_, index) => [failed, name, index + 1] as const));

async function failAt(host: CoreHost, step: StepName): Promise<{ id: string; view: BuildView }> {
  host.probe.failAt(step, FAULTS[step].error());
  const { build_id: id } = await host.submit();
  return { id, view: await host.settle(id, 'failed') };
}

describe('a build failed at step N', () => {
  it.each(STEPS)('step %i (%s): the build, the step and the error say so', async (stepNumber, step) => {
    const host = made.make();
    const { id, view } = await failAt(host, step);
    expect(view.error).toMatchObject({ code: FAULTS[step].code, retryable: FAULTS[step].retryable, details: { step, step_number: stepNumber } });
    expect(view.steps.map((s) => s.status)).toEqual(STEP_NAMES.map((_, index) => (index + 1 < stepNumber ? 'completed' : index + 1 === stepNumber ? 'failed' : 'pending')));
    expect(view.steps[stepNumber - 1]!.error!.code).toBe(FAULTS[step].code);
    expect(view.current_step_number).toBe(stepNumber);
    expect(host.trail(id).slice(-3)).toEqual([`step.started:${stepNumber}`, `step.failed:${stepNumber}`, 'build.failed']);
  });

  it.each(PAIRS)('failed at %i (%s), retried from %i: earlier steps kept, the rest run again', async (failed, step, from) => {
    const host = made.make();
    const { id, view: before } = await failAt(host, step);
    const entered = { ...host.probe.entered };

    const queued = await host.service.retry(id, from);
    expect(queued).toMatchObject({ status: 'queued', current_step_number: from, error: null });
    expect(queued.steps.slice(from - 1).map((s) => s.status)).toEqual(Array(9 - from).fill('pending'));
    const done = await host.settle(id, 'completed');

    expect(done.steps.map((s) => s.status)).toEqual(Array(8).fill('completed'));
    expect(host.events(id).find((event) => event.type === 'build.retried')!.data).toEqual({ from_step: from });
    for (const [n, name] of STEPS) {
      const runs = n < from ? 1 : n <= failed ? 2 : 1;
      expect({ step: n, starts: host.starts(id, n) }).toEqual({ step: n, starts: runs });
      // Stub calls after the retry: none for a kept step, one for each that ran again (or for the first time).
      expect({ step: name, calls: host.probe.entered[name] - entered[name] }).toEqual({ step: name, calls: n < from ? 0 : 1 });
      if (n < from) {
        // Kept as it was, times and details included.
        const { started_at, completed_at, details } = before.steps[n - 1]!;
        expect(done.steps[n - 1]).toMatchObject({ started_at, completed_at, details });
      }
    }
    expect(host.trail(id).filter((entry) => entry === 'build.started')).toHaveLength(2);
  });

  it.each(STEPS.slice(0, 7))('failed at %i (%s): retrying from a later step is a ConflictError', async (stepNumber, step) => {
    const host = made.make();
    const { id, view } = await failAt(host, step);
    const error = await host.service.retry(id, stepNumber + 1).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).details).toEqual({ first_unfinished_step: stepNumber });
    expect(await host.service.get(id)).toEqual(view);
    expect(host.types(id)).not.toContain('build.retried');
  });

  it('retries from the failed step when no step is given', async () => {
    const host = made.make();
    const { id } = await failAt(host, 'apprentice_build');
    const queued = await host.service.retry(id);
    expect(queued.current_step).toBe('apprentice_build');
    await host.settle(id, 'completed');
    expect(host.events(id).find((event) => event.type === 'build.retried')!.data).toEqual({ from_step: 4 });
    expect(host.probe.entered).toMatchObject({ intent: 1, spec_generation: 1, coordinator_package: 1, apprentice_build: 2, verifier: 1 });
  });

  it('a real failed verification (scripted reports) retried from step 5 verifies again and completes', async () => {
    const host = made.make({ maxBuildIterations: 1 });
    host.verifier.script.push({ passed: false, stage: 'install', summary: 'npm install failed.', childProcessMs: 0 });
    const { build_id: id } = await host.submit();
    const failed = await host.settle(id, 'failed');
    expect(failed.error).toMatchObject({ code: 'VERIFICATION_FAILED', retryable: true });
    await host.service.retry(id, 5, 2.5);
    const done = await host.settle(id, 'completed');
    expect(done.usage.max_cost_usd).toBe(2.5);
    expect(host.probe.entered.verifier).toBe(2);
    expect(host.author.codeRequests).toHaveLength(1);
  });

  it('INTENT_TOO_SHORT is not retryable: a retry runs the intent again and fails the same way', async () => {
    const host = made.make();
    const { build_id: id } = await host.submit({ architectIntent: 'short', dropletName: 'short-one' });
    expect((await host.settle(id, 'failed')).error).toMatchObject({ code: 'INTENT_TOO_SHORT', retryable: false });
    await host.service.retry(id);
    const again = await host.settle(id, 'failed');
    expect(again.error).toMatchObject({ code: 'INTENT_TOO_SHORT', retryable: false });
    expect(host.trail(id).filter((entry) => entry === 'step.failed:1')).toHaveLength(2);
    expect(host.author.specRequests).toHaveLength(0);
  });
});

describe('retry of a build that has not failed', () => {
  it('is a ConflictError while it runs, waits, or when it completed', async () => {
    const host = made.make({ concurrency: 1 });
    const hold = host.probe.hold('verifier');
    const running = await host.submit({ dropletName: 'running-one' });
    await hold.reached;
    const queued = await host.submit({ dropletName: 'queued-one', approvalMode: 'final' });
    for (const [id, status] of [[running.build_id, 'in_progress'], [queued.build_id, 'queued']] as const) {
      const error = await host.service.retry(id).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).details).toEqual({ status });
    }
    hold.release();
    await host.settle(running.build_id, 'completed');
    await host.settle(queued.build_id, 'waiting_approval');
    await expect(host.service.retry(running.build_id, 1)).rejects.toMatchObject({ details: { status: 'completed' } });
    await expect(host.service.retry(queued.build_id)).rejects.toMatchObject({ details: { status: 'waiting_approval' } });
    expect(host.types(running.build_id)).not.toContain('build.retried');
    expect(host.runsStarted.get(running.build_id)).toBe(1);
  });

  it('a cancelled build can be retried from its first unfinished step', async () => {
    const host = made.make();
    const hold = host.probe.hold('deployer');
    const { build_id: id } = await host.submit();
    await hold.reached;
    await host.service.cancel(id);
    await expect(host.service.retry(id, 7)).rejects.toMatchObject({ details: { first_unfinished_step: 6 } });
    await host.service.retry(id);
    await host.settle(id, 'completed');
    expect(host.probe.entered).toMatchObject({ verifier: 1, deployer: 2, registry_update: 1 });
  });
});
