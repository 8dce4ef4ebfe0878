import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/domain/errors.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { DeploymentStore, type NewDeployment } from '../../src/store/deployments.js';

function release(releaseId: string, pid: number, host = 'local', deployedAt = '2026-01-01T00:00:00.000Z'): NewDeployment {
  return {
    releaseId,
    dropletId: 3,
    target: 'local',
    host,
    url: 'http://127.0.0.1:40003',
    pid,
    port: 40003,
    supervisor: 'process',
    commit: 'c'.repeat(40),
    directory: `/data/deployments/demo/releases/${releaseId}`,
    deployedAt,
    startedAt: null,
  };
}

describe('deployment stores', () => {
  let dir: string;
  let db: Db;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'deploy-stores-'));
    db = openDatabase(join(dir, 'executor.db'));
  });

  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('switches the live release and its predecessor in one step: one live release per droplet', () => {
    const store = new DeploymentStore(db);
    store.recordActive(release('r1', 1));
    store.recordActive(release('r2', 2, 'deploy@10.0.0.5:22', '2026-01-02T00:00:00.000Z'));
    expect(store.findByRelease('r1')?.status).toBe('replaced');
    expect(store.findLive(3)).toMatchObject({ releaseId: 'r2', pid: 2, host: 'deploy@10.0.0.5:22' });
    expect(store.listLive('local').map((record) => record.releaseId)).toEqual(['r2']);
  });

  it('keeps a droplet its port per host, and knows the ports taken on a host', () => {
    const store = new DeploymentStore(db);
    store.recordActive(release('r1', 1));
    expect(store.portOf(3, 'local', 'local')).toBe(40003);
    expect(store.portOf(3, 'local', 'other')).toBeNull();
    expect([...store.portsOn('local', 'local')]).toEqual([40003]);
    store.markRemoved(3);
    expect(store.portsOn('local', 'local').size).toBe(0);
    expect(store.findLive(3)).toBeNull();
  });

  it('stops and starts the live release; a stopped one is still live, a missing one is a conflict', () => {
    const store = new DeploymentStore(db);
    store.recordActive(release('r1', 1));
    store.markStopped('r1');
    expect(store.findLive(3)?.status).toBe('stopped');
    expect(() => store.markStopped('r1')).toThrow(ConflictError);
    store.markStarted('r1', 7, '2026-01-03T00:00:00.000Z');
    expect(store.findLive(3)).toMatchObject({ status: 'active', pid: 7, startedAt: '2026-01-03T00:00:00.000Z' });
    expect(() => store.markStarted('missing', 1, 'x')).toThrow(/No deployment missing/);
  });

  it('never records a failed attempt over an active release', () => {
    const store = new DeploymentStore(db);
    store.recordActive(release('r1', 1));
    expect(store.recordFailed(release('r1', 9))).toBe(false);
    expect(store.findByRelease('r1')).toMatchObject({ status: 'active', pid: 1 });
    expect(store.recordFailed(release('r2', 2))).toBe(true);
    expect(store.findByRelease('r2')?.status).toBe('failed');
    // A failed release can be deployed again.
    store.recordActive(release('r2', 3));
    expect(store.findByRelease('r2')).toMatchObject({ status: 'active', pid: 3 });
  });
});
