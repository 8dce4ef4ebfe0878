/**
 * Core tier: the pipeline's smaller accuracies (issue 12). A build started after an
 * approval names the step it runs; a cancel shows on the step it cut short and a retry
 * runs that step again; a queued build's estimate counts the builds ahead of it and its
 * own remaining run from now, not from when it was submitted.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BuildScheduler } from '../../src/pipeline/scheduler.js';
import { BuildTables } from '../../src/store/build-tables.js';
import { MIGRATIONS_DIR, migrate, openDatabase } from '../../src/store/db.js';
import { hosts } from '../support/core-host.js';

const made = hosts();
afterEach(() => made.closeAll());

const CANCELLED_STEP = { code: 'CANCELLED', message: 'The build was cancelled.', details: {} };
/** The core host's estimate for a build when no build has completed yet. */
const ESTIMATE_S = 60;

describe('build.started after an approval', () => {
  it.each(['final', 'checkpoints'] as const)("'%s': from_step is the step that runs next", async (approvalMode) => {
    const host = made.make();
    const { build_id: id } = await host.submit({ approvalMode });
    for (;;) {
      const waiting = await host.settle(id, 'waiting_approval');
      const gateStep = waiting.pending_approval!.step_number;
      const seen = host.events(id).length;
      await host.service.approve(id, { approved: true });
      const after = await host.settle(id, gateStep === 6 ? 'completed' : 'waiting_approval');
      const later = host.events(id).slice(seen);
      const started = later.find((event) => event.type === 'build.started')!;
      const firstStep = later.find((event) => event.type === 'step.started')!;
      expect(started.data).toEqual({ from_step: gateStep });
      expect(firstStep.data).toMatchObject({ step_number: gateStep });
      if (after.status === 'completed') break;
    }
  });
});

describe('a cancelled step', () => {
  it('shows cancelled with the cancel as its error and a duration; a retry runs it again', async () => {
    const host = made.make();
    const hold = host.probe.hold('verifier');
    const { build_id: id } = await host.submit();
    await hold.reached;
    const view = await host.service.cancel(id);
    const verifier = view.steps[4]!;
    expect(verifier).toMatchObject({ status: 'cancelled', error: CANCELLED_STEP, started_at: expect.any(String), completed_at: expect.any(String) });
    expect(verifier.duration_seconds).toBe(Math.round((Date.parse(verifier.completed_at!) - Date.parse(verifier.started_at!)) / 10) / 100);
    expect(view.steps.map((step) => step.status)).toEqual(['completed', 'completed', 'completed', 'completed', 'cancelled', 'pending', 'pending', 'pending']);
    // Not finished: it is where the retry starts, and the progress does not count it.
    expect(view.progress_percent).toBe(50);
    expect(host.events(id).at(-1)).toMatchObject({ type: 'build.cancelled', data: { reason: 'cancelled by request', step: 'verifier', step_number: 5 } });

    await host.service.retry(id);
    const done = await host.settle(id, 'completed');
    expect(host.events(id).find((event) => event.type === 'build.retried')!.data).toEqual({ from_step: 5 });
    expect(done.steps.map((step) => step.status)).toEqual(Array(8).fill('completed'));
    expect(done.steps[4]!.error).toBeNull();
    expect(host.starts(id, 5)).toBe(2);
  });

  it('a retry from an earlier step clears the cancelled one with the rest', async () => {
    const host = made.make();
    const { build_id: id } = await host.submit({ approvalMode: 'final' });
    await host.settle(id, 'waiting_approval');
    expect((await host.service.cancel(id)).steps[5]!.status).toBe('cancelled');
    const retried = await host.service.retry(id, 4);
    expect(retried.steps.slice(3).map((step) => step.status)).toEqual(Array(5).fill('pending'));
    expect(retried.steps[5]).toMatchObject({ started_at: null, completed_at: null, error: null });
  });
});

