/**
 * The sandbox on this host, for real: bubblewrap's isolation, the host port bridge, and
 * the memory, process and output caps, in both the bubblewrap and the process sandbox.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHierarchies } from '../../src/sandbox/cgroup.js';
import { createSandbox, type SandboxFactoryOptions } from '../../src/sandbox/sandbox-factory.js';
import { sandboxFactoryOptions } from '../support/sandbox-options.js';
import { isProcessGroupAlive } from '../../src/sandbox/process-sandbox.js';
import type { Sandbox } from '../../src/sandbox/types.js';

let root: string;
let workspace: string;
let listener: Server;
let listenerPort: number;
let connectionsSeen = 0;

const factoryOptions = (overrides: Partial<SandboxFactoryOptions> = {}) => sandboxFactoryOptions(root, overrides);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sandbox-isolation-'));
  workspace = join(root, 'data/repos/1-probe');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(join(root, 'executor-home'));
  listener = createServer((socket) => {
    connectionsSeen += 1;
    socket.destroy();
  });
  listenerPort = await new Promise<number>((resolve) => listener.listen(0, '127.0.0.1', () => resolve((listener.address() as { port: number }).port)));
});

afterAll(async () => {
  await new Promise((resolve) => listener.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

const sh = (sandbox: Sandbox, script: string, extra: { network?: boolean; outputLimitBytes?: number } = {}) =>
  sandbox.run({ command: 'sh', args: ['-c', script], cwd: workspace, timeoutMs: 60_000, ...extra });

/** Run groups left in any cgroup hierarchy the limiter uses (all should be removed after each run). */
function leftoverRunGroups(): string[] {
  return readHierarchies().flatMap((hierarchy) => {
    const parent = join(hierarchy.mount, hierarchy.ownPath, 'executor-sandbox');
    if (!existsSync(parent)) return [];
    return readdirSync(parent).filter((entry) => entry.startsWith(`${process.pid}-`));
  });
}

describe('createSandbox', () => {
  it('chooses bubblewrap here and caps memory and processes with cgroups', () => {
    const choice = createSandbox(factoryOptions());
    expect(choice.kind).toBe('bubblewrap');
    expect(choice.sandbox.kind).toBe('bubblewrap');
    expect(choice.unavailableReason).toBeNull();
    expect(choice.limits).toMatch(/memory 256 MiB per run \(cgroup v[12]\); 64 processes per run \(cgroup v[12]\)/);
  });

  it('falls back to a process group, with the reason, when bwrap does not work', () => {
    const required = createSandbox(factoryOptions({ bwrapPath: join(root, 'no-bwrap-here') }));
    expect(required.kind).toBe('process');
    expect(required.sandbox.kind).toBe('process');
    expect(required.unavailableReason).toMatch(/SANDBOX=required but bubblewrap does not work here: .*no-bwrap-here could not run/);
    const auto = createSandbox(factoryOptions({ mode: 'auto', bwrapPath: '/bin/false' }));
    expect(auto.kind).toBe('process');
    expect(auto.unavailableReason).toBeNull();
    expect(auto.isolation).toMatch(/process group only: bubblewrap does not work here \(\/bin\/false failed \(exit 1\)/);
    const off = createSandbox(factoryOptions({ mode: 'off' }));
    expect(off).toMatchObject({ kind: 'process', unavailableReason: null, isolation: 'process group only (SANDBOX=off)' });
  });
});

describe('BubblewrapSandbox', () => {
  let sandbox: Sandbox;
  beforeAll(() => {
    sandbox = createSandbox(factoryOptions()).sandbox;
  });

  it('lets a command write its workspace and HOME, but not the host, and gives it a private /tmp', async () => {
    const marker = `private-${process.pid}`;
    const result = await sh(sandbox, `echo ok > made-here && echo ok > "$HOME/home-file" && touch /tmp/${marker} && ls /tmp; touch /usr/sandbox-was-here 2>&1; touch ${root}/escaped 2>&1; true`);
    expect(result.exitCode).toBe(0);
    expect(existsSync(join(workspace, 'made-here'))).toBe(true);
    // HOME is the command's own tmpfs: nothing written there reaches the host or a later command.
    expect(existsSync(join(root, 'data/sandbox-home/home-file'))).toBe(false);
    expect(result.output).toContain(marker);
    expect(existsSync(join(tmpdir(), marker))).toBe(false);
    expect(result.output).toMatch(/cannot touch '\/usr\/sandbox-was-here': Read-only file system/);
    expect(existsSync('/usr/sandbox-was-here')).toBe(false);
    expect(existsSync(join(root, 'escaped'))).toBe(false);
  });

  it('sees only its own processes', async () => {
    const result = await sh(sandbox, 'ls /proc | grep -c "^[0-9]"; cat /proc/1/cmdline | tr "\\0" " "');
    expect(Number(result.output.split('\n')[0])).toBeLessThan(10);
    expect(result.output).toContain('bwrap');
    expect(result.output).not.toContain('vitest');
  });

  it('has no network unless the command asks for it', async () => {
    const connect = `node -e "require('net').connect(${listenerPort}, '127.0.0.1').on('connect', () => console.log('CONNECTED')).on('error', (e) => console.log('REFUSED', e.code))"`;
    const offline = await sh(sandbox, connect);
    expect(offline.output).toContain('REFUSED ECONNREFUSED');
    expect(connectionsSeen).toBe(0);
    const install = await sh(sandbox, connect, { network: true });
    expect(install.output).toContain('CONNECTED');
    expect(connectionsSeen).toBe(1);
  });

  it('bridges a port the command listens on to the host, and closes the bridge afterwards', async () => {
    const server = "require('http').createServer((q, s) => s.end('pong')).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'))";
    const proc = sandbox.start({ command: 'node', args: ['-e', server], cwd: workspace, env: { PORT: '4100' }, exposePort: 4100 });
    const hostPort = await proc.exposedPort;
    expect(hostPort).not.toBeNull();
    let answer = '';
    for (let attempt = 0; attempt < 100 && answer !== 'pong'; attempt += 1) {
      answer = await fetch(`http://127.0.0.1:${hostPort}/`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.text()).catch(() => '');
      if (answer !== 'pong') await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(answer).toBe('pong');
    const result = await proc.stop();
    expect(result.output).toContain('listening');
    expect(isProcessGroupAlive(proc.pid)).toBe(false);
    expect(leftoverRunGroups()).toEqual([]);
    await expect(fetch(`http://127.0.0.1:${hostPort}/`)).rejects.toThrow();
  });
});
