/**
 * One deploy of a droplet on a host at a time, on the `local` target (the lock is the
 * same host commands on every target): two deploys started together run one after the
 * other and leave one live release; a lock left by a dead deploy is broken once it is
 * older than DEPLOY_LOCK_STALE_SECONDS; a fresh lock held by someone else makes a deploy
 * wait DEPLOY_LOCK_WAIT_SECONDS and fail DEPLOY_LOCKED without touching the host.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/composition/config.js';
import { createDeployTarget } from '../../src/composition/deploy.js';
import { createDependencyStore } from '../../src/composition/providers.js';
import { prepareSandbox } from '../../src/composition/sandbox.js';
import type { DeployTarget } from '../../src/domain/ports/deploy.js';
import { StepError } from '../../src/domain/errors.js';
import { hardenDataDir } from '../../src/sandbox/data-dir-modes.js';
import { openDatabase } from '../../src/store/db.js';
import { DeploymentStore } from '../../src/store/deployments.js';
import { FleetDroplet } from '../support/fleet-droplet.js';
import { eventually } from '../support/processes.js';
import { killSupervisors } from '../support/supervisors.js';

interface LocalEnv {
  target: DeployTarget;
  store: DeploymentStore;
  baseDir: string;
  close(): Promise<void>;
}

async function localEnv(extra: Record<string, string>): Promise<LocalEnv> {
  const dataDir = mkdtempSync(join(tmpdir(), 'deploy-lock-'));
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', START_TIMEOUT_SECONDS: '10', ...extra });
  const db = openDatabase(join(dataDir, 'executor.db'));
  await hardenDataDir(dataDir);
  const log = pino({ level: 'silent' });
  const { choice } = prepareSandbox(config, log);
  const target = (await createDeployTarget(config, { db, dependencies: createDependencyStore(config), sandbox: choice, redact: (text) => text, log }))!;
  const baseDir = join(dataDir, 'deployments');
  return {
    target,
    store: new DeploymentStore(db),
    baseDir,
    async close() {
      killSupervisors(baseDir);
      await target.close();
      db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const versionAt = async (url: string) => ((await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).json()) as { version: string }).version;

/** What a droplet's host and record say is live: one active record, `current`, and the backends its supervisor runs. */
async function liveState(env: LocalEnv, droplet: FleetDroplet) {
  const dir = join(env.baseDir, droplet.identity.name);
  const records = env.store.listForDroplet(droplet.identity.dropletId).filter((record) => record.status === 'active' || record.status === 'stopped');
  const backends = () => (JSON.parse(readFileSync(join(dir, 'run', 'backends.json'), 'utf8')) as { release: string }[]).map((backend) => backend.release);
  // The old backend is drained and stopped as the switch answers; its record goes when it has exited.
  await eventually(() => backends().length === 1, 15_000);
  return { live: records.map((record) => record.releaseId), current: readlinkSync(join(dir, 'current')), backends: backends() };
}

/** Plants a lock as a deploy of another executor would have left it; `age` is handed to `touch -d`. */
function plantLock(env: LocalEnv, droplet: FleetDroplet, holder: string, age: string | null): string {
  const lockDir = join(env.baseDir, droplet.identity.name, '.deploy-lock');
  mkdirSync(lockDir, { recursive: true });
  const owner = JSON.stringify({ release: holder, action: 'deploy', at: new Date().toISOString() });
  writeFileSync(join(lockDir, 'owner'), owner);
  if (age !== null) execFileSync('touch', ['-d', age, join(lockDir, 'owner')]);
  return owner;
}

