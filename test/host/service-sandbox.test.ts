/**
 * A deployed droplet's least privilege on this host, for real: a real unprivileged user,
 * real bubblewrap, a data dir laid out like the executor's and hardened as at its start.
 * The droplet reaches its release, its dependencies and its shared/ directory, serves on
 * loopback, and reaches nothing of the executor. Without bubblewrap, the modes alone
 * still keep the executor's database, repositories, HOME key and .env from it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureRunnerUser, type RunnerUser } from '../../src/deploy/runner-user.js';
import { executorSecretPaths } from '../../src/sandbox/bubblewrap.js';
import { hardenDataDir } from '../../src/sandbox/data-dir-modes.js';
import { freePort } from '../../src/sandbox/ports.js';
import { DROPLET_HOME, probeServiceSandbox, serviceSandboxArgv } from '../../src/sandbox/service-sandbox.js';
import { eventually, isAlive } from '../support/processes.js';

/** Made for this test only, removed afterwards. */
const RUNNER_NAME = 'executor-droplet-test';
const SECRET = 'executor-secret-3f9a7c21d6e4b805';
const STORE_KEY = 'a1b2c3d4e5f6a1b2c3d4e5f6';

interface ProbePaths {
  dataDir: string;
  executorDb: string;
  repos: string;
  repoFile: string;
  dependencies: string;
  storeManifests: string;
  otherShared: string;
  shared: string;
  dotEnv: string;
  homeKey: string;
  executorPid: number;
  sentinelPid: number;
}

type Attempt = { ok: true; value: string } | { ok: false; code: string };
type ProbeReport = Record<string, Attempt> & { uid: number; gid: number; cwd: string; env: Record<string, string>; environs: string[] };

/**
 * The droplet: tries everything at start, serves the outcome at GET /report, and on
 * SIGTERM leaves a note in shared/ a moment later (a graceful stop), then exits.
 */
const PROBE_SERVER = `'use strict';
const fs = require('node:fs');
const http = require('node:http');
const probe = JSON.parse(fs.readFileSync(__dirname + '/probe.json', 'utf8'));
const attempt = (fn) => { try { return { ok: true, value: String(fn()) }; } catch (error) { return { ok: false, code: error.code ?? String(error) }; } };
const read = (path) => attempt(() => fs.readFileSync(path, 'utf8'));
const list = (path) => attempt(() => fs.readdirSync(path).sort().join(','));
const write = (path) => attempt(() => { fs.writeFileSync(path, 'written by the droplet'); return 'written'; });
const environs = fs.readdirSync('/proc').filter((name) => /^\\d+$/.test(name)).flatMap((pid) => {
  try { return [fs.readFileSync('/proc/' + pid + '/environ', 'utf8')]; } catch { return []; }
});
const report = {
  uid: process.getuid(), gid: process.getgid(), cwd: process.cwd(), env: { ...process.env }, environs,
  ownRelease: attempt(() => (fs.readFileSync(__filename, 'utf8').includes('use strict') ? 'read' : 'garbled')),
  dependency: attempt(() => require('some-pkg')),
  sharedWrite: write(probe.shared + '/data/note.txt'),
  homeWrite: write(process.env.HOME + '/note.txt'),
  tmpWrite: write('/tmp/note.txt'),
  releaseWrite: write(__filename),
  releaseOwnedWrite: write(__dirname + '/owned-by-runner.txt'),
  releaseCreate: write(__dirname + '/planted.js'),
  executorDb: read(probe.executorDb),
  dataDirList: list(probe.dataDir),
  reposList: list(probe.repos),
  repoFile: read(probe.repoFile),
  storeManifests: list(probe.storeManifests),
  otherShared: read(probe.otherShared),
  dotEnv: read(probe.dotEnv),
  homeKey: read(probe.homeKey),
  rootList: list('/root'),
  executorEnviron: read('/proc/' + probe.executorPid + '/environ'),
  sentinelEnviron: read('/proc/' + probe.sentinelPid + '/environ'),
};
const server = http.createServer((request, response) => response.end(JSON.stringify(report)));
server.listen(Number(process.env.SERVICE_PORT), process.env.HOST);
process.on('SIGTERM', () => setTimeout(() => {
  fs.writeFileSync(probe.shared + '/data/stopped.txt', 'stopped gracefully');
  process.exit(0);
}, 300));
`;

