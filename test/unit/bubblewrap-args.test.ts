import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bubblewrapArgs, type BubblewrapPlan, DEFAULT_HIDDEN_PATHS, executorSecretPaths } from '../../src/sandbox/bubblewrap.js';

let root: string;
let plan: BubblewrapPlan;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'bwrap-args-'));
  for (const dir of ['data/repos/1-probe', 'data/sandbox-home', 'home/.npm', 'home/tools/bin', 'cwd']) mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'cwd/.env'), 'API_TOKEN=x\n');
  plan = {
    cwd: join(root, 'data/repos/1-probe'),
    network: false,
    homeDir: join(root, 'data/sandbox-home'),
    npmCacheDir: join(root, 'home/.npm'),
    hiddenPaths: [join(root, 'data'), join(root, 'home'), join(root, 'cwd/.env'), join(root, 'not-there')],
  };
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Index of `--flag a b` in args, -1 when absent. */
function indexOfMount(args: string[], flag: string, ...paths: string[]): number {
  return args.findIndex((arg, index) => arg === flag && paths.every((path, offset) => args[index + 1 + offset] === path));
}

describe('bubblewrapArgs', () => {
  it('binds the host read-only first, with a fresh /proc, /dev and /tmp', () => {
    const args = bubblewrapArgs(plan);
    expect(args.slice(0, 9)).toEqual(['--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp']);
  });

  it('unshares every namespace, drops capabilities and dies with the executor', () => {
    const args = bubblewrapArgs(plan);
    expect(args).toEqual(expect.arrayContaining(['--unshare-all', '--die-with-parent']));
    expect(args[args.indexOf('--cap-drop') + 1]).toBe('ALL');
    expect(args).not.toContain('--share-net');
    expect(args.slice(-2)).toEqual(['--chdir', plan.cwd]);
  });

  it('shares the network only with a command that asks for it', () => {
    expect(bubblewrapArgs({ ...plan, network: true })).toContain('--share-net');
  });

  it('covers the data dir and then binds back only the workspace, with an empty HOME of its own', () => {
    const args = bubblewrapArgs(plan);
    const dataMask = indexOfMount(args, '--tmpfs', join(root, 'data'));
    const workspace = indexOfMount(args, '--bind', plan.cwd, plan.cwd);
    const home = indexOfMount(args, '--tmpfs', plan.homeDir);
    expect(dataMask).toBeGreaterThan(0);
    expect(workspace).toBeGreaterThan(dataMask);
    expect(home).toBeGreaterThan(dataMask);
    // Nothing else of the data dir comes back (the database, other droplets' repos).
    const bound = args.flatMap((arg, index) => (arg === '--bind' || arg === '--ro-bind' ? [args[index + 1]!] : []));
    expect(new Set(bound.filter((path) => path.startsWith(join(root, 'data'))))).toEqual(new Set([plan.cwd]));
  });

  it('masks a secret file with /dev/null and skips paths that do not exist', () => {
    const args = bubblewrapArgs(plan);
    expect(indexOfMount(args, '--ro-bind', '/dev/null', join(root, 'cwd/.env'))).toBeGreaterThan(0);
    expect(args.join(' ')).not.toContain('not-there');
  });

  it('hides the npm cache from commands without network and binds it writable for installs', () => {
    const offline = bubblewrapArgs(plan);
    expect(indexOfMount(offline, '--bind', plan.npmCacheDir, plan.npmCacheDir)).toBe(-1);
    expect(indexOfMount(offline, '--tmpfs', plan.npmCacheDir)).toBeGreaterThan(0);
    const install = bubblewrapArgs({ ...plan, network: true });
    const homeMask = indexOfMount(install, '--tmpfs', join(root, 'home'));
    expect(indexOfMount(install, '--bind', plan.npmCacheDir, plan.npmCacheDir)).toBeGreaterThan(homeMask);
  });

  it('hides /run (host daemon sockets) from commands without network', () => {
    expect(indexOfMount(bubblewrapArgs(plan), '--tmpfs', '/run')).toBeGreaterThan(0);
    expect(indexOfMount(bubblewrapArgs({ ...plan, network: true }), '--tmpfs', '/run')).toBe(-1);
  });

  it('binds tools back read-only only when a mask covers them', () => {
    const tools = join(root, 'home/tools');
    expect(indexOfMount(bubblewrapArgs({ ...plan, tools: [tools, '/usr'] }), '--ro-bind', tools, tools)).toBeGreaterThan(0);
    expect(indexOfMount(bubblewrapArgs({ ...plan, tools: ['/usr'] }), '--ro-bind', '/usr', '/usr')).toBe(-1);
  });

  it('never masks / or the workspace itself', () => {
    const args = bubblewrapArgs({ ...plan, hiddenPaths: ['/', plan.cwd] });
    expect(indexOfMount(args, '--tmpfs', '/')).toBe(-1);
    expect(indexOfMount(args, '--tmpfs', plan.cwd)).toBe(-1);
  });
});

describe('executorSecretPaths', () => {
  it("adds the executor's data dir, HOME and .env to the host secrets", () => {
    const paths = executorSecretPaths({ dataDir: join(root, 'data'), homeDir: join(root, 'home'), cwd: join(root, 'cwd') });
    expect(paths).toEqual([...DEFAULT_HIDDEN_PATHS, join(root, 'data'), join(root, 'home'), join(root, 'cwd/.env')]);
    expect(executorSecretPaths({ dataDir: '/d', homeDir: '/h', cwd: join(root, 'data') })).not.toContain(join(root, 'data/.env'));
  });
});
