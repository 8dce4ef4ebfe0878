/**
 * The pure parts of the fleet layout: which droplet names and release ids may become
 * directories on a host, what a droplet's entry point and environment file may hold,
 * and which releases pruning keeps (driven over a recording shell standing in for a host).
 */
import { describe, expect, it } from 'vitest';
import { StepError } from '../../src/domain/errors.js';
import { dropletEnvFile, entriesOf, entryOf, supervisorConfig, type DropletRuntimeSettings } from '../../src/deploy/fleet/droplet-config.js';
import { HostOps } from '../../src/deploy/fleet/host-ops.js';
import { assertReleaseId, HostLayout } from '../../src/deploy/fleet/layout.js';
import { pruneReleases } from '../../src/deploy/fleet/prune.js';
import type { ExecOptions, ExecResult, HostShell, HostUser } from '../../src/deploy/shell/types.js';
import type { DeploymentRecord } from '../../src/store/deployments.js';

const BASE = '/srv/droplets';
const host = new HostLayout(BASE);
const droplet = host.droplet('plant-tracker');
const identity = { dropletId: 7, name: 'plant-tracker' };

function codeOf(work: () => unknown): string | null {
  try {
    work();
    return null;
  } catch (error) {
    return error instanceof StepError ? error.code : `not a StepError: ${(error as Error).message}`;
  }
}

describe('HostLayout and DropletLayout', () => {
  it('puts every piece of a droplet where the design says', () => {
    expect(host.executorDir).toBe(`${BASE}/.executor`);
    expect(host.modulesDir).toBe(`${BASE}/.executor/modules`);
    expect(droplet.dir).toBe(`${BASE}/plant-tracker`);
    expect(droplet.release('build-1')).toBe(`${BASE}/plant-tracker/releases/build-1`);
    expect(droplet.partial('build-1')).toBe(`${BASE}/plant-tracker/releases/.partial-build-1`);
    expect(droplet.upload('build-1')).toBe(`${BASE}/plant-tracker/releases/.upload-build-1.tar`);
    expect(droplet.current).toBe(`${BASE}/plant-tracker/current`);
    expect(droplet.sharedDir).toBe(`${BASE}/plant-tracker/shared`);
    expect(droplet.dataDir).toBe(`${BASE}/plant-tracker/shared/data`);
    expect(droplet.envFile).toBe(`${BASE}/plant-tracker/shared/.env`);
    expect(droplet.config).toBe(`${BASE}/plant-tracker/supervisor.json`);
    expect(droplet.runDir).toBe(`${BASE}/plant-tracker/run`);
    expect(droplet.logsDir).toBe(`${BASE}/plant-tracker/logs`);
    expect(droplet.log('build-1')).toBe(`${BASE}/plant-tracker/logs/build-1.log`);
    expect(droplet.lockDir).toBe(`${BASE}/plant-tracker/.deploy-lock`);
  });

  it('needs an absolute base directory', () => {
    expect(() => new HostLayout('droplets')).toThrow(/absolute/);
  });

  it.each(['..', '.', 'a/b', '../etc', '.executor', '.hidden', '', 'Upper', '-x', 'x-', 'a b', 'a\nb'])('refuses the droplet name %j', (name) => {
    expect(codeOf(() => host.droplet(name))).toBe('DEPLOY_INVALID_RELEASE');
  });

  it.each(['plant-tracker', 'a', 'x9-y2'])('accepts the droplet name %j', (name) => {
    expect(host.droplet(name).dir).toBe(`${BASE}/${name}`);
  });

  it.each(['..', '.', 'a/b', '../x', '.partial-b1', '.b1', '', 'b 1', 'b1\n', 'b1.tar', '-b1', 'x'.repeat(129)])('refuses the release id %j everywhere it names a path', (id) => {
    expect(codeOf(() => assertReleaseId(id))).toBe('DEPLOY_INVALID_RELEASE');
    const paths = [(r: string) => droplet.release(r), (r: string) => droplet.partial(r), (r: string) => droplet.upload(r), (r: string) => droplet.log(r)];
    for (const path of paths) expect(codeOf(() => path(id))).toBe('DEPLOY_INVALID_RELEASE');
  });

  it.each(['build-12', 'b1', 'build_1-abc', 'x'.repeat(128)])('accepts the release id %j', (id) => {
    expect(codeOf(() => assertReleaseId(id))).toBeNull();
  });
});