describe('deploy lock: two deploys started together', () => {
  let env: LocalEnv;
  const droplet = new FleetDroplet({ dropletId: 61, name: 'lock-race' });

  beforeAll(async () => {
    env = await localEnv({});
  }, 60_000);
  afterAll(async () => env?.close());

  it('never interleave: all of one deploy happens before the other starts, and one release is live at the end', async () => {
    const order: string[] = [];
    const releases = [droplet.releaseId(), droplet.releaseId()] as const;
    const commits = [droplet.commit('1.0.0'), droplet.commit('2.0.0')] as const;
    const [first, second] = await Promise.all(
      [0, 1].map((index) =>
        env.target.deploy(droplet.request(releases[index]!, commits[index]!, { onProgress: (message) => order.push(`${index}:${message}`) })),
      ),
    );
    // Progress is only reported inside the lock: the deploys' messages form two runs, never a mixture.
    const runs = order.map((entry) => entry.split(':')[0]).filter((owner, at, all) => at === 0 || owner !== all[at - 1]);
    expect(runs, order.join('\n')).toHaveLength(2);
    for (const index of [0, 1]) expect(order).toContain(`${index}:Traffic switched to the new release`);
    expect(first!.url).toBe(second!.url);

    const lastIndex = Number(runs[1]);
    const last = releases[lastIndex]!;
    expect(await liveState(env, droplet)).toEqual({ live: [last], current: `releases/${last}`, backends: [last] });
    expect(await versionAt(first!.url)).toBe(lastIndex === 0 ? '1.0.0' : '2.0.0');
    expect(existsSync(join(env.baseDir, droplet.identity.name, '.deploy-lock'))).toBe(false);
  }, 120_000);
});

describe('deploy lock: left behind or held by another deploy', () => {
  let env: LocalEnv;
  const droplet = new FleetDroplet({ dropletId: 62, name: 'lock-held' });
  let url = '';
  let liveRelease = '';

  beforeAll(async () => {
    env = await localEnv({ DEPLOY_LOCK_STALE_SECONDS: '60', DEPLOY_LOCK_WAIT_SECONDS: '2' });
    liveRelease = droplet.releaseId();
    url = (await env.target.deploy(droplet.request(liveRelease, droplet.commit('1.0.0')))).url;
  }, 90_000);
  afterAll(async () => env?.close());

  it('breaks a lock older than DEPLOY_LOCK_STALE_SECONDS (its deploy died) and deploys', async () => {
    plantLock(env, droplet, 'build-of-a-dead-executor', '2 hours ago');
    const releaseId = droplet.releaseId();
    const deployment = await env.target.deploy(droplet.request(releaseId, droplet.commit('2.0.0')));
    expect(deployment.releaseId).toBe(releaseId);
    expect(await versionAt(url)).toBe('2.0.0');
    expect(existsSync(join(env.baseDir, droplet.identity.name, '.deploy-lock'))).toBe(false);
    liveRelease = releaseId;
  }, 90_000);

  it('waits for a fresh lock of another deploy, then fails DEPLOY_LOCKED naming the holder, leaving the host as it was', async () => {
    const owner = plantLock(env, droplet, 'build-of-another-executor', '10 seconds ago');
    const progress: string[] = [];
    const releaseId = droplet.releaseId();
    const commit = droplet.commit('3.0.0');
    const failure = await env.target
      .deploy(droplet.request(releaseId, commit, { onProgress: (message) => progress.push(message) }))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StepError);
    expect((failure as StepError).code).toBe('DEPLOY_LOCKED');
    expect((failure as StepError).message).toContain('build-of-another-executor');
    expect((failure as StepError).details).toMatchObject({ holder: 'build-of-another-executor' });
    expect(progress).toEqual([]);
    const dir = join(env.baseDir, droplet.identity.name);
    expect(readFileSync(join(dir, '.deploy-lock', 'owner'), 'utf8')).toBe(owner);
    expect(existsSync(join(dir, 'releases', releaseId))).toBe(false);
    expect(env.store.findByRelease(releaseId)).toBeNull();
    expect(await liveState(env, droplet)).toEqual({ live: [liveRelease], current: `releases/${liveRelease}`, backends: [liveRelease] });
    expect(await versionAt(url)).toBe('2.0.0');

    // Once its holder lets go, the same release deploys.
    rmSync(join(dir, '.deploy-lock'), { recursive: true });
    await env.target.deploy(droplet.request(releaseId, commit));
    expect(await versionAt(url)).toBe('3.0.0');
  }, 90_000);

  it('holds lifecycle actions to the same lock', async () => {
    plantLock(env, droplet, 'build-of-another-executor', null);
    const failure = await env.target.restart(droplet.identity).catch((error: unknown) => error);
    expect((failure as StepError).code).toBe('DEPLOY_LOCKED');
    rmSync(join(env.baseDir, droplet.identity.name, '.deploy-lock'), { recursive: true });
  }, 60_000);
});
