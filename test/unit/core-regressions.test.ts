/**
 * Core tier: bugs the core tests found in the runner and the store, one test each, so
 * they stay fixed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AppError, StepError } from '../../src/domain/errors.js';
import { hosts } from '../support/core-host.js';

const made = hosts();
afterEach(() => made.closeAll());

describe('regressions', () => {
  // src/pipeline/runner.ts, fail(): `… || isAbortError(thrown)) return 'stop'` treats an
  // AbortError as a cancel even when the build's signal never fired and the build is still
  // in progress. The runner returns without journaling anything: the build stays in_progress
  // with its step in_progress and no runner, cannot be retried (not failed) and only a restart
  // moves it. fetch() rejects with exactly this DOMException when a provider's own
  // AbortController fires (a timeout of its own, a watchdog).
  it('a step rejecting with an AbortError of its own (no cancel) fails the build instead of stranding it', async () => {
    const host = made.make();
    host.probe.failAt('complete', new DOMException('This operation was aborted', 'AbortError'));
    const { build_id: id } = await host.submit();
    await host.idle(id);
    expect(host.isRunning(id)).toBe(false);
    const view = await host.service.get(id);
    expect({ status: view.status, step: view.steps[7]!.status }).toEqual({ status: 'failed', step: 'failed' });
    expect(host.types(id).at(-1)).toBe('build.failed');
  });

  // src/store/build-store.ts, claim(): `build.started` carries `from_step: build.currentStep`,
  // which is the last step that STARTED. After an approval the run starts at the gated step
  // (3 after after_spec, 6 after before_deploy), but the event says 2 and 5. (After a retry it is
  // right, because resetStepsFrom sets current_step.)
  it("after an approval, build.started's from_step is the gated step the run starts from", async () => {
    const host = made.make();
    const { build_id: id } = await host.submit({ approvalMode: 'checkpoints' });
    await host.settle(id, 'waiting_approval');
    await host.service.approve(id, { approved: true });
    await host.settle(id, 'waiting_approval');
    await host.service.approve(id, { approved: true });
    await host.settle(id, 'completed');
    const starts = host.events(id).filter((event) => event.type === 'build.started').map((event) => event.data);
    expect(starts).toEqual([{ from_step: 1 }, { from_step: 3 }, { from_step: 6 }]);
  });

  // src/pipeline/builds.ts retry() / src/store/build-store.ts retry(): from_step is only
  // checked against the upper bound. BuildService.retry(id, 0) (or any value < 1) commits the
  // retry (status queued, current_step 0), then views.get throws RangeError("No step number 0")
  // from stepNameAt, so the build is never enqueued and every later get/cancel/retry of it throws
  // RangeError (a 500) until a restart. The HTTP schema refuses from_step < 1, so only callers of
  // the service itself (tests, a future route) reach it.
  it('retry from step 0 is refused and leaves the build as it was', async () => {
    const host = made.make();
    host.probe.failAt('verifier', new StepError('VERIFICATION_FAILED', 'npm test failed.'));
    const { build_id: id } = await host.submit();
    const failed = await host.settle(id, 'failed');
    const error = await host.service.retry(id, 0).catch((thrown: unknown) => thrown);
    // An InputError (400) or a ConflictError (409), not a RangeError (500) after the change was committed.
    expect(error).toBeInstanceOf(AppError);
    expect(host.record(id)).toMatchObject({ status: 'failed', currentStep: 5 });
    expect(await host.service.get(id)).toEqual(failed);
  });
});
