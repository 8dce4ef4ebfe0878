/**
 * Heartbeats from health probes: a round probes each registered droplet through the deploy
 * target's `describe` and renews its fleet entry only when its live release answered, so a
 * stopped or dead droplet expires from the fleet. Real registry over SQLite, moved clock.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { DropletDeploymentView, LiveHealth, ReleaseRecord } from '../../src/domain/deployment.js';
import type { DeployTarget } from '../../src/domain/ports/deploy.js';
import type { DropletRegistration } from '../../src/domain/registration.js';
import { heartbeatOnce, startHeartbeats } from '../../src/pipeline/heartbeats.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { embeddedRegistry, type TestRegistry } from '../support/registry.js';

const TTL = 10;
const log = pino({ level: 'silent' });

function registration(dropletId: number, name: string): DropletRegistration {
  return { dropletId, name, url: `http://127.0.0.1:${41000 + dropletId}`, host: 'local', version: '1.0.0', capabilities: [], buildId: `build-${dropletId}`, commit: 'c'.repeat(40) };
}

function release(dropletId: number, status: ReleaseRecord['status']): ReleaseRecord {
  return { releaseId: `build-${dropletId}`, dropletId, target: 'local', host: 'local', url: `http://127.0.0.1:${41000 + dropletId}`, pid: 1, port: 41000 + dropletId, supervisor: 'process', commit: 'c'.repeat(40), deployedAt: '', startedAt: null, status };
}

/** A deploy target whose probes answer what the test says, per droplet name. */
class ProbedTarget {
  readonly views = new Map<string, DropletDeploymentView | null>();
  readonly described: string[] = [];

  set(name: string, dropletId: number, status: ReleaseRecord['status'], health: LiveHealth['status']): void {
    this.views.set(name, { current: release(dropletId, status), health: { status: health, checkedAt: new Date().toISOString() }, releases: [] });
  }

  async describe({ name }: { name: string }): Promise<DropletDeploymentView | null> {
    this.described.push(name);
    const view = this.views.get(name);
    if (view === undefined) throw new Error(`host unreachable for ${name}`);
    return view;
  }
}

describe('heartbeats', () => {
  let db: Db;
  let clock: Date;
  let registry: TestRegistry;
  let target: ProbedTarget;
  const later = (seconds: number) => (clock = new Date(clock.getTime() + seconds * 1000));
  const round = () => heartbeatOnce({ registry: registry.registry, target: target as unknown as DeployTarget, log });

  beforeEach(async () => {
    db = openDatabase(':memory:');
    clock = new Date('2026-01-01T00:00:00.000Z');
    registry = embeddedRegistry(db, { now: () => clock, ttlSeconds: TTL });
    target = new ProbedTarget();
    await registry.registry.register(registration(1, 'alpha'));
    await registry.registry.register(registration(2, 'beta'));
    await registry.registry.register(registration(3, 'gamma'));
  });

  afterEach(() => db.close());

  it('renews answering droplets with their health and lets stopped, dead and unreachable ones expire', async () => {
    target.set('alpha', 1, 'active', 'healthy');
    target.set('beta', 2, 'stopped', 'stopped');
    target.set('gamma', 3, 'active', 'unreachable');
    later(TTL - 1);
    expect(await round()).toEqual([
      { dropletId: 1, name: 'alpha', health: 'healthy', outcome: 'renewed' },
      { dropletId: 2, name: 'beta', health: 'stopped', outcome: 'skipped' },
      { dropletId: 3, name: 'gamma', health: 'unreachable', outcome: 'skipped' },
    ]);
    later(2);
    expect((await registry.fleet.list()).map((entry) => [entry.name, entry.health])).toEqual([['alpha', 'healthy']]);

    // gamma answers again: its entry had expired, so the heartbeat registers it anew.
    target.set('gamma', 3, 'active', 'healthy');
    const reports = await round();
    expect(reports.find((report) => report.name === 'gamma')?.outcome).toBe('reregistered');
    expect((await registry.fleet.list()).map((entry) => entry.name)).toEqual(['alpha', 'gamma']);
  });

  it('a probe that fails is reported, and the other droplets still get their heartbeat', async () => {
    target.set('alpha', 1, 'active', 'healthy');
    target.set('gamma', 3, 'active', 'unhealthy');
    // beta: describe throws.
    const reports = await round();
    expect(reports.map((report) => report.outcome)).toEqual(['renewed', 'failed', 'renewed']);
    expect((await registry.fleet.get('gamma'))?.health).toBe('unhealthy');
  });

  it('an undeployed droplet gets no heartbeat and is not probed again', async () => {
    target.set('alpha', 1, 'active', 'healthy');
    target.set('beta', 2, 'active', 'healthy');
    target.set('gamma', 3, 'active', 'healthy');
    await registry.registry.deregister(2);
    target.described.length = 0;
    await round();
    expect(target.described).toEqual(['alpha', 'gamma']);
    expect((await registry.fleet.list()).map((entry) => entry.name)).toEqual(['alpha', 'gamma']);
  });

  it('runs rounds on an interval, one at a time, until stopped', async () => {
    target.set('alpha', 1, 'active', 'healthy');
    target.set('beta', 2, 'active', 'healthy');
    target.set('gamma', 3, 'active', 'healthy');
    const heartbeats = startHeartbeats({ registry: registry.registry, target: target as unknown as DeployTarget, log }, 1);
    const [a, b] = [heartbeats.beat(), heartbeats.beat()];
    expect(a).toBe(b);
    await a;
    while (target.described.length < 6) await new Promise((resolve) => setTimeout(resolve, 50));
    await heartbeats.stop();
    const seen = target.described.length;
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(target.described.length).toBe(seen);
  });
});
