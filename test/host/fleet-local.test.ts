/**
 * The deploy contract on `local`: droplets under DATA_DIR/deployments, run by their
 * supervisor as the unprivileged runner user inside a long-lived bubblewrap sandbox.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/composition/config.js';
import { createDeployTarget } from '../../src/composition/deploy.js';
import { createDependencyStore } from '../../src/composition/providers.js';
import { prepareSandbox } from '../../src/composition/sandbox.js';
import { ensureRunnerUser } from '../../src/deploy/runner-user.js';
import { hardenDataDir } from '../../src/sandbox/data-dir-modes.js';
import { openDatabase } from '../../src/store/db.js';
import { fleetDeploySuite } from '../support/fleet-suite.js';

const SECRET = 'executor-secret-7f3a91';

fleetDeploySuite(
  'local',
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fleet-local-'));
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', DROPLET_API_TOKEN: 'droplet-fleet-token', START_TIMEOUT_SECONDS: '10' });
    const db = openDatabase(join(dataDir, 'executor.db'));
    mkdirSync(join(dataDir, 'repos', '1-secret-droplet'), { recursive: true });
    writeFileSync(join(dataDir, 'repos', '1-secret-droplet', 'SECRET.md'), SECRET);
    await hardenDataDir(dataDir);
    const log = pino({ level: 'silent' });
    const { choice } = prepareSandbox(config, log);
    const target = await createDeployTarget(config, { db, dependencies: createDependencyStore(config), sandbox: choice, redact: (text) => text, log });
    process.env.EXECUTOR_FLEET_SECRET = SECRET;
    return {
      target: target!,
      baseDir: join(dataDir, 'deployments'),
      forbiddenPaths: [join(dataDir, 'executor.db'), join(dataDir, 'repos'), join(dataDir, 'repos', '1-secret-droplet', 'SECRET.md'), `/proc/${process.pid}/environ`, homedir()],
      executorSecret: SECRET,
      runnerUid: (await ensureRunnerUser()).uid,
      async close() {
        await target!.close();
        db.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
  41,
);
