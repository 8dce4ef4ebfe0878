/** The BuildService: submit, inspect, approve, cancel and retry builds. */
import type { Logger } from 'pino';
import { STEP_COUNT } from '../domain/build.js';
import { buildIdFor, deriveDropletName } from '../domain/naming.js';
import type { BuildView } from '../domain/status.js';
import { ConflictError, InputError, NotFoundError, UnavailableError } from '../domain/errors.js';
import type { BuildCatalog } from '../store/build-catalog.js';
import type { BuildRecord, BuildStore } from '../store/builds.js';
import { type ModelCallStore } from '../store/model-calls.js';
import { NO_USAGE } from '../domain/usage.js';
import { effectiveCap } from '../domain/usage.js';
import type { EventBus } from './events.js';
import type { BuildScheduler } from './scheduler.js';
import type { ApprovalDecision, BuildService, ListBuildsQuery, SubmitBuildInput } from './service.js';
import { toBuildView } from './views.js';

/** What the registry knows of droplets, for choosing and checking ids and names. */
export interface DropletDirectory {
  idForName(name: string): number | null;
  nameForId(dropletId: number): string | null;
  maxId(): number;
}

export interface BuildServiceDeps {
  store: BuildStore;
  catalog: BuildCatalog;
  bus: EventBus;
  scheduler: BuildScheduler;
  droplets: DropletDirectory;
  /** Channels that exist (`log`, `webhook` when configured…); requests may only name these. */
  notifyChannels: readonly string[];
  log: Logger;
  /** Seconds a build is expected to take before any has completed. */
  defaultEstimateSeconds?: number;
  modelCalls: ModelCallStore;
  /** MAX_BUILD_COST_USD: a request may lower the cap for its build, never raise it. */
  maxBuildCostUsd: number | null;
  /** Why builds cannot run right now (SANDBOX=required without bubblewrap), or null. */
  refusal?: () => string | null;
}

