/**
 * Status objects, rendered from the store and kept until the build's version moves:
 * status is polled far more often than it changes.
 */
import { NotFoundError } from '../domain/errors.js';
import type { BuildStore, ModelCallLedger } from '../domain/ports/build-store.js';
import type { BuildRecord } from '../domain/records.js';
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

  const render = async (build: BuildRecord): Promise<BuildView> => {
    const usage = { ...((await ledger.usageOf(build.id)) ?? NO_USAGE), max_cost_usd: effectiveCap(deps.maxBuildCostUsd, build.maxCostUsd) };
    return toBuildView(build, await store.steps(build.id), usage);
  };

  /** @throws NotFoundError */
  const get = async (buildId: string): Promise<BuildView> => {
    const version = await store.versionOf(buildId);
    const cached = cache.get(buildId);
    if (version !== null && cached?.version === version) return cached.view;
    const build = await store.get(buildId);
    if (!build || version === null) throw new NotFoundError(`No build ${buildId}.`, { build_id: buildId });
    const fresh = await render(build);
    // The version read first: a change landing meanwhile bumps it, and the next read renders again.
    cache.delete(buildId);
    cache.set(buildId, { version, view: fresh });
    if (cache.size > VIEW_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    return fresh;
  };

  return { get, render };
}
