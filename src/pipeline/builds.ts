/** The BuildService: submit, inspect, approve, cancel and retry builds, over the store's ports. */
import type { Logger } from 'pino';
import { STEP_COUNT } from '../domain/build.js';
import { buildIdFor, deriveDropletName } from '../domain/naming.js';
import { ConflictError, InputError, UnavailableError } from '../domain/errors.js';
import type { BuildCatalog, BuildStore, DropletDirectory, ModelCallLedger } from '../domain/ports/build-store.js';
import type { DropletNamer } from '../domain/ports/droplet-namer.js';
import type { EventBus } from '../domain/ports/event-bus.js';
import type { BuildQueue } from '../domain/ports/queue.js';
import type { BuildRecord } from '../domain/records.js';
import { createViewCache } from './view-cache.js';
import type { ApprovalDecision, BuildService, ListBuildsQuery, SubmitBuildInput } from './service.js';

export interface BuildServiceDeps {
  store: BuildStore;
  catalog: BuildCatalog;
  ledger: ModelCallLedger;
  bus: EventBus;
  queue: BuildQueue;
  droplets: DropletDirectory;
  /** Channels that exist (`log`, `webhook` when configured…); requests may only name these. */
  notifyChannels: readonly string[];
  log: Logger;
  /** Seconds a build is expected to take before any has completed. */
  defaultEstimateSeconds?: number;
  /** MAX_BUILD_COST_USD: a request may lower the cap for its build, never raise it. */
  maxBuildCostUsd: number | null;
  /** Why builds cannot run right now (SANDBOX=required without bubblewrap), or null. */
  refusal?: () => string | null;
  /** The clock build ids and creation times come from. */
  now?: () => Date;
  /** Names droplets whose request gives no name; word rules alone (`deriveDropletName`) when absent. */
  namer?: DropletNamer;
  /** The deploy target's hosts: a build naming another is refused at submit. */
  deployHosts?: readonly string[];
}

const WORD_RULES: DropletNamer = { nameFor: deriveDropletName };

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Runs admissions (submit, retry) one at a time: choosing a new droplet id and checking
 * that a droplet is idle must not interleave with another admission.
 */
function createAdmissions() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(admit: () => Promise<T>): Promise<T> => {
    const result = tail.then(admit);
    tail = result.catch(() => undefined);
    return result;
  };
}

/** A request may lower the executor's cost cap for its build, never raise it. */
function checkDeployHost(deps: BuildServiceDeps, host: string | undefined): void {
  if (host === undefined) return;
  const hosts = deps.deployHosts ?? [];
  if (!hosts.includes(host)) {
    throw new InputError(`deploy_host "${host}" is not a host of this executor's deploy target (${hosts.join(', ') || 'none'}).`, { deploy_host: host, hosts: [...hosts] });
  }
}

function checkCap(deps: BuildServiceDeps, maxCostUsd: number | undefined): void {
  if (maxCostUsd !== undefined && deps.maxBuildCostUsd !== null && maxCostUsd > deps.maxBuildCostUsd) {
    throw new InputError(`max_cost_usd ${maxCostUsd} is above this executor's cap of ${deps.maxBuildCostUsd} (MAX_BUILD_COST_USD).`, {
      max_cost_usd: maxCostUsd,
      executor_cap_usd: deps.maxBuildCostUsd,
    });
  }
}

function assertAccepting(deps: BuildServiceDeps): void {
  const reason = deps.refusal?.() ?? null;
  if (reason) throw new UnavailableError(reason);
}

function checkChannels(deps: BuildServiceDeps, channels: readonly string[]): void {
  const unknown = channels.filter((channel) => !deps.notifyChannels.includes(channel));
  if (unknown.length > 0) throw new InputError(`Unknown notify channel(s): ${unknown.join(', ')}.`, { available: deps.notifyChannels, unknown });
}

/** The id and name for a new build: both given, one given, or neither (derived). */
async function identify(deps: BuildServiceDeps, input: SubmitBuildInput): Promise<{ dropletId: number; name: string }> {
  const { catalog, droplets } = deps;
  const name = input.dropletName ?? (deps.namer ?? WORD_RULES).nameFor(input.architectIntent);
  const knownId = (await droplets.idForName(name)) ?? (await catalog.idForDropletName(name));
  if (input.dropletId === undefined) {
    return { dropletId: knownId ?? Math.max(await droplets.maxId(), await catalog.maxDropletId()) + 1, name };
  }
  const ownerName = (await droplets.nameForId(input.dropletId)) ?? (await catalog.nameForDropletId(input.dropletId));
  if (ownerName !== null && ownerName !== name) {
    throw new ConflictError(`Droplet ${input.dropletId} is already "${ownerName}".`, { droplet_id: input.dropletId, droplet_name: ownerName }, 'DROPLET_ID_TAKEN');
  }
  if (knownId !== null && knownId !== input.dropletId) {
    throw new ConflictError(`Droplet "${name}" already has id ${knownId}.`, { droplet_id: knownId, droplet_name: name }, 'DROPLET_NAME_TAKEN');
  }
  return { dropletId: input.dropletId, name };
}

