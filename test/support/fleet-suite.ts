/**
 * The deploy contract every target must keep, run against `local` and against a real
 * OpenSSH host: releases on a stable address with zero failed requests across a
 * redeploy, a health gate that leaves the old release serving, rollback, stop, start,
 * restart, crash restarts, reconciliation after everything was killed, release pruning,
 * undeploy, and a droplet that cannot read the executor's secrets.
 */
import { existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeployTarget } from '../../src/domain/ports/deploy.js';
import { StepError } from '../../src/domain/errors.js';
import { FleetDroplet } from './fleet-droplet.js';
import { killSupervisors } from './supervisors.js';

export interface FleetEnv {
  target: DeployTarget;
  /** DEPLOY_BASE_DIR as the test process sees it (the same machine). */
  baseDir: string;
  /** What the droplet must not read (the executor's data dir, database, keys…). */
  forbiddenPaths: string[];
  /** A value of the executor's own environment the droplet must not see. */
  executorSecret: string;
  /** The uid droplets must run as (not root). */
  runnerUid: number;
  close(): Promise<void>;
}

interface Tally {
  sent: number;
  failed: number;
  versions: Set<string>;
  errors: string[];
}

/** Sends requests to `url` one after another (two at a time) until stopped, counting failures. */
export function hammer(url: string): { stop(): Promise<Tally> } {
  const tally: Tally = { sent: 0, failed: 0, versions: new Set(), errors: [] };
  let running = true;
  const worker = async () => {
    while (running) {
      tally.sent += 1;
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        const body = (await response.json()) as { version?: string };
        if (response.status !== 200) throw new Error(`status ${response.status}`);
        if (body.version) tally.versions.add(body.version);
      } catch (error) {
        tally.failed += 1;
        if (tally.errors.length < 5) tally.errors.push((error as Error).message);
      }
    }
  };
  const workers = [worker(), worker()];
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      return tally;
    },
  };
}

const getJson = async (url: string) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

async function until<T>(probe: () => Promise<T | null>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== null) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const versionAt = (url: string) => until(async () => ((await getJson(url)).body.version as string) ?? null);

