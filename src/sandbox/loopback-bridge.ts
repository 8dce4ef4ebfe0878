/**
 * Lets the host reach a port a command listens on inside a sandbox that has its own
 * (empty) network. Inside, a small executor-owned launcher serves a unix socket in a
 * directory bound into the sandbox and forwards each connection to 127.0.0.1:<port>;
 * on the host, a TCP listener on 127.0.0.1:<ephemeral> forwards to that socket. A unix
 * socket is a file, so it crosses the network namespace; nothing else does.
 *
 * The socket's directory is writable from inside, so its name is the droplet's to
 * replace: with a symlink to a host daemon's socket (/run/docker.sock), connecting by
 * that name would carry the verifier's requests to the daemon. So the host never
 * connects by that name. It pins the socket first: a hard link in a directory of its
 * own that the sandbox cannot see, made only if what it links is a socket, and connects
 * to that link from then on. A hard link names an inode, not a path, and a socket inode
 * in the shared directory can only have been bound there from inside the sandbox: link(2)
 * does not follow a planted symlink (it links the symlink, which the check refuses), and
 * a hard link to a host socket cannot be planted, since links do not cross mounts and the
 * directory is a mount of its own in the sandbox. The pin lives where only the host
 * writes, so checking it and connecting to it cannot race with the droplet.
 */
import { linkSync, lstatSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs inside the sandbox as `node -e LAUNCHER_SOURCE <socket> <port> <command> <args…>`:
 * serves the socket, runs the command with the same stdio, and exits as the command did.
 */
export const LAUNCHER_SOURCE = `
const net = require('node:net');
const { spawn } = require('node:child_process');
const [socketPath, port, command, ...args] = process.argv.slice(1);
const server = net.createServer((outer) => {
  const inner = net.connect({ host: '127.0.0.1', port: Number(port) });
  const end = () => { outer.destroy(); inner.destroy(); };
  outer.on('error', end); inner.on('error', end); outer.on('close', end); inner.on('close', end);
  outer.pipe(inner); inner.pipe(outer);
});
server.on('error', (error) => { process.stderr.write('[sandbox bridge] ' + error.message + '\\n'); });
server.listen(socketPath);
const child = spawn(command, args, { stdio: 'inherit' });
child.on('error', (error) => { process.stderr.write('[sandbox] could not start ' + command + ': ' + error.message + '\\n'); process.exit(127); });
for (const name of ['SIGTERM', 'SIGINT']) process.on(name, () => child.kill(name));
child.on('exit', (code, signal) => {
  server.close();
  if (signal) { process.removeAllListeners(signal); process.kill(process.pid, signal); }
  process.exit(code ?? 1);
});
`;

const SOCKET_NAME = 'port.sock';
const SHARED_NAME = 'shared';
const PINNED_NAME = 'pinned.sock';

/** Whether `path` itself (not what a symlink there points to) is a unix socket. */
function isSocket(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch {
    return false;
  }
}

/** The host half: a directory to bind into the sandbox, and a TCP forwarder into its socket. */
export class LoopbackBridge {
  /** Bound read-write into the sandbox at the same path; holds only the socket. */
  readonly directory: string;
  /** The socket's name inside the sandbox (and in `directory`): the droplet can replace it. */
  readonly socketPath: string;
  /** Host-only: holds `directory` and the pin, and is never bound into the sandbox. */
  private readonly root: string;
  /** A hard link to the socket the launcher bound, once pinned; the host connects only here. */
  private readonly pinnedPath: string;
  private pinned = false;
  /** Host port at 127.0.0.1 that reaches the command's port. */
  readonly hostPort: Promise<number>;
  private readonly server: Server;
  private readonly connections = new Set<Socket>();

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'sandbox-bridge-'));
    this.directory = join(this.root, SHARED_NAME);
    mkdirSync(this.directory, { mode: 0o700 });
    this.socketPath = join(this.directory, SOCKET_NAME);
    this.pinnedPath = join(this.root, PINNED_NAME);
    this.server = createServer((outer) => {
      this.connections.add(outer);
      let inner: Socket | null = null;
      const end = () => {
        outer.destroy();
        inner?.destroy();
        this.connections.delete(outer);
        if (inner) this.connections.delete(inner);
      };
      outer.on('error', end);
      outer.on('close', end);
      // Inward only once the client has spoken: a client whose connection closes before
      // its request was written may never notice (fetch then waits for its own timeout).
      outer.once('data', (first: Buffer) => {
        outer.pause();
        // Not pinned (yet): the launcher is not listening, or the name holds no socket.
        // Either way nothing is sent anywhere; the client sees its connection closed.
        if (!this.pin()) return end();
        inner = createConnection(this.pinnedPath);
        this.connections.add(inner);
        inner.on('error', (error: NodeJS.ErrnoException) => {
          // Nobody listens on the pinned socket (a socket the droplet bound and closed):
          // pin afresh next time, with the same checks, rather than refuse for good.
          if (error.code === 'ECONNREFUSED') this.unpin();
          end();
        });
        inner.on('close', end);
        inner.write(first);
        outer.pipe(inner);
        inner.pipe(outer);
      });
    });
    this.hostPort = new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
        const address = this.server.address();
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('The sandbox bridge could not read its own port.'));
      });
    });
    // A failed listen is reported through hostPort; nobody may be awaiting it yet.
    this.hostPort.catch(() => undefined);
  }

  /**
   * Pins the socket at `socketPath` once, by a hard link at `pinnedPath`. The link is
   * checked, not the name: the droplet may swap the name between any check and the link,
   * but whatever got linked stays put, and a symlink it planted gets linked as a symlink.
   * Every connect also checks the pin again (only the host writes there; belt and braces).
   */
  private pin(): boolean {
    if (this.pinned) return isSocket(this.pinnedPath);
    // Only a quick refusal: the droplet can swap the name right after this check, which
    // is why the link made next is what gets checked and used.
    if (!isSocket(this.socketPath)) return false;
    try {
      linkSync(this.socketPath, this.pinnedPath);
    } catch {
      return false; // no socket yet, or a leftover pin this unpin could not remove
    }
    this.pinned = isSocket(this.pinnedPath);
    if (!this.pinned) this.unpin();
    return this.pinned;
  }

  private unpin(): void {
    this.pinned = false;
    rmSync(this.pinnedPath, { force: true });
  }

  /** The command line that runs `command` inside the sandbox with the bridge beside it. */
  launch(nodePath: string, port: number, command: string, args: readonly string[]): { file: string; args: string[] } {
    return { file: nodePath, args: ['-e', LAUNCHER_SOURCE, this.socketPath, String(port), command, ...args] };
  }

  async close(): Promise<void> {
    for (const socket of this.connections) socket.destroy();
    this.connections.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.root, { recursive: true, force: true });
  }
}
