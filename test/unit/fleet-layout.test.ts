/**
 * The pure parts of the fleet layout: which droplet names and release ids may become
 * directories on a host, what a droplet's entry point and environment file may hold.
 * Which releases pruning keeps is in test/host/prune.test.ts, on a real shell.
 */
import { describe, expect, it } from 'vitest';
import { StepError } from '../../src/domain/errors.js';
import { dropletEnvFile, entriesOf, entryOf, supervisorConfig, type DropletRuntimeSettings } from '../../src/deploy/fleet/droplet-config.js';
import { assertReleaseId, HostLayout } from '../../src/deploy/fleet/layout.js';

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
