/**
 * Status objects, rendered from the store and kept until the build's version moves:
 * status is polled far more often than it changes.
 */
import { NotFoundError } from '../domain/errors.js';
import type { BuildStore, ModelCallLedger } from '../domain/ports/build-store.js';
import type { BuildQueue } from '../domain/ports/queue.js';
import type { BuildRecord, StepRecord } from '../domain/records.js';
import type { BuildView } from '../domain/status.js';
import { effectiveCap, NO_USAGE } from '../domain/usage.js';
import { estimatedCompletion, estimateMovesWithClock } from './estimate.js';
import { toBuildView } from './views.js';

const VIEW_CACHE_SIZE = 256;

export interface ViewCacheDeps {
  store: BuildStore;
  ledger: ModelCallLedger;
  maxBuildCostUsd: number | null;
  /** Where queued builds stand, for their estimated completion; none: as if first in line. */
  queue?: Pick<BuildQueue, 'waitRounds'>;
  now?: () => Date;
}

interface Cached {
  version: number;
  view: BuildView;
  build: BuildRecord;
  steps: readonly StepRecord[];
}

export function createViewCache(deps: ViewCacheDeps) {
  const { store, ledger } = deps;
  const cache = new Map<string, Cached>();
  const timingOf = (buildId: string) => ({ now: deps.now?.() ?? new Date(), waitRounds: deps.queue?.waitRounds(buildId) ?? 0 });
  // A queued or waiting build's estimate counts from now: a cached view gets it afresh.
  const current = ({ view, build, steps }: Cached): BuildView =>
    estimateMovesWithClock(build) ? { ...view, estimated_completion: estimatedCompletion(build, steps, timingOf(build.id)) } : view;

  /** @throws NotFoundError */
  const get = async (buildId: string): Promise<BuildView> => {
    const version = await store.versionOf(buildId);
    const cached = cache.get(buildId);
    if (version !== null && cached?.version === version) return current(cached);
    const snapshot = await store.snapshot(buildId);
    if (!snapshot) throw new NotFoundError(`No build ${buildId}.`, { build_id: buildId });
    const { build, steps } = snapshot;
    // Read after the snapshot: a model call recorded meanwhile has bumped the version, so the next read renders again.
    const usage = { ...((await ledger.usageOf(buildId)) ?? NO_USAGE), max_cost_usd: effectiveCap(deps.maxBuildCostUsd, build.maxCostUsd) };
    const fresh = toBuildView(build, steps, usage, timingOf(buildId));
    // A slower render of an older state never replaces a newer one.
    const latest = cache.get(buildId);
    if (!latest || latest.version < snapshot.version) {
      cache.delete(buildId);
      cache.set(buildId, { version: snapshot.version, view: fresh, build, steps });
      if (cache.size > VIEW_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    }
    return fresh;
  };

  return { get };
}
