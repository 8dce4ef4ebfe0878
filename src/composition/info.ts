/** What /executor/health and /executor/capabilities report about this executor. */
import type { Author } from '../domain/ports/author.js';
import type { BuildCatalog } from '../domain/ports/build-store.js';
import type { ExecutorInfo } from '../http/deps.js';
import type { Providers } from '../pipeline/types.js';
import type { SandboxChoice } from '../sandbox/sandbox-factory.js';
import { databaseAnswers, type Db } from '../store/db.js';
import type { Config } from './config.js';
import { BUBBLEWRAP_FIX } from './sandbox.js';

export const VERSION = '1.0.0';

export interface InfoInputs {
  config: Config;
  author: Author;
  providers: Providers;
  registryId: string;
  sandbox: SandboxChoice;
  catalog: BuildCatalog;
  db: Db;
}

/** SANDBOX=auto fell back when bubblewrap was asked for and a process group is what runs generated code. */
function sandboxDetail(config: Config, sandbox: SandboxChoice): ExecutorInfo['sandboxDetail'] {
  const fellBack = config.SANDBOX === 'auto' && sandbox.kind === 'process';
  return {
    isolation: sandbox.isolation,
    limits: sandbox.limits,
    unavailable_reason: sandbox.unavailableReason,
    fallback_reason: fellBack ? `SANDBOX=auto fell back to ${sandbox.isolation}; generated code is not isolated from the host.` : null,
    fix: sandbox.unavailableReason || fellBack ? BUBBLEWRAP_FIX : null,
  };
}

export function executorInfo({ config, author, providers, registryId, sandbox, catalog, db }: InfoInputs): ExecutorInfo {
  return {
    version: VERSION,
    startedAt: new Date(),
    author: { id: author.id, description: author.description, status: () => author.status?.() ?? null },
    deployTarget: config.DEPLOY_TARGET,
    registry: registryId,
    sandbox: sandbox.sandbox.kind,
    sandboxDetail: sandboxDetail(config, sandbox),
    notifyChannels: [...providers.announcer.channels],
    maxConcurrentBuilds: config.MAX_CONCURRENT_BUILDS,
    maxBuildIterations: config.MAX_BUILD_ITERATIONS,
    buildCounts: () => catalog.countsByStatus(),
    storeHealthy: async () => databaseAnswers(db),
  };
}
