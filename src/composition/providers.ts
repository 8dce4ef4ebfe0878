/** The concrete providers the configuration asks for: the one place they are constructed. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { FOUNDATION_DIR, loadFoundationFiles } from '../authors/foundation.js';
import type { Author, FoundationFile } from '../domain/ports/author.js';
import type { DeployTarget } from '../domain/ports/deploy.js';
import type { Registry } from '../domain/ports/registry.js';
import type { BuildAnnouncer } from '../pipeline/announcement.js';
import type { Providers } from '../pipeline/types.js';
import { GitWorkspace } from '../repo/repo.js';
import { DependencyStore } from '../sandbox/dependency-store.js';
import type { Sandbox } from '../sandbox/types.js';
import type { Db } from '../store/db.js';
import type { DropletStore } from '../store/droplets.js';
import { SecretScanner } from '../support/secrets.js';
import { DropletVerifier } from '../verify/verifier.js';
import type { Config } from './config.js';
import { createPublisher } from './publisher.js';

export interface ProviderInputs {
  config: Config;
  db: Db;
  author: Author;
  sandbox: Sandbox;
  registry: Registry;
  /** Made first (it is asynchronous): `composition/deploy.ts`. */
  deployTarget: DeployTarget | null;
  /** One store of installed dependencies, for verification and the deploy alike. */
  dependencies: DependencyStore;
  /** Made by the executor over the store and the bus (`composition/announcer.ts`), with `createNotifiers`' channels. */
  announcer: BuildAnnouncer;
  log: Logger;
}

/** The dependency store both verification and local deploys use. */
export function createDependencyStore(config: Config): DependencyStore {
  return new DependencyStore(join(config.dataDir, 'dependencies'));
}

export function createProviders({ config, author, sandbox, registry, deployTarget, dependencies, announcer }: ProviderInputs): Providers {
  let foundation: Promise<FoundationFile[]> | undefined;
  return {
    author,
    foundation: () => (foundation ??= loadFoundationFiles(FOUNDATION_DIR)),
    workspace: new GitWorkspace({ reposDir: join(config.dataDir, 'repos'), secretScanner: new SecretScanner(config.secrets) }),
    verifier: new DropletVerifier({
      sandbox,
      dependencies,
      installTimeoutMs: config.INSTALL_TIMEOUT_SECONDS * 1000,
      testTimeoutMs: config.TEST_TIMEOUT_SECONDS * 1000,
      startTimeoutMs: config.START_TIMEOUT_SECONDS * 1000,
    }),
    deployTarget,
    registry,
    publisher: createPublisher(config),
    announcer,
  };
}

/** The registry as the build service sees it: ids and names already taken. */
export function dropletDirectoryOf(droplets: DropletStore) {
  return {
    idForName: async (name: string) => droplets.getByName(name)?.dropletId ?? null,
    nameForId: async (id: number) => droplets.get(id)?.name ?? null,
    maxId: async () => droplets.maxDropletId(),
  };
}
