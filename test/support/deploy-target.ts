/**
 * Deploy targets for tests and benches, built the way the executor builds them
 * (`createDeployTarget` from the configuration), over a data dir of their own; and the
 * variables that point DEPLOY_TARGET=ssh at a test sshd.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/composition/config.js';
import { createDeployTarget } from '../../src/composition/deploy.js';
import { createDependencyStore } from '../../src/composition/providers.js';
import { prepareSandbox } from '../../src/composition/sandbox.js';
import type { DeployTarget } from '../../src/domain/ports/deploy.js';
import { openDatabase } from '../../src/store/db.js';
import type { TestSshd } from './sshd.js';

export interface TestDeployTarget {
  target: DeployTarget;
  close: () => Promise<void>;
}

/** The target DEPLOY_TARGET and `vars` describe, over `dataDir` (its database opened there). */
export async function deployTargetFor(dataDir: string, vars: Record<string, string>): Promise<TestDeployTarget> {
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', START_TIMEOUT_SECONDS: '10', ...vars });
  const db = openDatabase(join(dataDir, 'executor.db'));
  const log = pino({ level: 'silent' });
  const { choice } = prepareSandbox(config, log);
  const target = await createDeployTarget(config, { db, dependencies: createDependencyStore(config), sandbox: choice, redact: (text) => text, log });
  if (!target) throw new Error('DEPLOY_TARGET=none makes no deploy target');
  return {
    target,
    async close() {
      await target.close();
      db.close();
    },
  };
}

/** The user's home directory, from the passwd database. */
export function homeOf(user: string): string {
  return execFileSync('getent', ['passwd', user], { encoding: 'utf8' }).trim().split(':')[5]!;
}

/** DEPLOY_TARGET=ssh at the test server, its key pinned by fingerprint, droplets listening on loopback. */
export function sshDeployVars(sshd: TestSshd): Record<string, string> {
  return {
    DEPLOY_TARGET: 'ssh',
    SSH_HOST: sshd.host,
    SSH_PORT: String(sshd.port),
    SSH_USER: sshd.user,
    SSH_KEY_PATH: sshd.keyPath,
    SSH_HOST_FINGERPRINT: sshd.hostKeyFingerprint,
    DEPLOY_BIND_HOST: '127.0.0.1',
    DEPLOY_NODE_PATH: process.execPath,
  };
}
