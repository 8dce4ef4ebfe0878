/**
 * The deploy contract on `ssh`, against a real OpenSSH server on loopback: the executor
 * logs in as a test user made for the purpose, with the host key pinned by fingerprint.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployTargetFor, homeOf, sshDeployVars } from '../support/deploy-target.js';
import { fleetDeploySuite } from '../support/fleet-suite.js';
import { startSshd } from '../support/sshd.js';

const SECRET = 'executor-secret-ssh-2c81d0';
const USER = 'executor-fleet';

fleetDeploySuite(
  'ssh',
  async () => {
    const sshd = await startSshd({ user: USER });
    const baseDir = join(homeOf(USER), 'droplets');
    rmSync(baseDir, { recursive: true, force: true });
    const dataDir = mkdtempSync(join(tmpdir(), 'fleet-ssh-'));
    const { target, close } = await deployTargetFor(dataDir, sshDeployVars(sshd));
    process.env.EXECUTOR_FLEET_SECRET = SECRET;
    return {
      target,
      baseDir,
      forbiddenPaths: [join(dataDir, 'executor.db'), dataDir, sshd.keyPath, `/proc/${process.pid}/environ`, '/root'],
      executorSecret: SECRET,
      runnerUid: Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim()),
      async close() {
        delete process.env.EXECUTOR_FLEET_SECRET; // test files share a worker (isolate: false)
        await close();
        await sshd.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
  42,
);
