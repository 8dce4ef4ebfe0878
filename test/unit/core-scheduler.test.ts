/**
 * Core tier: the BuildScheduler alone, with a scripted RunBuild (each run waits until
 * the test ends it), then under the real runner.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BuildScheduler } from '../../src/pipeline/scheduler.js';
import { hosts, turns } from '../support/core-host.js';

interface Run {
  buildId: string;
  signal: AbortSignal;
  finish(): void;
  fail(error: Error): void;
  returned: boolean;
}

/** A RunBuild whose runs the test ends one by one (or that end when aborted). */
function scriptedRuns() {
  const runs: Run[] = [];
  let active = 0;
  let maxActive = 0;
  const runBuild = (buildId: string, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      const run: Run = {
        buildId,
        signal,
        returned: false,
        finish: () => resolve(),
        fail: (error) => reject(error),
      };
      signal.addEventListener('abort', () => resolve(), { once: true });
      runs.push(run);
    }).finally(() => {
      active -= 1;
      runs.find((run) => run.buildId === buildId && !run.returned)!.returned = true;
    });
  return {
    runs,
    runBuild,
    started: () => runs.map((run) => run.buildId),
    get active() {
      return active;
    },
    get maxActive() {
      return maxActive;
    },
    /** The unfinished run of a build. */
    of: (buildId: string) => runs.find((run) => run.buildId === buildId && !run.returned)!,
  };
}

const errors: { buildId: string; error: unknown }[] = [];
const onError = (buildId: string, error: unknown) => void errors.push({ buildId, error });
afterEach(() => void errors.splice(0));

describe('the scheduler', () => {
  it('never runs more than its concurrency, and takes builds first in, first out', async () => {
    const script = scriptedRuns();
    const scheduler = new BuildScheduler(2, script.runBuild, onError);
    for (const id of ['a', 'b', 'c', 'd', 'e']) scheduler.enqueue(id);
    expect(script.started()).toEqual(['a', 'b']);
    expect(scheduler.runningCount).toBe(2);

    script.of('b').finish();
    await turns();
    expect(script.started()).toEqual(['a', 'b', 'c']);
    script.of('a').finish();
    script.of('c').finish();
    await turns();
    expect(script.started()).toEqual(['a', 'b', 'c', 'd', 'e']);
    script.of('d').finish();
    script.of('e').finish();
    await turns();
    expect(script.maxActive).toBe(2);
    expect(scheduler.runningCount).toBe(0);
    expect(errors).toEqual([]);
  });

  it('queues a build only once, however often it is enqueued while it waits', async () => {
    const script = scriptedRuns();
    const scheduler = new BuildScheduler(1, script.runBuild, onError);
    scheduler.enqueue('a');
    scheduler.enqueue('b');
    scheduler.enqueue('b');
    scheduler.enqueue('c');
    scheduler.enqueue('b');
    script.of('a').finish();
    await turns();
    script.of('b').finish();
    await turns();
    script.of('c').finish();
    await turns();
    expect(script.started()).toEqual(['a', 'b', 'c']);
  });

  it('runs a build enqueued while it runs once more after it returned, and only once', async () => {
    const script = scriptedRuns();
    const scheduler = new BuildScheduler(1, script.runBuild, onError);
    scheduler.enqueue('a');
    scheduler.enqueue('b');
    scheduler.enqueue('a');
    scheduler.enqueue('a');
    expect(scheduler.isActive('a')).toBe(true);
    const first = script.of('a');
    expect(scheduler.runningCount).toBe(1);
    first.finish();
    for (let i = 0; i < 3; i += 1) {
      await turns();
      const next = script.runs.find((run) => !run.returned);
      if (next?.buildId === 'a') expect(first.returned).toBe(true);
      next?.finish();
    }
    await turns();
    expect([...script.started()].sort()).toEqual(['a', 'a', 'b']);
    expect(scheduler.isActive('a')).toBe(false);
    expect(scheduler.runningCount).toBe(0);
  });

  it('abort drops a queued build: it never runs', async () => {
    const script = scriptedRuns();
    const scheduler = new BuildScheduler(1, script.runBuild, onError);
    scheduler.enqueue('a');
    scheduler.enqueue('b');
    scheduler.enqueue('c');
    await scheduler.abort('b');
    expect(scheduler.isActive('b')).toBe(false);
    script.of('a').finish();
    await turns();
    script.of('c').finish();
    await turns();
    expect(script.started()).toEqual(['a', 'c']);
  });

  it('abort of a running build fires its signal, resolves once it returned, and cancels a pending re-run', async () => {
    const script = scriptedRuns();
    const scheduler = new BuildScheduler(1, script.runBuild, onError);
    scheduler.enqueue('a');
    scheduler.enqueue('b');
    scheduler.enqueue('a');
    const run = script.of('a');
    await scheduler.abort('a');
    expect(run.signal.aborted).toBe(true);
    expect(run.returned).toBe(true);
    await turns();
    expect(script.started()).toEqual(['a', 'b']);
    expect(scheduler.isActive('a')).toBe(false);
  });

  it('a run that throws goes to onError and frees its slot', async () => {
    const script = scriptedRuns();
    const scheduler = new BuildScheduler(1, script.runBuild, onError);
    scheduler.enqueue('a');
    scheduler.enqueue('b');
    const boom = new Error('runner crashed');
    script.of('a').fail(boom);
    await turns();
    expect(errors).toEqual([{ buildId: 'a', error: boom }]);
    expect(script.started()).toEqual(['a', 'b']);
  });

  it('close() ends after its grace period even when an aborted build never settles, naming it', async () => {
    // A run that ignores its abort signal: a stop must still end.
    const scheduler = new BuildScheduler(2, () => new Promise<void>(() => {}), onError);
    scheduler.enqueue('stuck');
    await turns();
    expect(await scheduler.close(50)).toEqual(['stuck']);
  });

  it('close() aborts what runs, waits for it, and drops and refuses the rest', async () => {
    const script = scriptedRuns();
    const scheduler = new BuildScheduler(2, script.runBuild, onError);
    for (const id of ['a', 'b', 'c']) scheduler.enqueue(id);
    const [a, b] = [script.of('a'), script.of('b')];
    await scheduler.close();
    expect([a.signal.aborted, b.signal.aborted]).toEqual([true, true]);
    expect([a.returned, b.returned]).toEqual([true, true]);
    scheduler.enqueue('d');
    await turns();
    expect(script.started()).toEqual(['a', 'b']);
    expect(scheduler.runningCount).toBe(0);
    expect(scheduler.isActive('c')).toBe(false);
  });

  it('with concurrency 0 nothing runs', async () => {
    const script = scriptedRuns();
    const scheduler = new BuildScheduler(0, script.runBuild, onError);
    scheduler.enqueue('a');
    await turns();
    expect(script.started()).toEqual([]);
    expect(scheduler.isActive('a')).toBe(true);
  });
});

