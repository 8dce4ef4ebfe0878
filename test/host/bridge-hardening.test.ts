/**
 * The port bridge cannot be turned against the host: a droplet that replaces the bridge
 * socket's name (with a symlink, or a hard link, to a host daemon's unix socket) gets
 * nothing sent to that daemon. A real bubblewrap sandbox runs the droplet; the host
 * daemon is a unix-socket HTTP server outside it that counts every byte it receives.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LoopbackBridge } from '../../src/sandbox/loopback-bridge.js';
import { createSandbox } from '../../src/sandbox/sandbox-factory.js';
import { sandboxFactoryOptions } from '../support/sandbox-options.js';
import { isProcessGroupAlive } from '../../src/sandbox/process-sandbox.js';
import type { Sandbox, SandboxProcess } from '../../src/sandbox/types.js';

let root: string;
let workspace: string;
let sandbox: Sandbox;

/** A host-only daemon speaking HTTP over a unix socket, recording what reaches it. */
interface HostDaemon {
  path: string;
  connections: number;
  bytesReceived: number;
  close(): Promise<void>;
}

async function startHostDaemon(path: string): Promise<HostDaemon> {
  const server: Server = createServer((socket) => {
    daemon.connections += 1;
    socket.on('data', (chunk: Buffer) => {
      daemon.bytesReceived += chunk.length;
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 13\r\nconnection: close\r\n\r\nhost-daemon!!');
    });
    socket.on('error', () => socket.destroy());
  });
  const daemon: HostDaemon = {
    path,
    connections: 0,
    bytesReceived: 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return daemon;
}

/** One GET on a raw connection: everything the other side sent back before it closed. */
function rawGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    // A safety net only: the bridge either answers or closes; a hang must not pass as a refusal.
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer and no close within 10s'));
    }, 10_000);
    socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nhost: droplet\r\nconnection: close\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString()));
    socket.on('error', () => undefined); // a reset is a close; 'close' follows
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(reply);
    });
  });
}

/** The body of an HTTP/1.1 reply, or '' when there was none. */
const body = (reply: string) => (reply.includes('\r\n\r\n') ? reply.slice(reply.indexOf('\r\n\r\n') + 4) : '');

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/**
 * The droplet: finds the bridge socket from inside (its parent, the bridge launcher, has
 * the socket path as its argv[3]: node -e SOURCE <socket> <port> …), serves `pong` on
 * PORT, and plants ATTACK (symlink or hardlink to HOST_SOCKET) over the socket's name,
 * right away when PLANT=now, or on GET /plant.
 */
const DROPLET = `
const fs = require('node:fs');
const http = require('node:http');
const socketPath = fs.readFileSync('/proc/' + process.ppid + '/cmdline', 'utf8').split('\\0')[3];
console.log('SOCKET ' + socketPath);
function plant() {
  fs.unlinkSync(socketPath);
  try {
    if (process.env.ATTACK === 'hardlink') fs.linkSync(process.env.HOST_SOCKET, socketPath);
    else fs.symlinkSync(process.env.HOST_SOCKET, socketPath);
    console.log('PLANTED');
  } catch (error) {
    console.log('PLANT FAILED ' + error.code);
  }
}
const isSocket = () => { try { return fs.lstatSync(socketPath).isSocket(); } catch { return false; } };
(function waitForBridge() {
  if (!isSocket()) return setTimeout(waitForBridge, 20);
  if (process.env.PLANT === 'now') plant();
})();
http.createServer((request, response) => {
  if (request.url === '/plant') { plant(); response.end('planted'); } else response.end('pong');
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('LISTENING'));
`;

/** Droplets of the running test, stopped after it even when an assertion failed first. */
const running = new Set<SandboxProcess>();

function startDroplet(env: Record<string, string>): SandboxProcess {
  const proc = sandbox.start({ command: 'node', args: ['-e', DROPLET], cwd: workspace, env: { PORT: '4200', ...env }, exposePort: 4200 });
  running.add(proc);
  return proc;
}

