/**
 * Status objects, rendered from the store and kept until the build's version moves:
 * status is polled far more often than it changes.
 */
import { NotFoundError } from '../domain/errors.js';
import type { BuildStore, ModelCallLedger } from '../domain/ports/build-store.js';
import type { BuildView } from '../domain/status.js';
import { effectiveCap, NO_USAGE } from '../domain/usage.js';
import { toBuildView } from './views.js';

const VIEW_CACHE_SIZE = 256;

export interface ViewCacheDeps {
  store: BuildStore;
  ledger: ModelCallLedger;
  maxBuildCostUsd: number | null;
}

export function createViewCache(deps: ViewCacheDeps) {
  const { store, ledger } = deps;
  const cache = new Map<string, { version: number; view: BuildView }>();

  /** @throws NotFoundError */
  const get = async (buildId: string): Promise<BuildView> => {
    const version = await store.versionOf(buildId);
    const cached = cache.get(buildId);
    if (version !== null && cached?.version === version) return cached.view;
    const snapshot = await store.snapshot(buildId);
    if (!snapshot) throw new NotFoundError(`No build ${buildId}.`, { build_id: buildId });
    const { build, steps } = snapshot;
    // Read after the snapshot: a model call recorded meanwhile has bumped the version, so the next read renders again.
    const usage = { ...((await ledger.usageOf(buildId)) ?? NO_USAGE), max_cost_usd: effectiveCap(deps.maxBuildCostUsd, build.maxCostUsd) };
    const fresh = toBuildView(build, steps, usage);
    // A slower render of an older state never replaces a newer one.
    const current = cache.get(buildId);
    if (!current || current.version < snapshot.version) {
      cache.delete(buildId);
      cache.set(buildId, { version: snapshot.version, view: fresh });
      if (cache.size > VIEW_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    }
    return fresh;
  };

  return { get };
}