describe('entryOf', () => {
  it('is src/server.js without a manifest or a main, else main normalised inside the release', () => {
    expect(entryOf(null)).toBe('src/server.js');
    expect(entryOf('{}')).toBe('src/server.js');
    expect(entryOf('{"main":"  "}')).toBe('src/server.js');
    expect(entryOf('{"main":"./lib/index.js"}')).toBe('lib/index.js');
    expect(entryOf('{"main":"src/../server.js"}')).toBe('server.js');
  });

  it.each(['/etc/passwd', '..', '../x.js', 'src/../../x.js', '{release}/x.js', 'src/{port}.js', 'a\u0000b.js'])('refuses the main %j', (main) => {
    expect(codeOf(() => entryOf(JSON.stringify({ main })))).toBe('DEPLOY_BAD_ENTRY');
  });

  it('refuses a manifest that is not JSON', () => {
    expect(codeOf(() => entryOf('{ main: x'))).toBe('DEPLOY_BAD_MANIFEST');
  });
});

const settings: DropletRuntimeSettings = {
  nodePath: '/usr/bin/node',
  pathEnv: '/usr/bin:/bin',
  bindHost: '0.0.0.0',
  logLevel: 'info',
  healthTimeoutMs: 20_000,
  stopGraceMs: 5_000,
  drainTimeoutMs: 10_000,
  holdRequestsMs: 10_000,
  launchPrefix: () => [],
};

const BASE_KEYS = ['SERVICE_NAME', 'DROPLET_ID', 'ENVIRONMENT', 'NODE_ENV', 'LOG_LEVEL', 'DATA_DIR', 'TZ', 'LANG'];

function envOf(text: string): Record<string, string> {
  const lines = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  return Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

describe('dropletEnvFile', () => {
  it('holds the listed keys and nothing of the executor environment', () => {
    process.env.EXECUTOR_LAYOUT_TEST_SECRET = 'executor-only-3b9c';
    try {
      const text = dropletEnvFile(identity, droplet, settings);
      expect(Object.keys(envOf(text))).toEqual(BASE_KEYS);
      expect(envOf(text)).toMatchObject({ SERVICE_NAME: 'plant-tracker', DROPLET_ID: '7', DATA_DIR: droplet.dataDir, NODE_ENV: 'production' });
      expect(text).not.toContain('executor-only-3b9c');
      expect(text).not.toContain('EXECUTOR_LAYOUT_TEST_SECRET');
      expect(text).not.toContain(process.env.PATH ?? '/usr/bin');
    } finally {
      delete process.env.EXECUTOR_LAYOUT_TEST_SECRET;
    }
  });

  it('adds the registry URL and the fleet token only when they are set', () => {
    const env = envOf(dropletEnvFile(identity, droplet, { ...settings, registryUrl: 'http://registry.test', apiToken: 'fleet-token' }));
    expect(Object.keys(env)).toEqual([...BASE_KEYS, 'REGISTRY_URL', 'API_TOKEN']);
    expect(env.API_TOKEN).toBe('fleet-token');
  });

  it.each(['info\nLD_PRELOAD=/tmp/x.so', 'info\rX=1', 'info\u0000'])('refuses a value with a line break or NUL (%j): it would add a line', (logLevel) => {
    expect(codeOf(() => dropletEnvFile(identity, droplet, { ...settings, logLevel }))).toBe('DEPLOY_INVALID_RELEASE');
  });
});

describe('entriesOf', () => {
  it('reads the entries a supervisor.json lists, and nothing from what is not one', () => {
    expect(entriesOf(JSON.stringify({ launch: { entries: { r1: 'src/server.js', r2: 7 } } }))).toEqual({ r1: 'src/server.js' });
    expect(entriesOf(null)).toEqual({});
    expect(entriesOf('not json')).toEqual({});
    expect(entriesOf(JSON.stringify({ launch: { entries: 'x' } }))).toEqual({});
  });
});

describe('supervisorConfig', () => {
  it('starts node on each release\'s own entry inside {release}, behind the launch prefix, with the env file and nothing else of PATH', () => {
    const entries = { 'build-1-a': 'lib/index.js', 'build-2-a': 'src/server.js' };
    const config = supervisorConfig(identity, droplet, 20_001, entries, { ...settings, launchPrefix: () => ['/usr/bin/bwrap', '--ro-bind', '{release}', '{release}'], home: '/home/droplet' });
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 20_001 });
    expect(config.launch).toEqual({
      argv: ['/usr/bin/bwrap', '--ro-bind', '{release}', '{release}', '/usr/bin/node', '{release}/{entry}'],
      cwd: '{release}',
      entries,
      envFile: droplet.envFile,
      env: { PATH: '/usr/bin:/bin', HOME: '/home/droplet' },
    });
    expect(config.health).toEqual({ path: '/health', timeoutMs: 20_000 });
  });
});

