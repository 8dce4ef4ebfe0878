import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/domain/errors.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { DeploymentStore, type NewDeployment } from '../../src/store/deployments.js';
import { NotificationStore } from '../../src/store/notifications.js';

function release(releaseId: string, pid: number): NewDeployment {
  return {
    releaseId,
    dropletId: 3,
    target: 'local',
    url: `http://127.0.0.1:${40000 + pid}`,
    pid,
    port: 40000 + pid,
    commit: 'c'.repeat(40),
    directory: `/data/deployments/3-demo/${releaseId}`,
    deployedAt: '2026-01-01T00:00:00.000Z',
  };
}

describe('deployment and notification stores', () => {
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

  it('switches the active release and its predecessor in one step', () => {
    const store = new DeploymentStore(db);
    store.recordActive(release('r1', 1));
    store.recordActive(release('r2', 2), 'r1');
    expect(store.findByRelease('r1')?.status).toBe('replaced');
    expect(store.findActive(3, 'local')).toMatchObject({ releaseId: 'r2', pid: 2 });
    expect(store.findActive(3, 'ssh')).toBeNull();
    expect(store.listActive('local').map((record) => record.releaseId)).toEqual(['r2']);
  });

  it('refuses to replace a release that is no longer active, writing nothing', () => {
    const store = new DeploymentStore(db);
    store.recordActive(release('r1', 1));
    store.markStopped('r1');
    expect(() => store.recordActive(release('r2', 2), 'r1')).toThrow(ConflictError);
    expect(store.findByRelease('r2')).toBeNull();
    expect(() => store.markReplaced('missing')).toThrow(/No deployment missing/);
  });

  it('never records a failed attempt over an active release', () => {
    const store = new DeploymentStore(db);
    store.recordActive(release('r1', 1));
    expect(store.recordFailed(release('r1', 9))).toBe(false);
    expect(store.findByRelease('r1')).toMatchObject({ status: 'active', pid: 1 });
    expect(store.recordFailed(release('r2', 2))).toBe(true);
    expect(store.findByRelease('r2')?.status).toBe('failed');
    // A failed release can be deployed again.
    store.recordActive(release('r2', 3), 'r1');
    expect(store.findByRelease('r2')).toMatchObject({ status: 'active', pid: 3 });
  });

  it('records a delivery once per channel', () => {
    const deliveries = new NotificationStore(db);
    expect(deliveries.wasDelivered('b1:build.completed', 'webhook')).toBe(false);
    expect(deliveries.recordDelivery({ deliveryId: 'b1:build.completed', channel: 'webhook', detail: 'HTTP 200' })).toBe(true);
    expect(deliveries.recordDelivery({ deliveryId: 'b1:build.completed', channel: 'webhook', detail: 'HTTP 200' })).toBe(false);
    expect(deliveries.wasDelivered('b1:build.completed', 'webhook')).toBe(true);
    expect(deliveries.wasDelivered('b1:build.completed', 'log')).toBe(false);
  });
});