describe('the step table before this release', () => {
  it('gains the cancelled status by migration, keeping every row', () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrate-'));
    try {
      const older = join(dir, 'migrations');
      mkdirSync(older);
      for (const name of readdirSync(MIGRATIONS_DIR).filter((file) => file < '0008')) copyFileSync(join(MIGRATIONS_DIR, name), join(older, name));
      const db = openDatabase(join(dir, 'executor.db'), older);
      const tables = new BuildTables(db, () => undefined);
      const build = tables.insert(
        { dropletId: 1, dropletName: 'old-one', intent: 'Build Old One for records', approvalMode: 'auto', autoDeploy: false, notifyChannels: null, createdAt: '2026-01-01T00:00:00.000Z', estimatedSeconds: 60 },
        () => 'build-old',
        { type: 'build.queued', data: { droplet_id: 1, droplet_name: 'old-one', approval_mode: 'auto' } },
      );
      tables.change(build.id, () => {
        tables.move(build.id, 'claim');
        tables.moveStep(build.id, 1, 'start');
        return [];
      });
      // The old check refuses the new status.
      expect(() => tables.change(build.id, () => (tables.moveStep(build.id, 1, 'cancel'), []))).toThrow(/CHECK constraint/);
      const before = tables.steps(build.id, { withOutput: true });

      expect(migrate(db)).toEqual(['0008_step_cancelled.sql']);
      expect(tables.steps(build.id, { withOutput: true })).toEqual(before);
      tables.change(build.id, () => (tables.moveStep(build.id, 1, 'cancel'), []));
      expect(tables.steps(build.id)[0]!.status).toBe('cancelled');
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Milliseconds of an ISO time past `from`, bounded by the clock read before and after the call. */
function expectAround(iso: string, before: number, after: number, offsetS: number) {
  expect(Date.parse(iso)).toBeGreaterThanOrEqual(before + offsetS * 1000);
  expect(Date.parse(iso)).toBeLessThanOrEqual(after + offsetS * 1000);
}

describe('estimated_completion', () => {
  it('of a queued build counts the builds ahead of it, from now; once it runs, from when it started', async () => {
    const host = made.make({ concurrency: 1 });
    const hold = host.probe.hold('spec_generation');
    // The first stops at its gate and frees the worker, so the deploy hold below catches the second.
    const first = await host.submit({ dropletName: 'first-one', approvalMode: 'final' });
    await hold.reached;
    const before = Date.now();
    const second = await host.submit({ dropletName: 'second-one' });
    const third = await host.submit({ dropletName: 'third-one' });
    const secondLater = await host.service.get(second.build_id);
    const after = Date.now();
    // One build runs (one worker): the second waits one round, the third two, then each runs its own.
    expectAround(second.estimated_completion, before, after, 2 * ESTIMATE_S);
    expectAround(third.estimated_completion, before, after, 3 * ESTIMATE_S);
    expectAround(secondLater.estimated_completion, before, after, 2 * ESTIMATE_S);
    // Not from created_at (the host's clock is in January 2026): the time queued is counted.
    expect(Date.parse(second.estimated_completion)).toBeGreaterThan(Date.parse(second.created_at) + ESTIMATE_S * 1000);

    const secondHold = host.probe.hold('deployer');
    hold.release();
    await host.settle(first.build_id, 'waiting_approval');
    await secondHold.reached;
    const running = await host.service.get(second.build_id);
    expect(running.status).toBe('in_progress');
    const done = running.steps.filter((step) => step.status === 'completed').reduce((sum, step) => sum + (Date.parse(step.completed_at!) - Date.parse(step.started_at!)), 0);
    // Counted from when its current step started: what the queue and its earlier steps took is behind it.
    expect(Date.parse(running.estimated_completion)).toBe(Date.parse(running.steps[5]!.started_at!) + ESTIMATE_S * 1000 - done);
    secondHold.release();
    await host.settle(second.build_id, 'completed');
    await host.settle(third.build_id, 'completed');
    await host.service.approve(first.build_id, { approved: true });
    await host.settle(first.build_id, 'completed');
    const finished = await host.service.get(second.build_id);
    expect(finished.estimated_completion).toBe(finished.completed_at);
  });

  it('of a build waiting at a gate is its remaining run from now', async () => {
    const host = made.make();
    const { build_id: id } = await host.submit({ approvalMode: 'final' });
    await host.settle(id, 'waiting_approval');
    const before = Date.now();
    const view = await host.service.get(id);
    const again = await host.service.get(id);
    const after = Date.now();
    const done = view.steps.filter((step) => step.status === 'completed').reduce((sum, step) => sum + (Date.parse(step.completed_at!) - Date.parse(step.started_at!)), 0);
    for (const read of [view, again]) {
      expect(Date.parse(read.estimated_completion)).toBeGreaterThanOrEqual(before + ESTIMATE_S * 1000 - done);
      expect(Date.parse(read.estimated_completion)).toBeLessThanOrEqual(after + ESTIMATE_S * 1000 - done);
    }
  });
});

describe('BuildScheduler.waitRounds', () => {
  it('counts the builds running and queued ahead, per worker', async () => {
    const releases: (() => void)[] = [];
    const scheduler = new BuildScheduler(2, () => new Promise<void>((resolve) => releases.push(resolve)), () => undefined);
    for (const id of ['a', 'b', 'c', 'd', 'e']) scheduler.enqueue(id);
    // a and b run; c, d, e wait in that order.
    expect(['a', 'b', 'c', 'd', 'e', 'not-yet-enqueued'].map((id) => scheduler.waitRounds(id))).toEqual([0, 0, 1, 1, 2, 2]);
    releases.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    // a finished, c took its worker: d waits one round, e one.
    expect(['c', 'd', 'e'].map((id) => scheduler.waitRounds(id))).toEqual([0, 1, 1]);
    for (const release of releases) release();
    await scheduler.close();
  });
});