const VIEW_CACHE_SIZE = 256;

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function createBuildService(deps: BuildServiceDeps): BuildService {
  const { store, catalog, scheduler, droplets } = deps;

  const usageOf = (build: BuildRecord) => ({
    ...(deps.modelCalls.usageOf(build.id) ?? NO_USAGE),
    max_cost_usd: effectiveCap(deps.maxBuildCostUsd, build.maxCostUsd),
  });
  const toView = (build: BuildRecord) => toBuildView(build, store.steps(build.id), usageOf(build));
  const checkCap = (maxCostUsd: number | undefined) => {
    if (maxCostUsd !== undefined && deps.maxBuildCostUsd !== null && maxCostUsd > deps.maxBuildCostUsd) {
      throw new InputError(`max_cost_usd ${maxCostUsd} is above this executor's cap of ${deps.maxBuildCostUsd} (MAX_BUILD_COST_USD).`, {
        max_cost_usd: maxCostUsd,
        executor_cap_usd: deps.maxBuildCostUsd,
      });
    }
  };
  const assertAccepting = () => {
    const reason = deps.refusal?.() ?? null;
    if (reason) throw new UnavailableError(reason);
  };

  // Status is polled far more often than it changes: views are kept until the build's version moves.
  const views = new Map<string, { version: number; view: BuildView }>();
  const view = (id: string): BuildView => {
    const version = store.versionOf(id);
    const cached = views.get(id);
    if (version !== undefined && cached?.version === version) return cached.view;
    const build = store.get(id);
    if (!build) throw new NotFoundError(`No build ${id}.`, { build_id: id });
    const fresh = toView(build);
    views.delete(id);
    views.set(id, { version: version ?? store.ensureVersion(id), view: fresh });
    if (views.size > VIEW_CACHE_SIZE) views.delete(views.keys().next().value!);
    return fresh;
  };

  /** The id and name for a new build: both given, one given, or neither (derived). */
  const identify = (input: SubmitBuildInput): { dropletId: number; name: string } => {
    const name = input.dropletName ?? deriveDropletName(input.architectIntent);
    const knownId = droplets.idForName(name) ?? catalog.idForDropletName(name);
    if (input.dropletId === undefined) {
      return { dropletId: knownId ?? Math.max(droplets.maxId(), catalog.maxDropletId()) + 1, name };
    }
    const ownerName = droplets.nameForId(input.dropletId) ?? catalog.nameForDropletId(input.dropletId);
    if (ownerName !== null && ownerName !== name) {
      throw new ConflictError(`Droplet ${input.dropletId} is already "${ownerName}".`, { droplet_id: input.dropletId, droplet_name: ownerName }, 'DROPLET_ID_TAKEN');
    }
    if (knownId !== null && knownId !== input.dropletId) {
      throw new ConflictError(`Droplet "${name}" already has id ${knownId}.`, { droplet_id: knownId, droplet_name: name }, 'DROPLET_NAME_TAKEN');
    }
    return { dropletId: input.dropletId, name };
  };

  /** One unfinished build per droplet: they would share (and rewrite) one repository. */
  const assertDropletIdle = (dropletId: number, exceptBuildId?: string) => {
    const busy = catalog.unfinishedBuildOf(dropletId, exceptBuildId);
    if (busy) {
      throw new ConflictError(`Droplet ${dropletId} already has an unfinished build, ${busy}; cancel it or wait.`, { build_id: busy }, 'DROPLET_BUSY');
    }
  };

  const estimateSeconds = () => Math.round(median(catalog.recentDurations(20)) ?? deps.defaultEstimateSeconds ?? 120);

  return {
    submit(input) {
      const unknown = (input.notifyChannels ?? []).filter((channel) => !deps.notifyChannels.includes(channel));
      if (unknown.length > 0) {
        throw new InputError(`Unknown notify channel(s): ${unknown.join(', ')}.`, { available: deps.notifyChannels, unknown });
      }
      checkCap(input.maxCostUsd);
      assertAccepting();
      const { dropletId, name } = identify(input);
      assertDropletIdle(dropletId);
      const createdAt = new Date();
      const build = store.insert(
        {
          dropletId,
          dropletName: name,
          intent: input.architectIntent,
          approvalMode: input.approvalMode,
          autoDeploy: input.autoDeploy,
          notifyChannels: input.notifyChannels ?? null,
          createdAt: createdAt.toISOString(),
          estimatedSeconds: estimateSeconds(),
          maxCostUsd: input.maxCostUsd ?? null,
        },
        (attempt) => `${buildIdFor(dropletId, name, createdAt)}${attempt > 1 ? `-${attempt}` : ''}`,
        { type: 'build.queued', data: { droplet_id: dropletId, droplet_name: name, approval_mode: input.approvalMode } },
      );
      deps.log.info({ build_id: build.id, droplet_id: dropletId, droplet_name: name }, 'build queued');
      // The view is taken first: the runner may pick the build up synchronously.
      const queued = view(build.id);
      scheduler.enqueue(build.id);
      return queued;
    },

    get: view,

    list(query: ListBuildsQuery) {
      const { builds, total } = catalog.list(query);
      return { builds: builds.map(toView), total };
    },

    events(buildId, afterSeq) {
      view(buildId);
      return store.journal.list(buildId, afterSeq);
    },

    approve(buildId, decision: ApprovalDecision) {
      view(buildId);
      store.change(buildId, () => {
        const build = store.requireStatus(buildId, ['waiting_approval']);
        const gate = build.pendingApproval!;
        const feedback = decision.feedback ?? null;
        store.recordApproval(buildId, gate.gate, gate.step_number, decision.approved, feedback);
        if (decision.approved) {
          store.setStatus(buildId, ['waiting_approval'], 'queued');
          return [{ type: 'build.approved', data: { gate: gate.gate, step_number: gate.step_number, feedback } }];
        }
        const error = { code: 'REJECTED', message: `Rejected at the ${gate.gate} gate.`, details: { feedback } };
        // A retry must ask the model afresh, not replay what was just rejected.
        deps.modelCalls.forgetResults(buildId);
        store.setStatus(buildId, ['waiting_approval'], 'cancelled', { error });
        return [
          { type: 'build.rejected', data: { gate: gate.gate, step_number: gate.step_number, feedback } },
          { type: 'build.cancelled', data: { reason: 'rejected', gate: gate.gate } },
        ];
      });
      const decided = view(buildId);
      if (decision.approved) scheduler.enqueue(buildId);
      return decided;
    },

    async cancel(buildId) {
      view(buildId);
      store.change(buildId, () => {
        store.requireStatus(buildId, ['queued', 'in_progress', 'waiting_approval']);
        store.setStatus(buildId, ['queued', 'in_progress', 'waiting_approval'], 'cancelled', {
          error: { code: 'CANCELLED', message: 'The build was cancelled.', details: {} },
        });
        store.resetInProgressSteps(buildId);
        return [{ type: 'build.cancelled', data: { reason: 'cancelled by request' } }];
      });
      // The runner sees the abort, its child processes are killed, and only then do we answer.
      await scheduler.abort(buildId);
      return view(buildId);
    },

    retry(buildId, fromStep, maxCostUsd) {
      view(buildId);
      checkCap(maxCostUsd);
      assertAccepting();
      store.change(buildId, () => {
        const build = store.requireStatus(buildId, ['failed', 'cancelled']);
        assertDropletIdle(build.dropletId, buildId);
        const firstUnfinished = store.steps(buildId).find((step) => step.status !== 'completed' && step.status !== 'skipped');
        const limit = firstUnfinished?.stepNumber ?? STEP_COUNT;
        const from = fromStep ?? limit;
        if (from > limit) {
          throw new ConflictError(`Step ${limit} has not finished; retry from step ${limit} or earlier.`, { first_unfinished_step: limit });
        }
        // Steps that finished and are asked to run again want new answers; the failed step resumes with its saved ones.
        const redone = store.steps(buildId).filter((step) => step.stepNumber >= from && (step.status === 'completed' || step.status === 'skipped'));
        deps.modelCalls.forgetResults(buildId, redone.map((step) => step.stepNumber));
        store.resetStepsFrom(buildId, from);
        if (maxCostUsd !== undefined) store.setMaxCost(buildId, maxCostUsd);
        store.setStatus(buildId, ['failed', 'cancelled'], 'queued');
        return [{ type: 'build.retried', data: { from_step: from } }];
      });
      const queued = view(buildId);
      scheduler.enqueue(buildId);
      return queued;
    },

    subscribe(buildId, listener) {
      return deps.bus.subscribe(buildId, listener);
    },
  };
}

/** At start-up: builds interrupted mid-step go back to the queue; queued ones are enqueued. */
export function recoverBuilds(store: BuildStore, catalog: BuildCatalog, scheduler: BuildScheduler, log: Logger): string[] {
  for (const id of catalog.idsWithStatus(['in_progress'])) {
    store.change(id, () => {
      store.resetInProgressSteps(id);
      store.setStatus(id, ['in_progress'], 'queued');
      return [{ type: 'build.resumed', data: { reason: 'executor restarted' } }];
    });
  }
  const queued = catalog.idsWithStatus(['queued']);
  for (const id of queued) scheduler.enqueue(id);
  if (queued.length > 0) log.info({ builds: queued }, 'resuming unfinished builds');
  return queued;
}
