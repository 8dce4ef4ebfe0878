/**
 * The composition root: config → store → providers → pipeline → app. The one
 * place that knows which concrete providers exist; everything else gets interfaces.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { buildApp } from '../http/app.js';
import { FOUNDATION_DIR, loadFoundationFiles } from '../authors/foundation.js';
import { createAuthor } from './author.js';
import type { Author, FoundationFile } from '../domain/ports/author.js';
import type { Config } from './config.js';
import { LocalDeployTarget } from '../deploy/local.js';
import type { ExecutorInfo } from '../http/deps.js';
import { LogNotifier } from '../notify/log.js';
import type { Notifier } from '../domain/ports/notifier.js';
import { WebhookNotifier } from '../notify/webhook.js';
import { createBuildService, recoverBuilds } from '../pipeline/builds.js';
import { EventBus } from '../pipeline/events.js';
import { createRunner, failCrashedBuild } from '../pipeline/runner.js';
import { BuildScheduler } from '../pipeline/scheduler.js';
import type { BuildService } from '../pipeline/service.js';
import type { Providers } from '../pipeline/types.js';
import { EmbeddedRegistry } from '../registry/embedded.js';
import { SecretRedactor, SecretScanner } from '../support/secrets.js';
import { BuildCatalog } from '../store/build-catalog.js';
import { BuildStore } from '../store/builds.js';
import { type Db, openDatabase } from '../store/db.js';
import { lockDataDir } from '../store/lock.js';
import { DeploymentStore } from '../store/deployments.js';
import { DropletStore } from '../store/droplets.js';
import { ModelCallStore } from '../store/model-calls.js';
import { NotificationStore } from '../store/notifications.js';
import { DropletVerifier } from '../verify/verifier.js';
import { GitWorkspace } from '../repo/repo.js';
import { ProcessLedger } from '../sandbox/process-ledger.js';
import { createSandbox } from '../sandbox/sandbox-factory.js';

export const VERSION = '1.0.0';

export interface Executor {
  app: FastifyInstance;
  builds: BuildService;
  db: Db;
  config: Config;
  log: Logger;
  /** Re-queues builds a previous process left unfinished. Called once the app listens. */
  resume(): string[];
  /** Stops taking builds, aborts running ones (their children die), closes HTTP and the database. */
  close(): Promise<void>;
}

export interface ExecutorOverrides {
  /** A different author (tests drive scripted authors through the real pipeline). */
  author?: Author;
  logger?: Logger;
}

function createLogger(config: Config, redactor: SecretRedactor): Logger {
  return pino({
    level: config.LOG_LEVEL,
    redact: { paths: ['req.headers.authorization', 'headers.authorization', '*.apiKey', '*.secret'], censor: '[REDACTED]' },
    // Errors carry messages and stacks from child processes and libraries: scrub those too.
    serializers: { err: (error: Error) => redactor.redactDeep(pino.stdSerializers.err(error)) },
    // Secret values can hide in any message (an error from a child process); scrub them all.
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((arg) => (typeof arg === 'string' ? redactor.redact(arg) : arg)) as Parameters<typeof method>);
      },
    },
  });
}

function createNotifiers(config: Config, log: Logger): Notifier[] {
  const notifiers: Notifier[] = [new LogNotifier(log.child({ component: 'notify' }))];
  if (config.NOTIFY_WEBHOOK_URL) {
    notifiers.push(new WebhookNotifier({ url: config.NOTIFY_WEBHOOK_URL, secret: config.NOTIFY_WEBHOOK_SECRET, timeoutMs: 10_000, attempts: 3 }));
  }
  return notifiers;
}

