/**
 * The deploy contract on `ssh`, against a real OpenSSH server on loopback: the executor
 * logs in as a test user made for the purpose, with the host key pinned by fingerprint.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/composition/config.js';
import { createDeployTarget } from '../../src/composition/deploy.js';
import { createDependencyStore } from '../../src/composition/providers.js';
import { prepareSandbox } from '../../src/composition/sandbox.js';
import { openDatabase } from '../../src/store/db.js';
import { fleetDeploySuite } from '../support/fleet-suite.js';
import { startSshd } from '../support/sshd.js';

const SECRET = 'executor-secret-ssh-2c81d0';
const USER = 'executor-fleet';

fleetDeploySuite(
  'ssh',
  async () => {
    const sshd = await startSshd({ user: USER });
    const home = execFileSync('sh', ['-c', `getent passwd ${USER} | cut -d: -f6`], { encoding: 'utf8' }).trim();
    const baseDir = join(home, 'droplets');
    rmSync(baseDir, { recursive: true, force: true });
    const dataDir = mkdtempSync(join(tmpdir(), 'fleet-ssh-'));
    const config = loadConfig({
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      DEPLOY_TARGET: 'ssh',
      SSH_HOST: sshd.host,
      SSH_PORT: String(sshd.port),
      SSH_USER: sshd.user,
      SSH_KEY_PATH: sshd.keyPath,
      SSH_HOST_FINGERPRINT: sshd.hostKeyFingerprint,
      DEPLOY_BIND_HOST: '127.0.0.1',
      DEPLOY_NODE_PATH: process.execPath,
      START_TIMEOUT_SECONDS: '10',
    });
    const db = openDatabase(join(dataDir, 'executor.db'));
    const log = pino({ level: 'silent' });
    const { choice } = prepareSandbox(config, log);
    const target = await createDeployTarget(config, { db, dependencies: createDependencyStore(config), sandbox: choice, redact: (text) => text, log });
    process.env.EXECUTOR_FLEET_SECRET = SECRET;
    return {
      target: target!,
      baseDir,
      forbiddenPaths: [join(dataDir, 'executor.db'), dataDir, sshd.keyPath, `/proc/${process.pid}/environ`, '/root'],
      executorSecret: SECRET,
      runnerUid: Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim()),
      async close() {
        await target!.close();
        db.close();
        await sshd.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
  42,
);
