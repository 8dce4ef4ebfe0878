/**
 * The `ssh` target against REAL OpenSSH servers on loopback (test/support/sshd.ts), at the
 * level of the deploy target the executor builds from its configuration:
 * - host keys: a mismatched pin (fingerprint or known_hosts) and an unpinned host are
 *   refused before authentication (the server's VERBOSE log shows no key offered) and
 *   nothing is written on the host; accept-new records the key, then pins it;
 * - several hosts (DEPLOY_HOSTS): two users on one sshd are two hosts, since the base dir
 *   is `droplets` under each login's home. Placement, a redeploy that stays, a move;
 * - production dependencies installed on the host with npm, once per lockfile.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StepError } from '../../src/domain/errors.js';
import { deployTargetFor, homeOf, type TestDeployTarget } from '../support/deploy-target.js';
import { FleetDroplet } from '../support/fleet-droplet.js';
import { eventually } from '../support/processes.js';
import { startSshd, type TestSshd } from '../support/sshd.js';
import { killSupervisors } from '../support/supervisors.js';

/** A real ed25519 key that no server here holds. */
const OTHER_FINGERPRINT = 'SHA256:xG6tCfIY9IabiFXwmwZEwaAb2VWHEh01Ilql/xMvNQs';
const OTHER_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMSIqNJnJlshsPkNW1zZHqrowOZG9cetW1iOV9rPok1r';

/** The deploy target the executor builds for DEPLOY_TARGET=ssh with these variables, over `dataDir`. */
const sshTarget = (dataDir: string, vars: Record<string, string>) =>
  deployTargetFor(dataDir, { DEPLOY_TARGET: 'ssh', DEPLOY_BIND_HOST: '127.0.0.1', DEPLOY_NODE_PATH: process.execPath, ...vars });

const serverVars = (server: TestSshd): Record<string, string> => ({ SSH_HOST: server.host, SSH_PORT: String(server.port), SSH_USER: server.user, SSH_KEY_PATH: server.keyPath });

/** sshd's log since `offset`, once the refused connection has ended: it got no further than the key exchange. */
async function expectRefusedBeforeAuthentication(server: TestSshd, offset: number): Promise<void> {
  const delta = () => server.readLog().slice(offset);
  expect(await eventually(() => /Disconnected from 127\.0\.0\.1 port \d+ \[preauth\]/.test(delta()), 10_000), delta()).toBe(true);
  expect(delta()).not.toMatch(/publickey|Accepted|Postponed|Failed/);
  expect(delta()).not.toContain(server.keyFingerprint);
  expect(delta()).not.toContain(`for ${server.user}`);
}

async function expectHostKeyRefused(deploy: Promise<unknown>, reason: 'HOST_KEY_MISMATCH' | 'HOST_KEY_UNKNOWN'): Promise<void> {
  const failure = await deploy.catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(StepError);
  expect((failure as StepError).code).toBe('DEPLOY_HOST_KEY_REFUSED');
  expect((failure as StepError).details).toMatchObject({ reason });
}

const getJson = async (url: string) => (await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).json()) as Record<string, unknown>;