let root: string;
let dataDir: string;
let runner: RunnerUser;
let release: string;
let shared: string;
let paths: ProbePaths;
let sentinel: ChildProcess;

/** Writes `content` at `path`, making its directory. */
function put(path: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
}

/** The executor's data dir as it looks in use, plus its working directory `.env` and its HOME. */
function layOutExecutor(): void {
  dataDir = join(root, 'data');
  put(join(dataDir, 'executor.db'), `SQLite format 3\0${SECRET}`);
  put(join(dataDir, 'executor.db-wal'), SECRET);
  put(join(dataDir, 'executor.lock'), String(process.pid));
  put(join(dataDir, 'repos/1-alpha/src/server.js'), `// ${SECRET}\n`);
  const entry = join(dataDir, 'dependencies', STORE_KEY);
  put(join(entry, 'package-lock.json'), '{}');
  put(join(entry, 'node_modules/some-pkg/package.json'), '{"name":"some-pkg","version":"1.0.0","main":"index.js"}');
  put(join(entry, 'node_modules/some-pkg/index.js'), "module.exports = 'from the dependency store';\n");
  put(join(dataDir, 'dependencies/manifests/0123'), STORE_KEY);
  mkdirSync(join(dataDir, 'dependencies/.staging-0a1b2c'), { recursive: true });

  release = join(dataDir, 'deployments/alpha/releases/b1');
  put(join(release, 'package.json'), '{"name":"alpha","version":"1.0.0"}');
  put(join(release, 'src/server.js'), PROBE_SERVER);
  put(join(release, 'src/owned-by-runner.txt'), 'the release stays as verified\n');
  chownSync(join(release, 'src/owned-by-runner.txt'), runner.uid, runner.gid);
  symlinkSync(join(entry, 'node_modules'), join(release, 'node_modules'), 'dir');
  shared = join(dataDir, 'deployments/alpha/shared');
  mkdirSync(join(shared, 'data'), { recursive: true });
  for (const dir of [shared, join(shared, 'data')]) chownSync(dir, runner.uid, runner.gid);
  const otherShared = join(dataDir, 'deployments/beta/shared');
  put(join(otherShared, 'secret.txt'), SECRET, 0o600);
  for (const path of [otherShared, join(otherShared, 'secret.txt')]) chownSync(path, runner.uid, runner.gid);

  const cwd = join(root, 'executor-cwd');
  put(join(cwd, '.env'), `API_TOKEN=${SECRET}\n`);
  const home = join(root, 'executor-home');
  put(join(home, '.ssh/id_ed25519'), `-----BEGIN OPENSSH PRIVATE KEY-----\n${SECRET}\n`, 0o600);
  chmodSync(home, 0o700); // as /root is

  paths = {
    dataDir,
    executorDb: join(dataDir, 'executor.db'),
    repos: join(dataDir, 'repos'),
    repoFile: join(dataDir, 'repos/1-alpha/src/server.js'),
    dependencies: join(dataDir, 'dependencies'),
    storeManifests: join(dataDir, 'dependencies/manifests'),
    otherShared: join(otherShared, 'secret.txt'),
    shared,
    dotEnv: join(cwd, '.env'),
    homeKey: join(home, '.ssh/id_ed25519'),
    executorPid: process.pid,
    sentinelPid: sentinel.pid!,
  };
  put(join(release, 'src/probe.json'), JSON.stringify(paths));
}

