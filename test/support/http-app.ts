/**
 * For HTTP-shape tests only: a small in-memory BuildService that keeps a journal
 * and a live bus with the same contract as the real one, a registry, and a
 * helper that builds the app around them. End-to-end tests use the real pipeline.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { STEP_LABELS, STEP_NAMES, TERMINAL_BUILD_STATUSES, type BuildStatus } from '../../src/domain/build.js';
import { buildIdFor, deriveDropletName } from '../../src/domain/naming.js';
import type { BuildView } from '../../src/domain/status.js';
import type { BuildEvent } from '../../src/domain/events.js';
import { ConflictError, NotFoundError } from '../../src/domain/errors.js';
import type { AppDeps, ExecutorInfo } from '../../src/http/deps.js';
import type { ApprovalDecision, BuildService, EventListener, ListBuildsQuery, SubmitBuildInput } from '../../src/pipeline/service.js';
import type { Registry } from '../../src/domain/ports/registry.js';
import type { DropletRegistration, RegisteredDroplet } from '../../src/domain/registration.js';

export class InMemoryBuildService implements BuildService {
  readonly submitted: SubmitBuildInput[] = [];
  private readonly views = new Map<string, BuildView>();
  private readonly journal: BuildEvent[] = [];
  private readonly listeners = new Map<string, Set<EventListener>>();
  private seq = 0;
  /** Runs once, right after the next subscription: simulates a commit racing a new stream. */
  onNextSubscribe: ((buildId: string) => void) | undefined;
  /** Runs once, right after the next journal read: simulates a commit landing just after it. */
  onNextEventsRead: ((buildId: string) => void) | undefined;

  submit(input: SubmitBuildInput): BuildView {
    this.submitted.push(input);
    const dropletId = input.dropletId ?? 100 + this.views.size;
    const name = input.dropletName ?? deriveDropletName(input.architectIntent);
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, this.views.size));
    const view = viewOf(buildIdFor(dropletId, name, at), dropletId, name, input, at);
    this.views.set(view.build_id, view);
    this.emit(view.build_id, 'build.queued', {});
    return structuredClone(view);
  }

  get(buildId: string): BuildView {
    return structuredClone(this.view(buildId));
  }

  list(query: ListBuildsQuery): { builds: BuildView[]; total: number } {
    const all = [...this.views.values()].reverse().filter((view) => !query.status || view.status === query.status);
    return { builds: all.slice(query.offset, query.offset + query.limit).map((view) => structuredClone(view)), total: all.length };
  }

  events(buildId: string, afterSeq: number): BuildEvent[] {
    this.view(buildId);
    const events = this.journal.filter((event) => event.build_id === buildId && event.seq > afterSeq).map((event) => structuredClone(event));
    const hook = this.onNextEventsRead;
    this.onNextEventsRead = undefined;
    hook?.(buildId);
    return events;
  }

  approve(buildId: string, decision: ApprovalDecision): BuildView {
    const view = this.view(buildId);
    if (view.status !== 'waiting_approval') throw new ConflictError(`Build ${buildId} is not waiting for approval.`, { status: view.status });
    this.emit(buildId, decision.approved ? 'gate.approved' : 'build.cancelled', {}, decision.approved ? 'queued' : 'cancelled');
    return this.get(buildId);
  }

  async cancel(buildId: string): Promise<BuildView> {
    const view = this.view(buildId);
    if (TERMINAL_BUILD_STATUSES.includes(view.status)) throw new ConflictError(`Build ${buildId} has already finished.`, { status: view.status });
    this.emit(buildId, 'build.cancelled', {}, 'cancelled');
    return this.get(buildId);
  }

  retry(buildId: string, fromStep?: number): BuildView {
    const view = this.view(buildId);
    if (view.status !== 'failed' && view.status !== 'cancelled') throw new ConflictError(`Build ${buildId} cannot be retried.`, { status: view.status });
    this.emit(buildId, 'build.retried', { from_step: fromStep ?? 1 }, 'queued');
    return this.get(buildId);
  }

  subscribe(buildId: string, listener: EventListener): () => void {
    const set = this.listeners.get(buildId) ?? new Set<EventListener>();
    this.listeners.set(buildId, set);
    set.add(listener);
    const hook = this.onNextSubscribe;
    this.onNextSubscribe = undefined;
    hook?.(buildId);
    return () => set.delete(listener);
  }

  subscriberCount(buildId: string): number {
    return this.listeners.get(buildId)?.size ?? 0;
  }

  /** Commits one event (and optionally a new status), then tells the live listeners. */
  emit(buildId: string, type: string, data: Record<string, unknown>, status?: BuildStatus): BuildEvent {
    const view = this.view(buildId);
    if (status) view.status = status;
    this.seq += 1;
    const event: BuildEvent = { seq: this.seq, build_id: buildId, type, at: new Date().toISOString(), data };
    this.journal.push(event);
    for (const listener of [...(this.listeners.get(buildId) ?? [])]) listener(structuredClone(event));
    return event;
  }

  private view(buildId: string): BuildView {
    const view = this.views.get(buildId);
    if (!view) throw new NotFoundError(`No build ${buildId}.`, { build_id: buildId });
    return view;
  }
}