describe('ssh target: host keys', () => {
  const USER = 'executor-hostkeys';
  const droplet = new FleetDroplet({ dropletId: 71, name: 'hostkey-probe' });
  let sshd: TestSshd;
  let baseDir: string;
  const dataDirs: string[] = [];
  const freshDataDir = () => {
    dataDirs.push(mkdtempSync(join(tmpdir(), 'ssh-hostkeys-')));
    return dataDirs.at(-1)!;
  };
  /** One deploy to the server as it is now, with these variables over `dataDir`; the target is closed after. */
  const deployWith = async (dataDir: string, vars: Record<string, string>) => {
    const env = await sshTarget(dataDir, { ...serverVars(sshd), ...vars });
    try {
      return await env.target.deploy(droplet.request(droplet.releaseId(), droplet.commit('1.0.0')));
    } finally {
      await env.close();
    }
  };

  beforeAll(async () => {
    sshd = await startSshd({ user: USER });
    baseDir = join(homeOf(USER), 'droplets');
    rmSync(baseDir, { recursive: true, force: true });
  }, 60_000);

  afterAll(async () => {
    killSupervisors(baseDir);
    await sshd?.stop();
    rmSync(baseDir, { recursive: true, force: true });
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a host whose key is not SSH_HOST_FINGERPRINT before authentication, and writes nothing there', async () => {
    const offset = sshd.readLog().length;
    await expectHostKeyRefused(deployWith(freshDataDir(), { SSH_HOST_FINGERPRINT: OTHER_FINGERPRINT }), 'HOST_KEY_MISMATCH');
    await expectRefusedBeforeAuthentication(sshd, offset);
    expect(existsSync(baseDir)).toBe(false);
  }, 60_000);

  it('refuses a host that SSH_KNOWN_HOSTS knows under another key, before authentication, and leaves the file as it was', async () => {
    const dataDir = freshDataDir();
    const knownHosts = join(dataDir, 'pinned_hosts');
    writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${OTHER_KEY}\n`);
    const offset = sshd.readLog().length;
    await expectHostKeyRefused(deployWith(dataDir, { SSH_KNOWN_HOSTS: knownHosts, SSH_ACCEPT_NEW_HOST_KEY: 'true' }), 'HOST_KEY_MISMATCH');
    await expectRefusedBeforeAuthentication(sshd, offset);
    expect(readFileSync(knownHosts, 'utf8')).toBe(`[127.0.0.1]:${sshd.port} ${OTHER_KEY}\n`);
    expect(existsSync(baseDir)).toBe(false);
  }, 60_000);

  it('refuses a host with no pin unless SSH_ACCEPT_NEW_HOST_KEY=true, recording nothing', async () => {
    const dataDir = freshDataDir();
    const offset = sshd.readLog().length;
    await expectHostKeyRefused(deployWith(dataDir, {}), 'HOST_KEY_UNKNOWN');
    await expectRefusedBeforeAuthentication(sshd, offset);
    expect(existsSync(join(dataDir, 'known_hosts'))).toBe(false);
    expect(existsSync(baseDir)).toBe(false);
  }, 60_000);

  it('with SSH_ACCEPT_NEW_HOST_KEY=true records the key in DATA_DIR/known_hosts at the first deploy, then refuses another key on that port', async () => {
    const dataDir = freshDataDir();
    const deployment = await deployWith(dataDir, { SSH_ACCEPT_NEW_HOST_KEY: 'true' });
    expect((await getJson(deployment.url)).version).toBe('1.0.0');
    const recorded = `${sshd.knownHostsLine}\n`;
    expect(readFileSync(join(dataDir, 'known_hosts'), 'utf8')).toBe(recorded);

    // The same address now answers with another host key: an impostor, or a reinstalled host.
    killSupervisors(baseDir);
    const { port, hostKeyFingerprint: firstKey } = sshd;
    await sshd.stop();
    sshd = await startSshd({ user: USER, port });
    expect(sshd.hostKeyFingerprint).not.toBe(firstKey);
    const offset = sshd.readLog().length;
    const releasesBefore = readdirSync(join(baseDir, droplet.identity.name, 'releases'));
    await expectHostKeyRefused(deployWith(dataDir, { SSH_ACCEPT_NEW_HOST_KEY: 'true' }), 'HOST_KEY_MISMATCH');
    await expectRefusedBeforeAuthentication(sshd, offset);
    expect(readFileSync(join(dataDir, 'known_hosts'), 'utf8')).toBe(recorded);
    expect(readdirSync(join(baseDir, droplet.identity.name, 'releases'))).toEqual(releasesBefore);
  }, 90_000);
});

/** Commits a manifest with a dev dependency and install scripts (lockfile resolved by npm): what `--omit=dev --ignore-scripts` keeps off the host. */
function commitDevDependencyAndScripts(droplet: FleetDroplet): string {
  const manifestPath = join(droplet.dir, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
  manifest.devDependencies = { isarray: '2.0.5' };
  manifest.scripts = { preinstall: 'touch preinstall-ran', postinstall: 'touch postinstall-ran' };
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  execFileSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: droplet.dir, stdio: 'ignore' });
  const git = (args: string[]) => execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@localhost', ...args], { cwd: droplet.dir, encoding: 'utf8' }).trim();
  git(['commit', '-qam', 'a dev dependency and install scripts']);
  return git(['rev-parse', 'HEAD']);
}

describe('ssh target: several hosts (DEPLOY_HOSTS)', () => {
  // One sshd, two logins: two hosts to the executor (each base dir is `droplets` in its login's home).
  const USERS = ['executor-hosts-a', 'executor-hosts-b'] as const;
  let sshd: TestSshd;
  let env: TestDeployTarget;
  let labels: readonly string[];
  let bases: string[];
  const dataDir = mkdtempSync(join(tmpdir(), 'ssh-hosts-'));
  const uidOf = (user: string) => Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());

  beforeAll(async () => {
    sshd = await startSshd({ user: USERS[0] });
    await sshd.authorize(USERS[1]);
    // The executor has one key (SSH_KEY_PATH): authorize it for the second login too.
    copyFileSync(`${sshd.keyPath}.pub`, join(dirname(sshd.logFile), 'authorized_keys', USERS[1]));
    bases = USERS.map((user) => join(homeOf(user), 'droplets'));
    for (const base of bases) rmSync(base, { recursive: true, force: true });
    const hosts = USERS.map((user) => `${user}@127.0.0.1:${sshd.port}`).join(',');
    env = await sshTarget(dataDir, { DEPLOY_HOSTS: hosts, SSH_KEY_PATH: sshd.keyPath, SSH_HOST_FINGERPRINT: sshd.hostKeyFingerprint });
    labels = env.target.hosts;
  }, 60_000);

  afterAll(async () => {
    for (const base of bases ?? []) killSupervisors(base);
    await env?.close();
    await sshd?.stop();
    for (const base of bases ?? []) rmSync(base, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  const alpha = new FleetDroplet({ dropletId: 72, name: 'hosts-alpha' });
  const beta = new FleetDroplet({ dropletId: 73, name: 'hosts-beta' });
  let alphaUrl = '';

  it('places two droplets on different hosts, the one with the fewest droplets first, and runs each as its host login', async () => {
    expect(labels).toEqual(USERS.map((user) => `${user}@127.0.0.1:${sshd.port}`));
    const first = await env.target.deploy(alpha.request(alpha.releaseId(), alpha.commit('1.0.0')));
    const second = await env.target.deploy(beta.request(beta.releaseId(), beta.commit('1.0.0')));
    expect([first.host, second.host]).toEqual([labels[0], labels[1]]);
    expect(readlinkSync(join(bases[0]!, 'hosts-alpha', 'current'))).toBe(`releases/${first.releaseId}`);
    expect(readlinkSync(join(bases[1]!, 'hosts-beta', 'current'))).toBe(`releases/${second.releaseId}`);
    expect(existsSync(join(bases[1]!, 'hosts-alpha'))).toBe(false);
    expect(existsSync(join(bases[0]!, 'hosts-beta'))).toBe(false);
    expect(lstatSync(join(bases[0]!, 'hosts-alpha', 'releases', first.releaseId)).uid).toBe(uidOf(USERS[0]));
    expect(lstatSync(join(bases[1]!, 'hosts-beta', 'releases', second.releaseId)).uid).toBe(uidOf(USERS[1]));
    expect((await getJson(first.url)).version).toBe('1.0.0');
    expect((await getJson(second.url)).version).toBe('1.0.0');
    alphaUrl = first.url;
  }, 90_000);

  it('redeploys a droplet on the host it runs on, at the same address', async () => {
    const again = await env.target.deploy(alpha.request(alpha.releaseId(), alpha.commit('2.0.0')));
    expect(again.host).toBe(labels[0]);
    expect(again.url).toBe(alphaUrl);
    expect((await getJson(alphaUrl)).version).toBe('2.0.0');
  }, 90_000);

  it('moves a droplet to the host a request names: it serves there, and its copy on the old host is gone', async () => {
    const moved = await env.target.deploy(alpha.request(alpha.releaseId(), alpha.commit('3.0.0'), { host: labels[1]! }));
    expect(moved.host).toBe(labels[1]);
    // Its old port was still taken on the machine when the new host's port was chosen.
    expect(moved.url).not.toBe(alphaUrl);
    expect((await getJson(moved.url)).version).toBe('3.0.0');
    expect(existsSync(join(bases[0]!, 'hosts-alpha'))).toBe(false);
    await expect(fetch(alphaUrl, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
    const view = await env.target.describe(alpha.identity);
    expect(view?.current).toMatchObject({ host: labels[1], releaseId: moved.releaseId, url: moved.url });
    expect(view?.health.status).toBe('healthy');
    expect((await env.target.describe(beta.identity))?.current?.host).toBe(labels[1]);
    await expect(env.target.deploy(alpha.request(alpha.releaseId(), alpha.commit('3.0.1'), { host: 'nobody@nowhere:22' }))).rejects.toMatchObject({ code: 'DEPLOY_UNKNOWN_HOST' });
  }, 90_000);

  it('puts a new droplet on the host with the fewest droplets: the one the move emptied', async () => {
    const gamma = new FleetDroplet({ dropletId: 75, name: 'hosts-gamma' });
    const placed = await env.target.deploy(gamma.request(gamma.releaseId(), gamma.commit('1.0.0')));
    expect(placed.host).toBe(labels[0]);
    expect(existsSync(join(bases[0]!, 'hosts-gamma', 'current'))).toBe(true);
  }, 90_000);

  it('installs production dependencies on the host with npm from the lockfile, once per lockfile', async () => {
    const withDependency = new FleetDroplet({ dropletId: 74, name: 'hosts-dependency' });
    const modulesDir = join(bases[0]!, '.executor', 'modules');
    const deployOnce = async (commit: string) => {
      const messages: string[] = [];
      const deployment = await env.target.deploy(withDependency.request(withDependency.releaseId(), commit, { host: labels[0]!, onProgress: (message) => messages.push(message) }));
      return { deployment, messages };
    };

    const first = await deployOnce(withDependency.commit('1.0.0', 'healthy', { dependency: true }));
    expect(first.messages).toContain('Dependencies installed');
    expect(await getJson(first.deployment.url)).toMatchObject({ version: '1.0.0', dependency: true });
    const entries = readdirSync(modulesDir);
    expect(entries).toHaveLength(1);
    // Keyed by the lockfile's tree, installed by `npm ci` from that lockfile, linked into the release.
    expect(entries[0]).toMatch(/^lock-[0-9a-f]{24}$/);
    expect(readdirSync(join(modulesDir, entries[0]!)).sort()).toEqual(['node_modules', 'package-lock.json', 'package.json']);
    expect(existsSync(join(modulesDir, entries[0]!, 'node_modules', 'is-number', 'package.json'))).toBe(true);
    const release = join(bases[0]!, 'hosts-dependency', 'releases', first.deployment.releaseId);
    expect(readlinkSync(join(release, 'node_modules'))).toBe(join(modulesDir, entries[0]!, 'node_modules'));

    const second = await deployOnce(withDependency.commit('1.1.0', 'healthy', { dependency: true }));
    expect(second.messages).not.toContain('Dependencies installed');
    expect(second.messages).toContain('Installing dependencies');
    expect(readdirSync(modulesDir)).toEqual(entries);
    expect(await getJson(second.deployment.url)).toMatchObject({ version: '1.1.0', dependency: true });

    // Another lockfile is another entry: production dependencies only, and no package script ran.
    const third = await deployOnce(commitDevDependencyAndScripts(withDependency));
    expect(third.messages).toContain('Dependencies installed');
    const added = readdirSync(modulesDir).filter((entry) => !entries.includes(entry));
    expect(added).toHaveLength(1);
    expect(readdirSync(join(modulesDir, added[0]!, 'node_modules')).filter((name) => !name.startsWith('.'))).toEqual(['is-number']);
    expect(readdirSync(join(modulesDir, added[0]!)).filter((name) => name.endsWith('-ran'))).toEqual([]);
    expect(await getJson(third.deployment.url)).toMatchObject({ dependency: true });
  }, 180_000);
});
