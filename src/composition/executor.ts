/**
 * The composition root: config → store → providers → pipeline → app. The one place
 * that knows which concrete implementations exist; everything else gets interfaces.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { IntentDropletNamer } from '../authors/offline/index.js';
import type { Author } from '../domain/ports/author.js';
import { buildApp } from '../http/app.js';
import { createBuildService, recoverBuilds } from '../pipeline/builds.js';
import { InMemoryEventBus } from '../pipeline/events.js';
import { createRunner, failCrashedBuild } from '../pipeline/runner.js';
import { BuildScheduler } from '../pipeline/scheduler.js';
import type { BuildService } from '../pipeline/service.js';
import { EmbeddedRegistry } from '../registry/embedded.js';
import { SqliteBuildCatalog } from '../store/build-catalog.js';
import { SqliteBuildStore } from '../store/build-store.js';
import { type Db, openDatabase } from '../store/db.js';
import { DropletStore } from '../store/droplets.js';
import { lockDataDir } from '../store/lock.js';
import { SqliteDropletJournal } from '../store/droplet-events.js';
import { hardenDataDir } from '../sandbox/data-dir-modes.js';
import { createDropletService } from '../pipeline/droplets.js';
import { ModelCallStore, SqliteModelCallLedger } from '../store/model-calls.js';
import { SecretRedactor } from '../support/secrets.js';
import { createAuthor } from './author.js';
import type { Config } from './config.js';
import { executorInfo } from './info.js';
import { createLogger } from './logger.js';
import { createDeployTarget } from './deploy.js';
import { createDependencyStore, createProviders, dropletDirectoryOf } from './providers.js';
import { prepareSandbox } from './sandbox.js';
import type { SandboxChoice } from '../sandbox/sandbox-factory.js';

export { VERSION } from './info.js';

export interface Executor {
  app: FastifyInstance;
  builds: BuildService;
  db: Db;
  config: Config;
  log: Logger;
  /** Re-queues builds a previous process left unfinished. Called once the app listens. */
  resume(): Promise<string[]>;
  /** Stops taking builds, aborts running ones (their children die), closes HTTP and the database. */
  close(): Promise<void>;
}

export interface ExecutorOverrides {
  /** A different author (tests drive scripted authors through the real pipeline). */
  author?: Author;
  logger?: Logger;
}

export async function createExecutor(config: Config, overrides: ExecutorOverrides = {}): Promise<Executor> {
  const redactor = new SecretRedactor(config.secrets);
  const redaction = { redact: (text: string) => redactor.redact(text), redactDeep: <T>(value: T) => redactor.redactDeep(value) };
  const log = overrides.logger ?? createLogger(config, redactor);
  // Private from the first start on; the hardening below opens only the way to the releases.
  for (const dir of ['repos', 'deployments', 'dependencies', 'run', 'sandbox-home']) mkdirSync(join(config.dataDir, dir), { recursive: true, mode: 0o700 });
  const unlock = lockDataDir(config.dataDir);

  const db = openDatabase(join(config.dataDir, 'executor.db'));
  const bus = new InMemoryEventBus();
  const store = new SqliteBuildStore(db, (event) => bus.publish(event), new ModelCallStore(db));
  const catalog = new SqliteBuildCatalog(db);
  const ledger = new SqliteModelCallLedger(new ModelCallStore(db));
  const dropletStore = new DropletStore(db);
  const registry = new EmbeddedRegistry(dropletStore);

  const sandbox = prepareSandbox(config, log);
  const author = overrides.author ?? createAuthor(config);
  const { dependencies, deployTarget } = await prepareDeploys(config, db, sandbox.choice, redaction.redact, log);
  const providers = createProviders({ config, db, author, sandbox: sandbox.choice.sandbox, registry, deployTarget, dependencies, log });
  const maxBuildCostUsd = config.MAX_BUILD_COST_USD ?? null;

  const runBuild = createRunner({
    ...{ store, ledger, providers, redaction, maxBuildCostUsd },
    limits: { maxBuildIterations: config.MAX_BUILD_ITERATIONS },
    log: log.child({ component: 'runner' }),
  });
  const queue = new BuildScheduler(config.MAX_CONCURRENT_BUILDS, runBuild, async (buildId, error) => {
    log.error({ build_id: buildId, err: error }, 'build runner crashed');
    await failCrashedBuild(store, buildId, error, redaction.redact);
  });
  const { unavailableReason } = sandbox.choice;
  const builds = createBuildService({
    ...{ store, catalog, ledger, bus, queue },
    droplets: dropletDirectoryOf(dropletStore),
    notifyChannels: providers.notifiers.map((notifier) => notifier.channel),
    log: log.child({ component: 'builds' }),
    maxBuildCostUsd,
    // Every author's droplets are named by reading the intent, not only the offline author's.
    namer: new IntentDropletNamer(),
    deployHosts: deployTarget?.hosts ?? [],
    refusal: () => unavailableReason && `Builds are refused: SANDBOX=required, but ${unavailableReason}.`,
  });

  const info = executorInfo({ config, author, providers, registryId: registry.id, sandbox: sandbox.choice, catalog, db });
  const droplets = createDropletService({
    ...{ target: deployTarget, registry, catalog, droplets: dropletDirectoryOf(dropletStore) },
    ...{ journal: new SqliteDropletJournal(db), log: log.child({ component: 'droplets' }) },
  });
  const app = await buildApp({ builds, droplets, registry, info, publicUrl: config.publicUrl, apiToken: config.API_TOKEN, logger: log });
  let reconciling: NodeJS.Timeout | undefined;
  return {
    app,
    builds,
    db,
    config,
    log,
    async resume() {
      // Deployments first: a droplet that died with its host serves again before builds go on.
      await droplets.reconcile();
      reconciling = startReconciling(config.DEPLOY_RECONCILE_SECONDS, () => droplets.reconcile(), log);
      return recoverBuilds(store, queue, log);
    },
    async close() {
      clearInterval(reconciling);
      await queue.close();
      await app.close();
      const kept = await deployTarget?.close();
      if (kept && kept.running > 0) log.info({ droplets: kept.running }, 'executor stopped; deployed droplets keep running under their supervisors');
      db.close();
      unlock();
    },
  };
}

/**
 * The data dir made safe to share with droplet users, the dependency store, and the
 * deploy target: droplets run as another user and may only pass through the data dir
 * to their own release, reading nothing else.
 */
async function prepareDeploys(config: Config, db: Db, sandbox: SandboxChoice, redact: (text: string) => string, log: Logger) {
  const hardening = await hardenDataDir(config.dataDir, { secretFiles: [join(process.cwd(), '.env')] });
  if (hardening.untraversableAncestor) {
    log.warn({ directory: hardening.untraversableAncestor }, 'droplets cannot reach their releases: a parent of DATA_DIR is not traversable by others');
  }
  const dependencies = createDependencyStore(config);
  const deployTarget = await createDeployTarget(config, { db, dependencies, sandbox, redact, log: log.child({ component: 'deploy' }) });
  return { dependencies, deployTarget };
}

/** Checks deployments against the record every `seconds` (a supervisor that died is started again). */
function startReconciling(seconds: number, reconcile: () => Promise<unknown>, log: Logger): NodeJS.Timeout | undefined {
  if (seconds <= 0) return undefined;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    reconcile()
      .catch((error: unknown) => log.warn({ err: error }, 'reconciling deployments failed'))
      .finally(() => (running = false));
  }, seconds * 1000);
  timer.unref();
  return timer;
}
