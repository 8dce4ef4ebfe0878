/**
 * The composition root: config → store → providers → pipeline → app. The one place
 * that knows which concrete implementations exist; everything else gets interfaces.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { IntentDropletNamer } from '../authors/offline/index.js';
import type { ApprovalLinkIssuer } from '../domain/ports/approval-links.js';
import type { Author } from '../domain/ports/author.js';
import { buildApp } from '../http/app.js';
import { createBuildFileService } from '../pipeline/build-files.js';
import { createBuildService, recoverBuilds } from '../pipeline/builds.js';
import { InMemoryEventBus } from '../pipeline/events.js';
import { createRunner, failCrashedBuild } from '../pipeline/runner.js';
import { BuildScheduler } from '../pipeline/scheduler.js';
import type { BuildService } from '../pipeline/service.js';
import type { RunnerDeps } from '../pipeline/types.js';
import { GitRepositoryHistory } from '../repo/history.js';
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
import { createAnnouncer } from './announcer.js';
import { approvalLinkKey, approvalLinkKeySecrets, createApprovalLinks } from './approval-links.js';
import { createAuthor } from './author.js';
import type { Config } from './config.js';
import { executorInfo } from './info.js';
import { createLogger } from './logger.js';
import { createNotifiers } from './notifiers.js';
import { createDeployTarget } from './deploy.js';
import { createDependencyStore, createProviders, dropletDirectoryOf } from './providers.js';
import { createRegistry, type RegistryChoice } from './registry.js';
import { prepareSandbox } from './sandbox.js';
import { plaintextCredentialWarnings } from './transport-warnings.js';
import type { SandboxChoice } from '../sandbox/sandbox-factory.js';

export { VERSION } from './info.js';

export interface Executor {
  app: FastifyInstance;
  builds: BuildService;
  db: Db;
  config: Config;
  log: Logger;
  /** Signs the one-click approve/reject links sent with approval requests. */
  approvalLinks: ApprovalLinkIssuer;
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

export async function createExecutor(loaded: Config, overrides: ExecutorOverrides = {}): Promise<Executor> {
  // The approval link key before the redactor: a key made in DATA_DIR is a secret the environment does not list.
  const linkKey = approvalLinkKey(loaded);
  const config: Config = { ...loaded, secrets: [...loaded.secrets, ...approvalLinkKeySecrets(linkKey)] };
  const redactor = new SecretRedactor(config.secrets);
  const redaction = { redact: (text: string) => redactor.redact(text), redactDeep: <T>(value: T) => redactor.redactDeep(value) };
  const log = overrides.logger ?? createLogger(config, redactor);
  for (const warning of plaintextCredentialWarnings(config)) log.warn(warning);
  // Private from the first start on; the hardening below opens only the way to the releases.
  for (const dir of ['repos', 'deployments', 'dependencies', 'run', 'sandbox-home']) mkdirSync(join(config.dataDir, dir), { recursive: true, mode: 0o700 });
  const unlock = lockDataDir(config.dataDir);

  const db = openDatabase(join(config.dataDir, 'executor.db'));
  const approvalLinks = createApprovalLinks(config, db, linkKey);
  const { bus, store, catalog, ledger, dropletStore } = openStores(db);
  const { registry, ...registryChoice } = createRegistry(config, db, dropletStore, redaction.redact, log.child({ component: 'registry' }), redactor);
  const announcer = createAnnouncer({ config, db, notifiers: createNotifiers(config, log), store, ledger, bus, links: approvalLinks.issuer, redact: redaction.redact, log });

  const sandbox = prepareSandbox(config, log);
  const author = overrides.author ?? (await createAuthor(config));
  const { dependencies, deployTarget } = await prepareDeploys(config, db, sandbox.choice, redaction.redact, log);
  const providers = createProviders({ config, db, author, sandbox: sandbox.choice.sandbox, registry, deployTarget, dependencies, announcer, log });
  const maxBuildCostUsd = config.MAX_BUILD_COST_USD ?? null;

  const queue = createQueue({ config, store, ledger, providers, redaction, maxBuildCostUsd, log });
  const { unavailableReason } = sandbox.choice;
  const builds = createBuildService({
    ...{ store, catalog, ledger, bus, queue },
    droplets: dropletDirectoryOf(dropletStore),
    notifyChannels: announcer.channels,
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
  const app = await buildApp({ builds, droplets, registry, info, publicUrl: config.publicUrl, apiToken: config.API_TOKEN, buildRateLimit: { max: config.BUILD_RATE_LIMIT, windowSeconds: config.BUILD_RATE_WINDOW }, ...registryRoutes(config, registryChoice), approvalLinks: approvalLinks.redeemer(builds), buildFiles: createBuildFileService({ store, history: new GitRepositoryHistory() }), logger: log });
  let reconciling: NodeJS.Timeout | undefined;
  return {
    app,
    builds,
    db,
    config,
    log,
    approvalLinks: approvalLinks.issuer,
    async resume() {
      // Deployments first: a droplet that died with its host serves again before builds go on.
      await droplets.reconcile();
      reconciling = startReconciling(config.DEPLOY_RECONCILE_SECONDS, () => droplets.reconcile(), log);
      registryChoice.startHeartbeats(deployTarget);
      await announcer.resume();
      return recoverBuilds(store, queue, log);
    },
    async close() {
      clearInterval(reconciling);
      const unsettled = await queue.close();
      if (unsettled.length > 0) log.error({ builds: unsettled }, 'aborted builds did not stop within the grace period; they resume at the next start');
      await registryChoice.close();
      await announcer.close();
      await app.close();
      const kept = await deployTarget?.close();
      if (kept && kept.running > 0) log.info({ droplets: kept.running }, 'executor stopped; deployed droplets keep running under their supervisors');
      db.close();
      unlock();
    },
  };
}

/** The SQLite stores over one database, and the bus their committed events reach. */
function openStores(db: Db) {
  const bus = new InMemoryEventBus();
  const store = new SqliteBuildStore(db, (event) => bus.publish(event), new ModelCallStore(db));
  return { bus, store, catalog: new SqliteBuildCatalog(db), ledger: new SqliteModelCallLedger(new ModelCallStore(db)), dropletStore: new DropletStore(db) };
}

/** The build queue and the runner it feeds; a runner that crashes fails its build. */
function createQueue(deps: Omit<RunnerDeps, 'limits'> & { config: Config }): BuildScheduler {
  const { config, store, log, redaction } = deps;
  const runBuild = createRunner({ ...deps, limits: { maxBuildIterations: config.MAX_BUILD_ITERATIONS }, log: log.child({ component: 'runner' }) });
  return new BuildScheduler(config.MAX_CONCURRENT_BUILDS, runBuild, async (buildId, error) => {
    log.error({ build_id: buildId, err: error }, 'build runner crashed');
    await failCrashedBuild(store, buildId, error, redaction.redact);
  });
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

/** The `/registry` routes and their tokens, when the executor is the fleet registry. */
function registryRoutes(config: Config, choice: Pick<RegistryChoice, 'served'>) {
  if (!choice.served) return {};
  return {
    fleetRegistry: choice.served,
    ...(config.REGISTRY_TOKEN ? { registryToken: config.REGISTRY_TOKEN } : {}),
    ...(config.DROPLET_API_TOKEN ? { dropletToken: config.DROPLET_API_TOKEN } : {}),
  };
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
