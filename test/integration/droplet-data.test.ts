/**
 * A skeleton droplet deployed by the local target keeps its records: they are written
 * under the droplet's DATA_DIR beside its releases, and survive a restart of the
 * release and a redeploy of a new one.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDeployTarget } from '../../src/deploy/local.js';
import type { Deployment } from '../../src/domain/deployment.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { DeploymentStore } from '../../src/store/deployments.js';
import { isAlive } from '../support/processes.js';
import { STOCK_PLAN, writeSkeletonDroplet } from '../support/skeleton-droplet.js';

const droplet = { dropletId: STOCK_PLAN.dropletId, name: STOCK_PLAN.name };
const API_TOKEN = 'data-token-71c4';
const headers = { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' };

describe('records of a deployed droplet', () => {
  let root: string;
  let dataDir: string;
  let db: Db;
  let target: LocalDeployTarget;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'droplet-data-'));
    dataDir = join(root, 'data');
    db = openDatabase(join(dataDir, 'executor.db'));
    target = new LocalDeployTarget({ dataDir, deployments: new DeploymentStore(db), healthTimeoutMs: 15_000, env: { LOG_LEVEL: 'warn', API_TOKEN }, stopGraceMs: 2_000 });
  });

  afterAll(async () => {
    await target.stopAll();
    db.close();
    rmSync(root, { recursive: true, force: true });
  });

  const deploy = (releaseId: string): Promise<Deployment> =>
    target.deploy({
      releaseId,
      droplet,
      sourceDir: writeSkeletonDroplet(mkdtempSync(join(root, `source-${releaseId}-`))),
      commit: 'a'.repeat(40),
      signal: new AbortController().signal,
    });
  const json = async (url: string, init: RequestInit = {}) => (await fetch(url, { headers, ...init })).json() as Promise<Record<string, unknown>>;

  it('survive a restart of the release and a redeploy of a new one', async () => {
    const first = await deploy('release-a');
    const warehouse = await json(`${first.url}/warehouses`, { method: 'POST', body: JSON.stringify({ name: 'North', active: true }) });
    const level = await json(`${first.url}/stock-levels`, { method: 'POST', body: JSON.stringify({ warehouse_id: warehouse.id, quantity: 7 }) });
    expect(level).toMatchObject({ warehouse_id: warehouse.id, quantity: 7 });

    // Restart: the same release, stopped and started again.
    expect(await target.stopDeployment('release-a')).toBe(true);
    const restarted = await deploy('release-a');
    expect(restarted.pid).not.toBe(first.pid);
    expect(await json(`${restarted.url}/stock-levels`)).toEqual({ items: [level], total: 1, limit: 50, offset: 0 });

    // Redeploy: a new release replaces it and serves the same records.
    const second = await deploy('release-b');
    expect(isAlive(restarted.pid!)).toBe(false);
    expect(await json(`${second.url}/warehouses?active=true`)).toEqual({ items: [warehouse], total: 1, limit: 50, offset: 0 });
    const missing = await fetch(`${second.url}/stock-levels`, { method: 'POST', headers, body: JSON.stringify({ warehouse_id: 'gone', quantity: 1 }) });
    expect(missing.status).toBe(422);

    const dropletDir = join(dataDir, 'deployments', `${droplet.dropletId}-${droplet.name}`);
    expect(JSON.parse(readFileSync(join(dropletDir, 'data', 'warehouses.json'), 'utf8'))).toMatchObject({ resource: 'warehouses', records: [warehouse] });
    for (const release of ['release-a', 'release-b']) expect(existsSync(join(dropletDir, release, 'data'))).toBe(false);
  });
});
