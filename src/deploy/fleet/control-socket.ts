/**
 * The supervisor's control protocol spoken directly over its unix socket: one JSON line
 * out, one JSON answer back, then the supervisor closes. Only for the executor's own
 * machine (a local host), where it saves starting a node process per request (about
 * 140 ms each, several per deploy); SSH hosts are asked through the supervisor's CLI.
 */
import { connect } from 'node:net';
import { posix } from 'node:path';

/** Linux truncates longer socket paths (sun_path is 108 bytes): those are asked through the CLI. */
const MAX_SOCKET_PATH = 100;

const NOT_RUNNING = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK']);

export function controlSocketOf(dropletDir: string): string | null {
  const path = posix.join(dropletDir, 'run', 'supervisor.sock');
  return Buffer.byteLength(path) <= MAX_SOCKET_PATH ? path : null;
}

/** The answer line, or null when no supervisor listens there. */
export function askControlSocket(path: string, request: Record<string, unknown>, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let answer = '';
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`the supervisor gave no answer within ${timeoutMs} ms`)));
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      answer += chunk;
      // An answer is one line; more than a megabyte is not one.
      if (answer.length > 1024 * 1024) socket.destroy(new Error('the supervisor answered more than one line'));
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A supervisor shutting down resets connections it will not answer: as good as gone.
      const goingAway = (error.code === 'ECONNRESET' || error.code === 'EPIPE') && answer === '';
      if (NOT_RUNNING.has(error.code ?? '') || goingAway) resolve(null);
      else reject(error);
    });
  });
}
