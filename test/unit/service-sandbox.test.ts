import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executorSecretPaths } from '../../src/sandbox/bubblewrap.js';
import { DROPLET_HOME, isTemplate, serviceSandboxArgv, STOP_SIGNAL_SHIM, type ServiceSandboxPlan } from '../../src/sandbox/service-sandbox.js';

let root: string;
let plan: ServiceSandboxPlan;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'service-sandbox-args-'));
  for (const dir of ['data/dependencies', 'data/deployments/alpha/shared', 'data/repos', 'home/tools/bin', 'cwd']) mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'cwd/.env'), 'API_TOKEN=x\n');
  writeFileSync(join(root, 'home/tools/bin/node'), '');
  plan = {
    hiddenPaths: executorSecretPaths({ dataDir: join(root, 'data'), homeDir: join(root, 'home'), cwd: join(root, 'cwd') }),
    release: '{release}',
    shared: join(root, 'data/deployments/alpha/shared'),
    readOnly: [join(root, 'data/dependencies')],
    nodePath: '/usr/bin/node',
  };
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Index of `--flag a b` in args, -1 when absent. */
function indexOfMount(args: string[], flag: string, ...paths: string[]): number {
  return args.findIndex((arg, index) => arg === flag && paths.every((path, offset) => args[index + 1 + offset] === path));
}

describe('serviceSandboxArgv', () => {
  it('is the stop-signal shim, then bwrap and its arguments, ending with -- for the caller to append node and the entry', () => {
    const argv = serviceSandboxArgv({ ...plan, bwrapPath: '/opt/bwrap' });
    expect(argv.slice(0, STOP_SIGNAL_SHIM.length)).toEqual(STOP_SIGNAL_SHIM);
    expect(argv[STOP_SIGNAL_SHIM.length]).toBe('/opt/bwrap');
    expect(argv.at(-1)).toBe('--');
    expect(argv.filter((arg) => arg === '--')).toHaveLength(1);
    expect(serviceSandboxArgv(plan)[STOP_SIGNAL_SHIM.length]).toBe('/usr/bin/bwrap');
  });

  it('binds the host read-only first, with a fresh /proc, /dev and /tmp', () => {
    const args = serviceSandboxArgv(plan).slice(STOP_SIGNAL_SHIM.length + 1);
    expect(args.slice(0, 9)).toEqual(['--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp']);
  });

  it('passes the {release} placeholder through untouched: bound read-only at itself and the working directory', () => {
    const argv = serviceSandboxArgv(plan);
    expect(indexOfMount(argv, '--ro-bind', '{release}', '{release}')).toBeGreaterThan(0);
    expect(indexOfMount(argv, '--chdir', '{release}')).toBe(argv.length - 3);
    expect(argv.filter((arg) => arg.includes('{release}'))).toEqual(['{release}', '{release}', '{release}']);
  });

  it('keeps a templated shared directory as it is, and binds it read-write', () => {
    const argv = serviceSandboxArgv({ ...plan, release: '/srv/{name}/releases/{release}', shared: '{dropletDir}/shared' });
    expect(indexOfMount(argv, '--bind', '{dropletDir}/shared', '{dropletDir}/shared')).toBeGreaterThan(0);
    expect(indexOfMount(argv, '--ro-bind', '/srv/{name}/releases/{release}', '/srv/{name}/releases/{release}')).toBeGreaterThan(0);
    expect(isTemplate('{release}/src/server.js')).toBe(true);
    expect(isTemplate('/data/deployments/a/shared')).toBe(false);
  });

  it('shares the network, unshares the rest, forbids nested user namespaces, drops capabilities and dies with its parent', () => {
    const argv = serviceSandboxArgv(plan);
    expect(argv).toEqual(expect.arrayContaining(['--unshare-all', '--share-net', '--unshare-user', '--disable-userns', '--assert-userns-disabled', '--die-with-parent']));
    expect(argv[argv.indexOf('--cap-drop') + 1]).toBe('ALL');
    expect(argv.indexOf('--share-net')).toBe(argv.indexOf('--unshare-all') + 1);
  });

  it("masks the executor's data dir, HOME and .env like verification, and keeps /run (resolv.conf) with the network", () => {
    const argv = serviceSandboxArgv(plan);
    expect(indexOfMount(argv, '--tmpfs', join(root, 'data'))).toBeGreaterThan(0);
    expect(indexOfMount(argv, '--tmpfs', join(root, 'home'))).toBeGreaterThan(0);
    expect(indexOfMount(argv, '--ro-bind', '/dev/null', join(root, 'cwd/.env'))).toBeGreaterThan(0);
    for (const path of ['/root', '/var/lib', '/etc/ssh']) expect(indexOfMount(argv, '--tmpfs', path)).toBeGreaterThan(0);
    expect(indexOfMount(argv, '--ro-bind', '/dev/null', '/etc/shadow')).toBeGreaterThan(0);
    expect(indexOfMount(argv, '--tmpfs', '/run')).toBe(-1);
  });

  it('binds back into the masked data dir only the store (read-only) and shared/ (read-write), after the mask', () => {
    const argv = serviceSandboxArgv(plan);
    const dataMask = indexOfMount(argv, '--tmpfs', join(root, 'data'));
    const store = indexOfMount(argv, '--ro-bind-try', join(root, 'data/dependencies'), join(root, 'data/dependencies'));
    const shared = indexOfMount(argv, '--bind', plan.shared, plan.shared);
    expect(store).toBeGreaterThan(dataMask);
    expect(shared).toBeGreaterThan(dataMask);
    const bound = argv.flatMap((arg, index) => (['--bind', '--ro-bind', '--ro-bind-try'].includes(arg) ? [argv[index + 1]!] : []));
    expect(new Set(bound.filter((path) => path.startsWith(join(root, 'data'))))).toEqual(new Set([plan.shared, join(root, 'data/dependencies')]));
    // The only writable bind is shared/.
    expect(argv.filter((arg) => arg === '--bind')).toHaveLength(1);
  });

  it('gives the droplet an empty HOME of its own under a covered /home', () => {
    const argv = serviceSandboxArgv({ ...plan, hiddenPaths: [join(root, 'data')] });
    const homes = indexOfMount(argv, '--tmpfs', '/home');
    expect(homes).toBeGreaterThan(0);
    expect(indexOfMount(argv, '--tmpfs', DROPLET_HOME)).toBeGreaterThan(homes);
  });

  it("binds node's installation back read-only only when a mask covers it", () => {
    const masked = serviceSandboxArgv({ ...plan, nodePath: join(root, 'home/tools/bin/node') });
    const tools = join(root, 'home/tools');
    expect(indexOfMount(masked, '--ro-bind', tools, tools)).toBeGreaterThan(indexOfMount(masked, '--tmpfs', join(root, 'home')));
    expect(indexOfMount(serviceSandboxArgv(plan), '--ro-bind', '/usr', '/usr')).toBe(-1);
  });

  it('never masks / or a bound directory itself', () => {
    const argv = serviceSandboxArgv({ ...plan, hiddenPaths: ['/', plan.shared, join(root, 'data')] });
    expect(indexOfMount(argv, '--tmpfs', '/')).toBe(-1);
    expect(indexOfMount(argv, '--tmpfs', plan.shared)).toBe(-1);
  });
});
