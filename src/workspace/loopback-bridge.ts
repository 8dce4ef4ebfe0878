/**
 * Lets the host reach a port a command listens on inside a sandbox that has its own
 * (empty) network. Inside, a small executor-owned launcher serves a unix socket in a
 * directory bound into the sandbox and forwards each connection to 127.0.0.1:<port>;
 * on the host, a TCP listener on 127.0.0.1:<ephemeral> forwards to that socket. A unix
 * socket is a file, so it crosses the network namespace; nothing else does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
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

/** The host half: a directory to bind into the sandbox, and a TCP forwarder into its socket. */
export class LoopbackBridge {
  /** Bound read-write into the sandbox at the same path; holds only the socket. */
  readonly directory: string;
  readonly socketPath: string;
  /** Host port at 127.0.0.1 that reaches the command's port. */
  readonly hostPort: Promise<number>;
  private readonly server: Server;
  private readonly connections = new Set<Socket>();

  constructor() {
    this.directory = mkdtempSync(join(tmpdir(), 'sandbox-bridge-'));
    this.socketPath = join(this.directory, SOCKET_NAME);
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
        inner = createConnection(this.socketPath);
        this.connections.add(inner);
        inner.on('error', end);
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

  /** The command line that runs `command` inside the sandbox with the bridge beside it. */
  launch(nodePath: string, port: number, command: string, args: readonly string[]): { file: string; args: string[] } {
    return { file: nodePath, args: ['-e', LAUNCHER_SOURCE, this.socketPath, String(port), command, ...args] };
  }

  async close(): Promise<void> {
    for (const socket of this.connections) socket.destroy();
    this.connections.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.directory, { recursive: true, force: true });
  }
}