export function fleetDeploySuite(label: string, setup: () => Promise<FleetEnv>, dropletId: number): void {
  describe(`${label}: releases, switch, supervision and rollback`, () => {
    let env: FleetEnv;
    const droplet = new FleetDroplet({ dropletId, name: `fleet-${label}` });
    const releases: string[] = [];
    let url = '';

    beforeAll(async () => {
      env = await setup();
    }, 60_000);

    afterAll(async () => {
      killSupervisors(env.baseDir);
      await env.close();
    });

    const dropletDir = () => join(env.baseDir, droplet.identity.name);

    it('deploys a first release behind a supervisor, in the documented layout', async () => {
      const releaseId = droplet.releaseId();
      const deployment = await env.target.deploy(droplet.request(releaseId, droplet.commit('1.0.0')));
      releases.push(releaseId);
      url = deployment.url;
      expect(await versionAt(url)).toBe('1.0.0');
      expect(readlinkSync(join(dropletDir(), 'current'))).toBe(`releases/${releaseId}`);
      expect(existsSync(join(dropletDir(), 'shared', 'data'))).toBe(true);
      expect(existsSync(join(dropletDir(), 'shared', '.env'))).toBe(true);
      expect(deployment.supervisor).toBe('process');
      expect(deployment.pid).toBeGreaterThan(1);
    }, 60_000);

    it('redeploys on the same address with zero failed requests from a client hammering it', async () => {
      const load = hammer(url);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const releaseId = droplet.releaseId();
      const deployment = await env.target.deploy(droplet.request(releaseId, droplet.commit('2.0.0')));
      releases.push(releaseId);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const tally = await load.stop();
      expect(deployment.url).toBe(url);
      expect(tally.errors).toEqual([]);
      expect(tally.failed).toBe(0);
      expect([...tally.versions].sort()).toEqual(['1.0.0', '2.0.0']);
      expect(await versionAt(url)).toBe('2.0.0');
      console.log(`[${label}] redeploy under load: ${tally.sent} requests, ${tally.failed} failed`);
    }, 90_000);

    it('keeps the old release serving when the new one fails its health gate, and says why', async () => {
      const releaseId = droplet.releaseId();
      const failure = await env.target.deploy(droplet.request(releaseId, droplet.commit('3.0.0-broken', 'crash'))).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(StepError);
      expect((failure as StepError).code).toBe('DEPLOY_UNHEALTHY');
      expect((failure as StepError).message).toContain('boom at startup');
      expect(await versionAt(url)).toBe('2.0.0');
      expect(readlinkSync(join(dropletDir(), 'current'))).toBe(`releases/${releases[1]}`);
    }, 90_000);

    it('rolls back to the previous release and forward to a named one', async () => {
      const back = await env.target.rollback(droplet.identity, null);
      expect(back.releaseId).toBe(releases[0]);
      expect(await versionAt(url)).toBe('1.0.0');
      const forward = await env.target.rollback(droplet.identity, releases[1]!);
      expect(forward.releaseId).toBe(releases[1]);
      expect(await versionAt(url)).toBe('2.0.0');
      const view = await env.target.describe(droplet.identity);
      expect(view?.current?.releaseId).toBe(releases[1]);
      expect(view?.health.status).toBe('healthy');
      expect(view?.releases.find((release) => release.releaseId === releases[0])?.onHost).toBe(true);
    }, 90_000);

    it('starts each release from its own entry point, across a rollback', async () => {
      const moved = droplet.releaseId();
      await env.target.deploy(droplet.request(moved, droplet.commit('2.5.0', 'healthy', { main: 'lib/main.js' })));
      expect(await versionAt(url)).toBe('2.5.0');
      await env.target.rollback(droplet.identity, releases[1]!);
      expect(await versionAt(url)).toBe('2.0.0');
      // A crash of the older release restarts it from its own entry, not the newest one's.
      await fetch(`${url}/crash`).catch(() => {});
      expect(await versionAt(url)).toBe('2.0.0');
    }, 90_000);

    it('stops, starts and restarts (rolling, with no failed request)', async () => {
      await env.target.stop(droplet.identity);
      await expect(fetch(url, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
      expect((await env.target.describe(droplet.identity))?.health.status).toBe('stopped');
      await env.target.start(droplet.identity);
      expect(await versionAt(url)).toBe('2.0.0');
      const load = hammer(url);
      await env.target.restart(droplet.identity);
      const tally = await load.stop();
      expect(tally.failed).toBe(0);
      expect(tally.sent).toBeGreaterThan(0);
    }, 90_000);

    it('brings a crashed droplet back on its own', async () => {
      const before = (await getJson(url)).body.instance;
      await fetch(`${url}/crash`).catch(() => {});
      const after = await until(async () => {
        const { body } = await getJson(url);
        return body.instance !== before ? body.instance : null;
      });
      expect(after).not.toBe(before);
    }, 60_000);

    it('brings everything back after a simulated reboot (all killed), at reconciliation', async () => {
      expect(killSupervisors(env.baseDir)).toBeGreaterThan(0);
      await until(async () => ((await fetch(url, { signal: AbortSignal.timeout(1_000) }).then(() => false, () => true)) ? true : null));
      const outcomes = await env.target.reconcile();
      expect(outcomes.find((outcome) => outcome.dropletId === droplet.identity.dropletId)?.action).toBe('started');
      expect(await versionAt(url)).toBe('2.0.0');
    }, 60_000);

    it('keeps its records across releases and cannot reach the executor or write its release', async () => {
      await fetch(`${url}/note`, { method: 'POST', body: 'kept across releases' });
      const releaseId = droplet.releaseId();
      await env.target.deploy(droplet.request(releaseId, droplet.commit('4.0.0')));
      releases.push(releaseId);
      expect((await getJson(`${url}/notes`)).body.notes).toBe('kept across releases\n');
      const { body } = await getJson(`${url}/peek?paths=${encodeURIComponent(JSON.stringify(env.forbiddenPaths))}`);
      expect(body.uid).toBe(env.runnerUid);
      expect(body.uid).not.toBe(0);
      const reads = body.reads as Record<string, string>;
      // A masked directory reads as an empty one ("listed:0"); anything else readable is a leak.
      for (const path of env.forbiddenPaths) expect(`${path}: ${reads[path]}`).not.toMatch(/: (read:|listed:[1-9])/);
      expect(body.writeRelease).not.toBe('ok');
      expect(body.writeShared).toBe('ok');
      expect(body.rewriteEnv).not.toBe('ok');
      expect(JSON.stringify(body.env)).not.toContain(env.executorSecret);
    }, 90_000);

    it('keeps the last five releases on the host and removes older ones', async () => {
      for (let i = 0; i < 4; i++) {
        const releaseId = droplet.releaseId();
        await env.target.deploy(droplet.request(releaseId, droplet.commit(`5.${i}.0`)));
        releases.push(releaseId);
      }
      const view = await env.target.describe(droplet.identity);
      const keptOthers = view!.releases.filter((release) => release.onHost);
      expect(keptOthers).toHaveLength(4);
      expect(view?.releases.find((release) => release.releaseId === releases[0])?.onHost).toBe(false);
    }, 120_000);

    it('undeploys: stopped, its directory gone, and not live any more', async () => {
      await env.target.undeploy(droplet.identity);
      await expect(fetch(url, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
      expect(existsSync(dropletDir())).toBe(false);
      expect((await env.target.describe(droplet.identity))?.current).toBeNull();
    }, 60_000);
  });
}
