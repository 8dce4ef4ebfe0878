/** Ephemeral TCP ports for droplets started on this machine. */
import { createServer } from 'node:net';

/**
 * A port that was free a moment ago: binds port 0, reads what the OS chose, closes.
 * Another process may take it before the caller binds; callers treat a failed
 * bind like any other start failure.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : null;
      server.close((closeError) => {
        if (closeError) reject(closeError);
        else if (port === null) reject(new Error(`Could not read the port bound on ${host}.`));
        else resolve(port);
      });
    });
  });
}
