/**
 * For HTTP tests: the real BuildService over an in-memory SQLite store, with a queue
 * that holds builds (no worker runs them), so a test moves each build through the
 * store's own operations and sees exactly the events the executor journals. The
 * service is wrapped only to watch it: which inputs it accepted, and two hooks that
 * let a test land a commit at the racy moments of a stream's start.
 */
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach } from 'vitest';
import type { BuildEvent } from '../../src/domain/events.js';
import type { BuildEventListener, EventBus } from '../../src/domain/ports/event-bus.js';
import { buildApp } from '../../src/http/app.js';
import type { AppDeps, ExecutorInfo } from '../../src/http/deps.js';
import { createBuildFileService } from '../../src/pipeline/build-files.js';
import { createBuildService } from '../../src/pipeline/builds.js';
import { InMemoryEventBus } from '../../src/pipeline/events.js';
import { BuildScheduler } from '../../src/pipeline/scheduler.js';
import type { BuildService, SubmitBuildInput } from '../../src/pipeline/service.js';
import type { DropletRegistry } from '../../src/registry/droplet-registry.js';
import { embeddedRegistry } from './registry.js';
import { SqliteBuildCatalog } from '../../src/store/build-catalog.js';
import { SqliteBuildStore } from '../../src/store/build-store.js';
import { type Db, openDatabase } from '../../src/store/db.js';
import { SqliteDropletJournal } from '../../src/store/droplet-events.js';
import { createDropletService } from '../../src/pipeline/droplets.js';
import { ModelCallStore, SqliteModelCallLedger } from '../../src/store/model-calls.js';
import { GitRepositoryHistory } from '../../src/repo/history.js';

/** The bus, counted: a closed stream must leave no subscription behind. */
class CountingBus implements EventBus {
  private readonly bus = new InMemoryEventBus();
  private readonly counts = new Map<string, number>();

  subscribe(buildId: string, listener: BuildEventListener): () => void {
    const unsubscribe = this.bus.subscribe(buildId, listener);
    this.counts.set(buildId, (this.counts.get(buildId) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.counts.set(buildId, this.counts.get(buildId)! - 1);
      unsubscribe();
    };
  }

  subscribeAll(listener: BuildEventListener): () => void {
    return this.bus.subscribeAll(listener);
  }

  publish(event: BuildEvent): void {
    this.bus.publish(event);
  }

  count(buildId: string): number {
    return this.counts.get(buildId) ?? 0;
  }
}

export interface TestBuildsOptions {
  /** Builds are created at this time, a second apart (default 2026-01-01T00:00:00Z). */
  epoch?: Date;
  notifyChannels?: readonly string[];
}

/** The real service and store, and the moves a test makes a build go through. */
export class TestBuilds {
  readonly db: Db = openDatabase(':memory:');
  readonly bus = new CountingBus();
  readonly store: SqliteBuildStore;
  readonly service: BuildService;
  /** Inputs the service accepted, in order. */
  readonly submitted: SubmitBuildInput[] = [];
  /** Runs once, right after the next subscription: simulates a commit racing a new stream. */
  onNextSubscribe: ((buildId: string) => Promise<void>) | undefined;
  /** Runs once, right after the next journal read: simulates a commit landing just after it. */
  onNextEventsRead: ((buildId: string) => Promise<void>) | undefined;

  constructor(options: TestBuildsOptions = {}) {
    const modelCalls = new ModelCallStore(this.db);
    this.store = new SqliteBuildStore(this.db, (event) => this.bus.publish(event), modelCalls);
    const epoch = (options.epoch ?? new Date(Date.UTC(2026, 0, 1))).getTime();
    let created = 0;
    const real = createBuildService({
      store: this.store,
      catalog: new SqliteBuildCatalog(this.db),
      ledger: new SqliteModelCallLedger(modelCalls),
      bus: this.bus,
      // No worker: builds stay where the test puts them.
      queue: new BuildScheduler(0, async () => {}, () => {}),
      droplets: { idForName: async () => null, nameForId: async () => null, maxId: async () => 99 },
      notifyChannels: options.notifyChannels ?? ['log'],
      log: pino({ level: 'silent' }),
      defaultEstimateSeconds: 600,
      maxBuildCostUsd: null,
      now: () => new Date(epoch + 1000 * created++),
    });
    this.service = {
      ...real,
      submit: async (input) => {
        const view = await real.submit(input);
        this.submitted.push(input);
        return view;
      },
      events: async (buildId, afterSeq) => {
        const events = await real.events(buildId, afterSeq);
        const hook = this.onNextEventsRead;
        this.onNextEventsRead = undefined;
        await hook?.(buildId);
        return events;
      },
      subscribe: (buildId, listener) => {
        const unsubscribe = real.subscribe(buildId, listener);
        const hook = this.onNextSubscribe;
        this.onNextSubscribe = undefined;
        void hook?.(buildId);
        return unsubscribe;
      },
    };
  }