async function estimateSeconds(deps: BuildServiceDeps): Promise<number> {
  return Math.round(median(await deps.catalog.recentDurations(20)) ?? deps.defaultEstimateSeconds ?? 120);
}

/** Checks a submission and records it queued; the caller enqueues it. */
async function createQueuedBuild(deps: BuildServiceDeps, input: SubmitBuildInput, now: () => Date): Promise<BuildRecord> {
  checkChannels(deps, input.notifyChannels ?? []);
  checkCap(deps, input.maxCostUsd);
  checkDeployHost(deps, input.deployHost);
  assertAccepting(deps);
  const { dropletId, name } = await identify(deps, input);
  const createdAt = now();
  const build = await deps.store.create(
    {
      dropletId,
      dropletName: name,
      intent: input.architectIntent,
      approvalMode: input.approvalMode,
      autoDeploy: input.autoDeploy,
      notifyChannels: input.notifyChannels ?? null,
      createdAt: createdAt.toISOString(),
      estimatedSeconds: await estimateSeconds(deps),
      maxCostUsd: input.maxCostUsd ?? null,
      deployHost: input.deployHost ?? null,
    },
    (attempt) => `${buildIdFor(dropletId, name, createdAt)}${attempt > 1 ? `-${attempt}` : ''}`,
  );
  deps.log.info({ build_id: build.id, droplet_id: dropletId, droplet_name: name }, 'build queued');
  return build;
}

export function createBuildService(deps: BuildServiceDeps): BuildService {
  const { store, catalog, queue } = deps;
  const now = deps.now ?? (() => new Date());
  const admit = createAdmissions();
  const views = createViewCache({ store, ledger: deps.ledger, maxBuildCostUsd: deps.maxBuildCostUsd, queue });

  return {
    submit: (input) =>
      admit(async () => {
        const build = await createQueuedBuild(deps, input, now);
        // The view is taken first: the runner may pick the build up at once.
        const queued = await views.get(build.id);
        queue.enqueue(build.id);
        return queued;
      }),

    get: (buildId) => views.get(buildId),

    async list(query: ListBuildsQuery) {
      const { ids, total } = await catalog.list(query);
      return { builds: await Promise.all(ids.map((id) => views.get(id))), total };
    },

    async events(buildId, afterSeq) {
      await views.get(buildId);
      return store.listEvents(buildId, afterSeq);
    },

    async approve(buildId, decision: ApprovalDecision) {
      await views.get(buildId);
      const { approved } = await store.decide(buildId, {
        approved: decision.approved,
        feedback: decision.feedback ?? null,
        ...(decision.gate && { gate: decision.gate }),
        ...(decision.requestedAt && { requestedAt: decision.requestedAt }),
      });
      const decided = await views.get(buildId);
      if (approved) queue.enqueue(buildId);
      return decided;
    },

    async cancel(buildId) {
      await views.get(buildId);
      const cancelled = store.cancel(buildId);
      // The runner sees the abort as the cancel is written, not a turn later; its child
      // processes are killed, and only then do we answer. (A build that had already
      // finished has no runner to abort, and the cancel is refused.)
      const stopped = queue.abort(buildId);
      await cancelled;
      await stopped;
      return views.get(buildId);
    },

    retry: (buildId, fromStep, maxCostUsd) =>
      admit(async () => {
        await views.get(buildId);
        if (fromStep !== undefined && !(Number.isInteger(fromStep) && fromStep >= 1 && fromStep <= STEP_COUNT)) {
          throw new InputError(`from_step must be a step number from 1 to ${STEP_COUNT}.`, { from_step: fromStep });
        }
        checkCap(deps, maxCostUsd);
        assertAccepting(deps);
        await store.retry(buildId, { ...(fromStep !== undefined && { fromStep }), ...(maxCostUsd !== undefined && { maxCostUsd }) });
        const queued = await views.get(buildId);
        queue.enqueue(buildId);
        return queued;
      }),

    subscribe(buildId, listener) {
      return deps.bus.subscribe(buildId, listener);
    },
  };
}

/** At start-up: builds interrupted mid-step go back to the queue; queued ones are enqueued. */
export async function recoverBuilds(store: BuildStore, queue: BuildQueue, log: Logger): Promise<string[]> {
  const queued = await store.resumeInterrupted();
  for (const id of queued) queue.enqueue(id);
  if (queued.length > 0) log.info({ builds: queued }, 'resuming unfinished builds');
  return queued;
}
