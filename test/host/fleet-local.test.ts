/**
 * The deploy contract on `local`: droplets under DATA_DIR/deployments, run by their
 * supervisor as the unprivileged runner user inside a long-lived bubblewrap sandbox.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRunnerUser } from '../../src/deploy/runner-user.js';
import { hardenDataDir } from '../../src/sandbox/data-dir-modes.js';
import { deployTargetFor } from '../support/deploy-target.js';
import { fleetDeploySuite } from '../support/fleet-suite.js';

const SECRET = 'executor-secret-7f3a91';

fleetDeploySuite(
  'local',
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fleet-local-'));
    mkdirSync(join(dataDir, 'repos', '1-secret-droplet'), { recursive: true });
    writeFileSync(join(dataDir, 'repos', '1-secret-droplet', 'SECRET.md'), SECRET);
    const { target, close } = await deployTargetFor(dataDir, { DROPLET_API_TOKEN: 'droplet-fleet-token' });
    await hardenDataDir(dataDir);
    process.env.EXECUTOR_FLEET_SECRET = SECRET;
    return {
      target,
      baseDir: join(dataDir, 'deployments'),
      forbiddenPaths: [join(dataDir, 'executor.db'), join(dataDir, 'repos'), join(dataDir, 'repos', '1-secret-droplet', 'SECRET.md'), `/proc/${process.pid}/environ`, homedir()],
      executorSecret: SECRET,
      runnerUid: (await ensureRunnerUser()).uid,
      async close() {
        delete process.env.EXECUTOR_FLEET_SECRET; // test files share a worker (isolate: false)
        await close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
  41,
);