beforeAll(async () => {
  runner = await ensureRunnerUser(RUNNER_NAME);
  root = mkdtempSync('/tmp/service-sandbox-');
  chmodSync(root, 0o711); // the droplet user traverses to DATA_DIR, as through /srv or /var/lib
  // An executor-owned process holding a secret in its environment, like the executor itself.
  sentinel = spawn('sleep', ['600'], { env: { PATH: process.env.PATH, SENTINEL_TOKEN: SECRET }, stdio: 'ignore' });
  process.env.EXECUTOR_CANARY = SECRET;
  layOutExecutor();
  await hardenDataDir(dataDir, { secretFiles: [paths.dotEnv] });
});

afterAll(() => {
  sentinel?.kill('SIGKILL');
  delete process.env.EXECUTOR_CANARY;
  if (root) rmSync(root, { recursive: true, force: true });
  execFileSync('userdel', [RUNNER_NAME]);
});

/** Every `{release}` replaced, as the supervisor does at each start. */
const substitute = (argv: readonly string[], releaseDir: string) => argv.map((arg) => arg.split('{release}').join(releaseDir));

/** Starts the probe server as the runner user under `prefix` (nothing, or the sandbox) and fetches its report. */
async function runProbe(prefix: readonly string[]): Promise<{ report: ProbeReport; env: Record<string, string>; child: ChildProcess }> {
  const port = await freePort();
  const env = { PATH: '/usr/bin:/bin', HOME: DROPLET_HOME, LANG: 'C.UTF-8', SERVICE_PORT: String(port), HOST: '127.0.0.1' };
  const real = realpathSync(release);
  const argv = substitute([...prefix, process.execPath, '{release}/src/server.js'], real);
  const child = spawn(argv[0]!, argv.slice(1), { uid: runner.uid, gid: runner.gid, env, cwd: real, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let report: ProbeReport | null = null;
  for (let attempt = 0; attempt < 150 && report === null && child.exitCode === null; attempt += 1) {
    report = await fetch(`http://127.0.0.1:${port}/report`).then((response) => response.json() as Promise<ProbeReport>, () => null);
    if (report === null) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (report === null) throw new Error(`the probe never answered: ${stderr}`);
  return { report, env, child };
}

/** SIGTERM to the group, as the supervisor stops a backend; resolves once it exited. */
async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
  await exited;
}

const denied = (code: string) => ({ ok: false, code });

describe('a droplet in its service sandbox, as the runner user', () => {
  let report: ProbeReport;
  let env: Record<string, string>;
  let child: ChildProcess;
  beforeAll(async () => ({ report, env, child } = await runProbe(serviceSandboxArgv({
    hiddenPaths: executorSecretPaths({ dataDir, homeDir: join(root, 'executor-home'), cwd: join(root, 'executor-cwd') }),
    release: '{release}',
    shared,
    readOnly: [join(dataDir, 'dependencies')],
  }))));

  it('runs as the unprivileged user in its release, and serves on a loopback port reachable from outside', () => {
    expect(report.uid).toBe(runner.uid);
    expect(report.gid).toBe(runner.gid);
    expect(runner.uid).not.toBe(0);
    expect(report.cwd).toBe(realpathSync(release));
  });

  it('reads its release and requires a package through its node_modules link into the dependency store', () => {
    expect(report.ownRelease).toEqual({ ok: true, value: 'read' });
    expect(report.dependency).toEqual({ ok: true, value: 'from the dependency store' });
  });

  it('writes to shared/, its private HOME and /tmp, and to nothing of its release', () => {
    expect(report.sharedWrite).toEqual({ ok: true, value: 'written' });
    expect(readFileSync(join(shared, 'data/note.txt'), 'utf8')).toBe('written by the droplet');
    expect(report.homeWrite).toEqual({ ok: true, value: 'written' });
    expect(report.tmpWrite).toEqual({ ok: true, value: 'written' });
    // Read-only as a mount, whatever the file's owner: even the file the runner owns.
    expect(report.releaseWrite).toEqual(denied('EROFS'));
    expect(report.releaseOwnedWrite).toEqual(denied('EROFS'));
    expect(report.releaseCreate).toEqual(denied('EROFS'));
    expect(readFileSync(join(release, 'src/owned-by-runner.txt'), 'utf8')).toBe('the release stays as verified\n');
  });

  it("cannot see the executor's database, repositories, store internals or the other droplet's shared/", () => {
    expect(report.executorDb).toEqual(denied('ENOENT'));
    expect(report.reposList).toEqual(denied('ENOENT'));
    expect(report.repoFile).toEqual(denied('ENOENT'));
    // The store is bound whole (release links point anywhere in it): its internals are the executor's by mode.
    expect(report.storeManifests).toEqual(denied('EACCES'));
    expect(report.otherShared).toEqual(denied('ENOENT'));
    // Of the data dir, only what was bound back: the store and this droplet's deployment path.
    expect(report.dataDirList).toEqual({ ok: true, value: 'dependencies,deployments' });
  });

  it("cannot read the executor's .env or HOME key", () => {
    // /dev/null in its place, on a nodev mount: it cannot even be opened.
    expect(report.dotEnv).toEqual(denied('EACCES'));
    expect(report.homeKey).toEqual(denied('ENOENT'));
  });

  it("sees none of the executor's processes or environment: its own env is exactly what it was given", () => {
    expect(report.executorEnviron).toEqual(denied('ENOENT'));
    expect(report.sentinelEnviron).toEqual(denied('ENOENT'));
    expect(report.environs.some((environ) => environ.includes(SECRET))).toBe(false);
    // bwrap's --chdir adds PWD; nothing else is added.
    expect(report.env).toEqual({ ...env, PWD: realpathSync(release) });
    expect(JSON.stringify(report)).not.toContain(SECRET);
  });

  it('finishes its work on SIGTERM to its process group before it exits', async () => {
    await stop(child);
    expect(readFileSync(join(shared, 'data/stopped.txt'), 'utf8')).toBe('stopped gracefully');
    expect(await eventually(() => !isAlive(child.pid!))).toBe(true);
  });
});

describe('probeServiceSandbox', () => {
  it('finds that bwrap runs a droplet sandbox as the runner user here, and says why when it cannot', async () => {
    expect(await probeServiceSandbox(runner)).toBeNull();
    expect(await probeServiceSandbox(runner, join(root, 'no-bwrap'))).toMatch(/ENOENT/);
  });
});

describe('a droplet as the runner user without bubblewrap (permissions alone)', () => {
  let report: ProbeReport;
  let child: ChildProcess;
  beforeAll(async () => ({ report, child } = await runProbe([])));
  afterAll(() => stop(child));

  it('still reaches its release and its dependencies through the 0711 data dir', () => {
    expect(report.uid).toBe(runner.uid);
    expect(report.ownRelease).toEqual({ ok: true, value: 'read' });
    expect(report.dependency).toEqual({ ok: true, value: 'from the dependency store' });
    expect(report.sharedWrite).toEqual({ ok: true, value: 'written' });
    expect(report.releaseWrite).toEqual(denied('EACCES'));
  });

  it("cannot read the executor's database, list or read its repositories, or list the data dir", () => {
    expect(report.executorDb).toEqual(denied('EACCES'));
    expect(report.reposList).toEqual(denied('EACCES'));
    expect(report.repoFile).toEqual(denied('EACCES'));
    expect(report.dataDirList).toEqual(denied('EACCES'));
    expect(report.storeManifests).toEqual(denied('EACCES'));
  });

  it("cannot read the executor's HOME key, its .env, /root or another process's environment", () => {
    expect(report.homeKey).toEqual(denied('EACCES'));
    expect(report.dotEnv).toEqual(denied('EACCES'));
    expect(report.rootList).toEqual(denied('EACCES'));
    expect(report.executorEnviron).toEqual(denied('EACCES'));
    expect(report.sentinelEnviron).toEqual(denied('EACCES'));
    expect(report.environs.some((environ) => environ.includes(SECRET))).toBe(false);
  });
});