/** Stops the droplet and checks it and its bridge are gone. */
async function stopDroplet(proc: SandboxProcess): Promise<string> {
  running.delete(proc);
  const result = await proc.stop();
  expect(isProcessGroupAlive(proc.pid)).toBe(false);
  const socketPath = /SOCKET (\S+)/.exec(result.output)?.[1];
  expect(socketPath).toBeDefined();
  // The bridge's host-only directory (holding the shared one and the pin) is removed.
  expect(existsSync(dirname(dirname(socketPath ?? '/')))).toBe(false);
  return result.output;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'bridge-hardening-'));
  workspace = join(root, 'data/repos/1-probe');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(join(root, 'executor-home'));
  const choice = createSandbox(sandboxFactoryOptions(root));
  expect(choice.kind).toBe('bubblewrap');
  sandbox = choice.sandbox;
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('the port bridge out of a bubblewrap sandbox', () => {
  let daemon: HostDaemon;
  let daemonDir: string;

  beforeEach(async () => {
    // Outside the sandbox's view: its /tmp is a private tmpfs.
    daemonDir = mkdtempSync(join(tmpdir(), 'host-daemon-'));
    daemon = await startHostDaemon(join(daemonDir, 'daemon.sock'));
  });

  afterEach(async () => {
    await Promise.all([...running].map((proc) => proc.stop()));
    running.clear();
    await daemon.close();
    rmSync(daemonDir, { recursive: true, force: true });
  });

  it('still carries a normal request to the droplet', async () => {
    const proc = startDroplet({});
    const hostPort = (await proc.exposedPort) ?? 0;
    await until(async () => body(await rawGet(hostPort, '/')) === 'pong', 'the droplet to answer');
    expect(body(await rawGet(hostPort, '/health'))).toBe('pong');
    expect(daemon.connections).toBe(0);
    await stopDroplet(proc);
  });

  it('sends nothing to a host daemon the droplet symlinked over the socket before the first request', async () => {
    const proc = startDroplet({ PLANT: 'now', ATTACK: 'symlink', HOST_SOCKET: daemon.path });
    const hostPort = (await proc.exposedPort) ?? 0;
    await until(() => proc.output().includes('PLANTED') && proc.output().includes('LISTENING'), 'the droplet to plant its symlink');
    // Requests with droplet-chosen paths, as the verifier makes from a droplet's manifest.
    for (const path of ['/', '/containers/json', '/v1.43/containers/create']) {
      expect(await rawGet(hostPort, path)).toBe('');
    }
    expect(daemon.connections).toBe(0);
    expect(daemon.bytesReceived).toBe(0);
    await stopDroplet(proc);
  });

  it('keeps talking to the droplet when the symlink is planted after the bridge was in use', async () => {
    const proc = startDroplet({ ATTACK: 'symlink', HOST_SOCKET: daemon.path });
    const hostPort = (await proc.exposedPort) ?? 0;
    await until(async () => body(await rawGet(hostPort, '/')) === 'pong', 'the droplet to answer');
    expect(body(await rawGet(hostPort, '/plant'))).toBe('planted');
    expect(proc.output()).toContain('PLANTED');
    // The bridge connects to the socket it pinned, not to the name the droplet replaced.
    expect(body(await rawGet(hostPort, '/containers/json'))).toBe('pong');
    expect(daemon.connections).toBe(0);
    expect(daemon.bytesReceived).toBe(0);
    await stopDroplet(proc);
  });

  it('cannot be given a hard link to a host socket: links do not cross into the bridge directory', async () => {
    // A host daemon the sandbox can see (the workspace is bound in), so a link is at least attempted.
    const visible = await startHostDaemon(join(workspace, 'visible-daemon.sock'));
    try {
      const proc = startDroplet({ PLANT: 'now', ATTACK: 'hardlink', HOST_SOCKET: visible.path });
      const hostPort = (await proc.exposedPort) ?? 0;
      await until(() => proc.output().includes('PLANT FAILED') && proc.output().includes('LISTENING'), 'the droplet to try its hard link');
      expect(proc.output()).toContain('PLANT FAILED EXDEV');
      expect(await rawGet(hostPort, '/containers/json')).toBe('');
      expect(visible.connections).toBe(0);
      expect(visible.bytesReceived).toBe(0);
      await stopDroplet(proc);
    } finally {
      await visible.close();
    }
  });
});

describe('LoopbackBridge on the host side', () => {
  let bridge: LoopbackBridge;
  let daemon: HostDaemon;
  let daemonDir: string;
  const servers: Server[] = [];

  /** Stands in for the in-sandbox launcher: an HTTP answer on the bridge socket. */
  async function serveOnBridgeSocket(answer: string): Promise<Server> {
    const server = createServer((socket) => {
      socket.on('data', () => socket.end(`HTTP/1.1 200 OK\r\ncontent-length: ${answer.length}\r\nconnection: close\r\n\r\n${answer}`));
      socket.on('error', () => socket.destroy());
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(bridge.socketPath, resolve));
    return server;
  }

  beforeEach(async () => {
    bridge = new LoopbackBridge();
    daemonDir = mkdtempSync(join(tmpdir(), 'host-daemon-'));
    daemon = await startHostDaemon(join(daemonDir, 'daemon.sock'));
  });

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
    await bridge.close();
    await daemon.close();
    rmSync(daemonDir, { recursive: true, force: true });
    expect(existsSync(bridge.directory)).toBe(false);
  });

  it('refuses a symlink in place of the socket and sends the daemon nothing', async () => {
    symlinkSync(daemon.path, bridge.socketPath);
    const hostPort = await bridge.hostPort;
    expect(await rawGet(hostPort, '/containers/json')).toBe('');
    expect(await rawGet(hostPort, '/')).toBe('');
    expect(daemon.connections).toBe(0);
    expect(daemon.bytesReceived).toBe(0);
  });

  it('re-pins when the pinned socket stops listening, and a symlink then is still refused', async () => {
    const hostPort = await bridge.hostPort;
    const first = await serveOnBridgeSocket('first');
    expect(body(await rawGet(hostPort, '/'))).toBe('first');
    await new Promise((resolve) => first.close(resolve)); // unlinks the name; the pin stays, refusing
    await serveOnBridgeSocket('second');
    await until(async () => body(await rawGet(hostPort, '/')) === 'second', 'the bridge to pin the new socket');

    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
    expect(await rawGet(hostPort, '/')).toBe(''); // refused: unpinned
    symlinkSync(daemon.path, bridge.socketPath);
    expect(await rawGet(hostPort, '/containers/json')).toBe('');
    unlinkSync(bridge.socketPath);
    expect(daemon.connections).toBe(0);
    expect(daemon.bytesReceived).toBe(0);
  });
});
