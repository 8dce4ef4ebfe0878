/**
 * Two edges of a deploy on the real `local` target: a deploy that fails its health gate
 * on a droplet stopped on request leaves it stopped (its supervisor start had woken the
 * old release up), and a prune that fails after the switch does not fail a deploy whose
 * release already serves. The prune failure is a real one: a log planted in logs/ that
 * the droplet's user, who removes logs, cannot remove (root owns it and what is in it).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeployTarget } from '../../src/domain/ports/deploy.js';
import { StepError } from '../../src/domain/errors.js';
import { hardenDataDir } from '../../src/sandbox/data-dir-modes.js';
import { deployTargetFor } from '../support/deploy-target.js';
import { FleetDroplet } from '../support/fleet-droplet.js';
import { killSupervisors } from '../support/supervisors.js';

let dataDir: string;
let baseDir: string;
let target: DeployTarget;
let closeTarget: () => Promise<void>;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'deploy-edge-'));
  ({ target, close: closeTarget } = await deployTargetFor(dataDir, {}));
  await hardenDataDir(dataDir);
  baseDir = join(dataDir, 'deployments');
}, 60_000);
afterAll(async () => {
  killSupervisors(baseDir);
  await closeTarget?.();
  rmSync(dataDir, { recursive: true, force: true });
});

const versionAt = async (url: string) => ((await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).json()) as { version: string }).version;

/** Whether the address refuses connections, asked until it does (a shutdown closes its port as it exits) or 10 s pass. */
async function refuses(url: string): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const refused = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      async (response) => (await response.body?.cancel(), false),
      (error: unknown) => ((error as { cause?: { code?: string } }).cause?.code ?? '') === 'ECONNREFUSED',
    );
    if (refused || Date.now() > deadline) return refused;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a failed deploy of a stopped droplet', () => {
  const droplet = new FleetDroplet({ dropletId: 71, name: 'edge-stopped' });

  it('leaves it stopped: its address refuses and its health says stopped; start brings the old release back', async () => {
    const live = droplet.releaseId();
    const { url } = await target.deploy(droplet.request(live, droplet.commit('1.0.0')));
    expect(await versionAt(url)).toBe('1.0.0');
    await target.stop(droplet.identity);
    expect(await refuses(url)).toBe(true);

    const failure = await target.deploy(droplet.request(droplet.releaseId(), droplet.commit('2.0.0-broken', 'crash'))).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StepError);
    expect((failure as StepError).code).toBe('DEPLOY_UNHEALTHY');

    expect(await refuses(url)).toBe(true);
    const view = await target.describe(droplet.identity);
    expect(view?.health.status).toBe('stopped');
    expect(view?.current?.releaseId).toBe(live);

    await target.start(droplet.identity);
    expect(await versionAt(url)).toBe('1.0.0');
  }, 120_000);
});

describe('a prune that fails', () => {
  const droplet = new FleetDroplet({ dropletId: 72, name: 'edge-prune' });

  it('does not fail the deploy: the new release serves and is recorded, and the failure is reported', async () => {
    const { url } = await target.deploy(droplet.request(droplet.releaseId(), droplet.commit('1.0.0')));
    const dir = join(baseDir, droplet.identity.name);
    // A release of no record (so prune removes it) whose log the droplet's user cannot remove.
    const stray = 'build-stray-from-nowhere';
    mkdirSync(join(dir, 'releases', stray));
    mkdirSync(join(dir, 'logs', `${stray}.log`), { mode: 0o755 });
    writeFileSync(join(dir, 'logs', `${stray}.log`, 'pinned'), 'root owns this');

    const progress: { message: string; data: unknown }[] = [];
    const releaseId = droplet.releaseId();
    const deployment = await target.deploy(
      droplet.request(releaseId, droplet.commit('2.0.0'), { onProgress: (message, data) => progress.push({ message, data }) }),
    );
    expect(deployment.releaseId).toBe(releaseId);
    expect(await versionAt(url)).toBe('2.0.0');
    expect((await target.describe(droplet.identity))?.current).toMatchObject({ releaseId, status: 'active' });
    const said = progress.find((entry) => entry.message === 'Old releases could not be removed');
    expect(said?.data).toMatchObject({ reason: expect.stringContaining(`${stray}.log`) as unknown });
    expect(existsSync(join(dir, 'logs', `${stray}.log`, 'pinned'))).toBe(true);
  }, 120_000);
});