  submit(input: SubmitBuildInput) {
    return this.service.submit(input);
  }

  subscriberCount(buildId: string): number {
    return this.bus.count(buildId);
  }

  /** Runs a store operation and returns the events it journaled, in order. */
  async journaled(buildId: string, move: () => Promise<unknown>): Promise<BuildEvent[]> {
    const before = (await this.store.listEvents(buildId, 0)).at(-1)?.seq ?? 0;
    await move();
    return this.store.listEvents(buildId, before);
  }

  /** A worker takes the build and starts step 1: `build.started`, `step.started`. */
  begin(buildId: string) {
    return this.journaled(buildId, async () => {
      await this.store.claim(buildId);
      await this.store.startStep(buildId, 1);
    });
  }

  startStep(buildId: string, stepNumber: number) {
    return this.journaled(buildId, () => this.store.startStep(buildId, stepNumber));
  }

  completeStep(buildId: string, stepNumber: number) {
    return this.journaled(buildId, () => this.store.completeStep(buildId, stepNumber, { skipped: false, details: {}, output: null, durationSeconds: 0.01 }));
  }

  /** Step `stepNumber` fails, and with it the build: `step.failed`, `build.failed`. */
  failStep(buildId: string, stepNumber: number, code = 'VERIFICATION_FAILED') {
    return this.journaled(buildId, () => this.store.failStep(buildId, stepNumber, { code, message: 'It did not pass.', details: {} }));
  }

  completeBuild(buildId: string) {
    return this.journaled(buildId, () => this.store.completeBuild(buildId));
  }

  cancel(buildId: string) {
    return this.journaled(buildId, () => this.store.cancel(buildId));
  }

  retry(buildId: string, fromStep: number) {
    return this.journaled(buildId, () => this.store.retry(buildId, { fromStep }));
  }

  /** The build runs steps 1 to 5 and waits at its before-deploy gate. */
  waitAtGate(buildId: string) {
    return this.journaled(buildId, async () => {
      await this.store.claim(buildId);
      for (let step = 1; step <= 5; step += 1) {
        await this.store.startStep(buildId, step);
        await this.store.completeStep(buildId, step, { skipped: false, details: {}, output: null, durationSeconds: 0.01 });
      }
      await this.store.awaitApproval(buildId, { gate: 'before_deploy', step_number: 6, requested_at: new Date().toISOString(), summary: 'Review it.' });
    });
  }
}

export function executorInfo(builds: TestBuilds, overrides: Partial<ExecutorInfo> = {}): ExecutorInfo {
  return {
    version: '1.0.0',
    startedAt: new Date(Date.now() - 5_000),
    author: { id: 'offline', description: 'Deterministic template author.', status: () => null },
    deployTarget: 'local',
    registry: 'embedded',
    sandbox: 'process',
    sandboxDetail: { isolation: 'process group only', limits: 'none', unavailable_reason: null, fallback_reason: null, fix: null },
    notifyChannels: ['log'],
    maxConcurrentBuilds: 2,
    maxBuildIterations: 3,
    buildCounts: async () => new SqliteBuildCatalog(builds.db).countsByStatus(),
    storeHealthy: async () => true,
    ...overrides,
  };
}

export interface TestApp {
  app: FastifyInstance;
  builds: TestBuilds;
  registry: DropletRegistry;
}

export type TestAppOverrides = Omit<Partial<AppDeps>, 'builds' | 'registry'> & { builds?: TestBuilds };

export async function createTestApp(overrides: TestAppOverrides = {}): Promise<TestApp> {
  const { builds = new TestBuilds(), ...rest } = overrides;
  // The real registry (droplets table and embedded fleet registry), on the same in-memory database as the builds.
  const { registry, droplets: dropletStore } = embeddedRegistry(builds.db);
  // No deploy target: the lifecycle routes answer as DEPLOY_TARGET=none does.
  const droplets = createDropletService({
    target: null,
    registry,
    catalog: new SqliteBuildCatalog(builds.db),
    droplets: {
      idForName: async (name) => dropletStore.getByName(name)?.dropletId ?? null,
      nameForId: async (id) => dropletStore.get(id)?.name ?? null,
      maxId: async () => dropletStore.maxDropletId(),
    },
    journal: new SqliteDropletJournal(builds.db),
    log: pino({ level: 'silent' }),
  });
  const app = await buildApp({
    builds: builds.service,
    droplets,
    registry,
    info: executorInfo(builds),
    publicUrl: 'http://127.0.0.1:8400',
    logger: false,
    // As the executor wires it: the build file routes read the repositories the store names.
    buildFiles: createBuildFileService({ store: builds.store, history: new GitRepositoryHistory() }),
    ...rest,
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
export function startsTestApps(): (overrides?: TestAppOverrides) => Promise<TestApp> {
  let current: TestApp | undefined;
  afterEach(async () => {
    await current?.app.close();
    current = undefined;
  });
  return async (overrides = {}) => (current = await createTestApp(overrides));
}