function viewOf(buildId: string, dropletId: number, name: string, input: SubmitBuildInput, at: Date): BuildView {
  return {
    build_id: buildId,
    droplet_id: dropletId,
    droplet_name: name,
    architect_intent: input.architectIntent,
    approval_mode: input.approvalMode,
    auto_deploy: input.autoDeploy,
    notify_channels: input.notifyChannels ?? null,
    status: 'queued',
    current_step: 'intent',
    current_step_number: 1,
    progress_percent: 0,
    created_at: at.toISOString(),
    started_at: null,
    estimated_completion: new Date(at.getTime() + 600_000).toISOString(),
    completed_at: null,
    steps: STEP_NAMES.map((step, index) => ({
      step,
      step_number: index + 1,
      name: STEP_LABELS[step],
      status: 'pending',
      started_at: null,
      completed_at: null,
      duration_seconds: null,
      details: {},
      error: null,
    })),
    files_created: [],
    usage: { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: 0, max_cost_usd: null },
    repository_path: null,
    repository_url: null,
    deployment_url: null,
    pending_approval: null,
    error: null,
  };
}

export class InMemoryRegistry implements Registry {
  readonly id = 'embedded';
  private readonly droplets = new Map<number, RegisteredDroplet>();

  async register(registration: DropletRegistration): Promise<{ droplet: RegisteredDroplet; changed: boolean }> {
    const existing = this.droplets.get(registration.dropletId);
    if (existing?.buildId === registration.buildId) return { droplet: existing, changed: false };
    const now = new Date().toISOString();
    const droplet = { ...registration, registeredAt: existing?.registeredAt ?? now, updatedAt: now };
    this.droplets.set(registration.dropletId, droplet);
    return { droplet, changed: true };
  }

  async list(): Promise<RegisteredDroplet[]> {
    return [...this.droplets.values()];
  }
}

export function executorInfo(builds: InMemoryBuildService, overrides: Partial<ExecutorInfo> = {}): ExecutorInfo {
  return {
    version: '1.0.0',
    startedAt: new Date(Date.now() - 5_000),
    author: { id: 'offline', description: 'Deterministic template author.', status: () => null },
    deployTarget: 'local',
    registry: 'embedded',
    sandbox: 'process',
    sandboxDetail: { isolation: 'process group only', limits: 'none', unavailable_reason: null },
    notifyChannels: ['log'],
    maxConcurrentBuilds: 2,
    maxBuildIterations: 3,
    buildCounts: () => {
      const counts: Record<string, number> = {};
      for (const view of builds.list({ limit: 1_000, offset: 0 }).builds) counts[view.status] = (counts[view.status] ?? 0) + 1;
      return counts;
    },
    storeHealthy: () => true,
    ...overrides,
  };
}

export interface TestApp {
  app: FastifyInstance;
  builds: InMemoryBuildService;
  registry: InMemoryRegistry;
}

export async function createTestApp(
  overrides: Omit<Partial<AppDeps>, 'builds' | 'registry'> & { builds?: InMemoryBuildService } = {},
): Promise<TestApp> {
  const builds = overrides.builds ?? new InMemoryBuildService();
  const registry = new InMemoryRegistry();
  const app = await buildApp({
    builds,
    registry,
    info: executorInfo(builds),
    publicUrl: 'http://127.0.0.1:8400',
    logger: false,
    ...overrides,
  });
  return { app, builds, registry };
}

/** Listens on an ephemeral loopback port; returns the base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  return `http://127.0.0.1:${address.port}`;
}

/**
 * `start()` builds a test app and remembers it; the `afterEach` this registers closes
 * it, so each test file gets one app per test without its own bookkeeping.
 */
export function startsTestApps(): (overrides?: Parameters<typeof createTestApp>[0]) => Promise<TestApp> {
  let current: TestApp | undefined;
  afterEach(async () => {
    await current?.app.close();
    current = undefined;
  });
  return async (overrides = {}) => (current = await createTestApp(overrides));
}