export async function createExecutor(config: Config, overrides: ExecutorOverrides = {}): Promise<Executor> {
  const redactor = new SecretRedactor(config.secrets);
  const log = overrides.logger ?? createLogger(config, redactor);
  for (const dir of ['repos', 'deployments']) mkdirSync(join(config.dataDir, dir), { recursive: true });
  const unlock = lockDataDir(config.dataDir);

  const db = openDatabase(join(config.dataDir, 'executor.db'));
  const bus = new EventBus();
  const store = new BuildStore(db, (event) => bus.publish(event));
  const catalog = new BuildCatalog(db);
  const dropletStore = new DropletStore(db);
  const notificationStore = new NotificationStore(db);
  const registry = new EmbeddedRegistry(dropletStore);

  // Process groups a crashed predecessor left running for generated code die before anything starts.
  const ledger = new ProcessLedger(join(config.dataDir, 'run'));
  const reaped = ledger.reapLeftovers();
  if (reaped.length > 0) log.warn({ process_groups: reaped }, 'killed processes left by an earlier executor');
  const sandboxChoice = createSandbox({
    mode: config.SANDBOX,
    bwrapPath: config.BWRAP_PATH,
    memoryMb: config.SANDBOX_MEMORY_MB,
    maxProcesses: config.SANDBOX_MAX_PROCESSES,
    // Generated code never sees the executor's data, home or working-directory .env.
    dataDir: config.dataDir,
    executorHome: homedir(),
    executorCwd: process.cwd(),
    baseEnv: process.env,
    homeDir: join(config.dataDir, 'sandbox-home'),
    // Installs are served from the executor's own npm cache, so droplets build with no network.
    npmCacheDir: process.env.npm_config_cache ?? join(homedir(), '.npm'),
    groups: ledger,
  });
  const { sandbox } = sandboxChoice;
  if (sandboxChoice.unavailableReason) log.error({ reason: sandboxChoice.unavailableReason }, 'SANDBOX=required but bubblewrap does not work here: builds are refused');
  else if (sandboxChoice.kind === 'process') log.warn({ isolation: sandboxChoice.isolation }, 'generated code runs without bubblewrap isolation');
  log.info({ sandbox: sandboxChoice.kind, isolation: sandboxChoice.isolation, limits: sandboxChoice.limits }, 'sandbox ready');
  const author = overrides.author ?? createAuthor(config);
  const modelCalls = new ModelCallStore(db);
  let foundation: Promise<FoundationFile[]> | undefined;
  const providers: Providers = {
    author,
    foundation: () => (foundation ??= loadFoundationFiles(FOUNDATION_DIR)),
    workspace: new GitWorkspace({ reposDir: join(config.dataDir, 'repos'), secretScanner: new SecretScanner(config.secrets) }),
    verifier: new DropletVerifier({
      sandbox,
      installTimeoutMs: config.INSTALL_TIMEOUT_SECONDS * 1000,
      testTimeoutMs: config.TEST_TIMEOUT_SECONDS * 1000,
      startTimeoutMs: config.START_TIMEOUT_SECONDS * 1000,
    }),
    deployTarget:
      config.DEPLOY_TARGET === 'local'
        ? new LocalDeployTarget({
            dataDir: config.dataDir,
            deployments: new DeploymentStore(db),
            host: config.DEPLOY_HOST,
            healthTimeoutMs: config.START_TIMEOUT_SECONDS * 1000,
            env: { LOG_LEVEL: config.LOG_LEVEL === 'silent' ? 'info' : config.LOG_LEVEL, API_TOKEN: config.DROPLET_API_TOKEN },
            groups: ledger,
          })
        : null,
    registry,
    notifiers: createNotifiers(config, log),
    deliveries: {
      wasDelivered: (deliveryId, channel) => notificationStore.wasDelivered(deliveryId, channel),
      recordDelivery: (deliveryId, channel, detail) => void notificationStore.recordDelivery({ deliveryId, channel, detail }),
    },
  };

  const redact = (text: string) => redactor.redact(text);
  const runBuild = createRunner({
    store,
    providers,
    limits: { maxBuildIterations: config.MAX_BUILD_ITERATIONS },
    log: log.child({ component: 'runner' }),
    redact,
    redactDeep: (value) => redactor.redactDeep(value),
    modelCalls,
    maxBuildCostUsd: config.MAX_BUILD_COST_USD ?? null,
  });
  const scheduler = new BuildScheduler(config.MAX_CONCURRENT_BUILDS, runBuild, (buildId, error) => {
    log.error({ build_id: buildId, err: error }, 'build runner crashed');
    failCrashedBuild(store, buildId, error, redact);
  });
  const builds = createBuildService({
    store,
    catalog,
    bus,
    scheduler,
    droplets: {
      idForName: (name) => dropletStore.getByName(name)?.dropletId ?? null,
      nameForId: (id) => dropletStore.get(id)?.name ?? null,
      maxId: () => dropletStore.maxDropletId(),
    },
    notifyChannels: providers.notifiers.map((notifier) => notifier.channel),
    log: log.child({ component: 'builds' }),
    modelCalls,
    maxBuildCostUsd: config.MAX_BUILD_COST_USD ?? null,
    refusal: () => sandboxChoice.unavailableReason && `Builds are refused: SANDBOX=required, but ${sandboxChoice.unavailableReason}.`,
  });

  const startedAt = new Date();
  const info: ExecutorInfo = {
    version: VERSION,
    startedAt,
    author: { id: author.id, description: author.description, status: () => author.status?.() ?? null },
    deployTarget: config.DEPLOY_TARGET,
    registry: registry.id,
    sandbox: sandbox.kind,
    sandboxDetail: { isolation: sandboxChoice.isolation, limits: sandboxChoice.limits, unavailable_reason: sandboxChoice.unavailableReason },
    notifyChannels: providers.notifiers.map((notifier) => notifier.channel),
    maxConcurrentBuilds: config.MAX_CONCURRENT_BUILDS,
    maxBuildIterations: config.MAX_BUILD_ITERATIONS,
    buildCounts: () => catalog.countsByStatus(),
    storeHealthy: () => {
      try {
        db.prepare('SELECT 1').get();
        return true;
      } catch {
        return false;
      }
    },
  };

  const app = await buildApp({ builds, registry, info, publicUrl: config.publicUrl, apiToken: config.API_TOKEN, logger: log });
  return {
    app,
    builds,
    db,
    config,
    log,
    resume: () => recoverBuilds(store, catalog, scheduler, log),
    async close() {
      await scheduler.close();
      await app.close();
      db.close();
      unlock();
    },
  };
}