describe('the scheduler under the real runner', () => {
  const made = hosts();
  afterEach(() => made.closeAll());

  it('runs at most MAX_CONCURRENT_BUILDS builds at once and starts them in submission order', async () => {
    const host = made.make({ concurrency: 2 });
    const names = ['one-a', 'two-b', 'three-c', 'four-d', 'five-e'];
    let most = 0;
    const ids: string[] = [];
    const started: string[] = [];
    host.taps.push((event) => {
      if (event.type === 'build.started') started.push(event.build_id);
      most = Math.max(most, [...host.runsStarted.keys()].filter((id) => host.isRunning(id)).length, host.scheduler.runningCount);
    });
    for (const dropletName of names) ids.push((await host.submit({ dropletName, approvalMode: 'final' })).build_id);
    for (const id of ids) await host.settle(id, 'waiting_approval');
    expect(started).toEqual(ids);
    expect(most).toBe(2);
    // Approved in reverse: each runs on, still two at a time.
    for (const id of [...ids].reverse()) await host.service.approve(id, { approved: true });
    for (const id of ids) await host.settle(id, 'completed');
    expect(started.slice(5)).toEqual([...ids].reverse());
    expect(most).toBe(2);
  });

  it('close() stops a running build where it is; it stays in progress for the next start to resume', async () => {
    const host = made.make();
    const hold = host.probe.hold('verifier');
    const { build_id: id } = await host.submit();
    await hold.reached;
    await host.scheduler.close();
    expect(host.isRunning(id)).toBe(false);
    const view = await host.service.get(id);
    expect(view.status).toBe('in_progress');
    expect(view.steps[4]!.status).toBe('in_progress');
    expect(host.types(id)).not.toContain('step.failed');
    expect(await host.recover()).toEqual([id]);
    expect((await host.service.get(id)).steps[4]!.status).toBe('pending');
  });
});