/** A host whose releases/ lists `entries`; records every command run. */
class ListingHost implements HostShell {
  readonly label = 'deployer@host.test:22';
  readonly address = 'host.test';
  readonly calls: { argv: string[]; asRunner: boolean }[] = [];
  constructor(private readonly entries: string[] | null) {}

  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push({ argv: [...argv], asRunner: options.asRunner === true });
    if (argv[0] === 'ls') {
      return Promise.resolve(this.entries === null ? { code: 2, stdout: '', stderr: 'No such file or directory' } : { code: 0, stdout: this.entries.map((entry) => `${entry}\n`).join(''), stderr: '' });
    }
    return Promise.resolve({ code: 0, stdout: '', stderr: '' });
  }
  upload(): Promise<void> {
    return Promise.reject(new Error('pruning uploads nothing'));
  }
  runner(): Promise<HostUser> {
    return Promise.resolve({ user: 'droplets', uid: 1500, gid: 1500 });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The paths each removal was given, and whether it ran as the droplet user. */
  removals(): { paths: string[]; asRunner: boolean }[] {
    return this.calls.filter((call) => call.argv[0] === 'sh' && call.argv[2]!.includes('rm -rf')).map((call) => ({ paths: call.argv.slice(4), asRunner: call.asRunner }));
  }
}

/** Records newest first, as the store lists them. */
const records = (...ids: string[]) => ids.map((releaseId) => ({ releaseId }) as DeploymentRecord);

describe('pruneReleases', () => {
  it('keeps the live release and the newest others up to the limit; removes older, unknown and leftover entries, and their logs', async () => {
    const shell = new ListingHost(['r1', 'r2', 'r3', 'r4', 'r5', 'stray', '.partial-r6', '.upload-r6.tar']);
    // r3 is live after a rollback: it is kept though three releases are newer.
    const removed = await pruneReleases(new HostOps(shell), droplet, records('r5', 'r4', 'r3', 'r2', 'r1'), 'r3', 3);
    expect(removed).toEqual(['r2', 'r1', 'stray']);
    const release = (id: string) => droplet.release(id);
    expect(shell.removals()).toEqual([
      { paths: [release('r2'), release('r1'), release('stray'), `${droplet.releasesDir}/.partial-r6`, `${droplet.releasesDir}/.upload-r6.tar`], asRunner: false },
      { paths: [droplet.log('r2'), droplet.log('r1'), droplet.log('stray')], asRunner: true },
    ]);
  });

  it('keeps only the live release with a limit of one, and ignores records of releases not on this host', async () => {
    const shell = new ListingHost(['r2', 'r3']);
    const removed = await pruneReleases(new HostOps(shell), droplet, records('r3', 'r9-elsewhere', 'r2', 'r1-gone'), 'r3', 1);
    expect(removed).toEqual(['r2']);
    expect(shell.removals()[0]!.paths).toEqual([droplet.release('r2')]);
  });

  it('removes an entry that is not a release id as a leftover, and does not fail on it', async () => {
    const shell = new ListingHost(['r1', 'r1.bak', 'notes and stuff']);
    expect(await pruneReleases(new HostOps(shell), droplet, records('r1'), 'r1', 5)).toEqual([]);
    expect(shell.removals()).toEqual([{ paths: [`${droplet.releasesDir}/r1.bak`, `${droplet.releasesDir}/notes and stuff`], asRunner: false }]);
  });

  it('removes nothing (and runs no removal) when everything fits', async () => {
    const shell = new ListingHost(['r1', 'r2']);
    expect(await pruneReleases(new HostOps(shell), droplet, records('r2', 'r1'), 'r2', 5)).toEqual([]);
    expect(shell.removals()).toEqual([]);
  });

  it('removes nothing when the releases directory is missing', async () => {
    const shell = new ListingHost(null);
    expect(await pruneReleases(new HostOps(shell), droplet, records('r1'), 'r1', 5)).toEqual([]);
    expect(shell.removals()).toEqual([]);
  });
});
