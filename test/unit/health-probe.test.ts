/**
 * The executor's probe of a droplet's public address treats the droplet's answer as
 * untrusted: a redirect is not followed (a droplet could point the executor at any URL,
 * its own API included), and a 200 whose body is larger than a health answer can be is
 * not read to its end (a droplet could stream without end). Real HTTP servers on loopback.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isHealthy } from '../../src/deploy/health.js';

const servers: Server[] = [];

async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const HEALTHY = JSON.stringify({ status: 'healthy' });

describe('isHealthy against an untrusted droplet', () => {
  it('is true for a plain healthy answer (the probe works at all)', async () => {
    const url = await serve((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(HEALTHY));
    expect(await isHealthy(url)).toBe(true);
  });

  it('does not follow a 302: the other URL is never requested, and the droplet is not healthy', async () => {
    let elsewhereHits = 0;
    const elsewhere = await serve((_request, response) => {
      elsewhereHits += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end(HEALTHY);
    });
    let dropletHits = 0;
    const droplet = await serve((_request, response) => {
      dropletHits += 1;
      response.writeHead(302, { location: `${elsewhere}/health` }).end();
    });

    expect(await isHealthy(droplet)).toBe(false);
    expect(dropletHits).toBe(1);
    expect(elsewhereHits).toBe(0);
  });

  it('gives up on a 200 with a 50 MB body streamed slowly, having read only a small part of it', async () => {
    const TOTAL = 50 * 1024 * 1024;
    const CHUNK = 32 * 1024;
    let sent = 0;
    let finished!: Promise<void>;
    const url = await serve((_request, response) => {
      finished = new Promise((resolve) => response.on('close', () => resolve()));
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(TOTAL) });
      // A well-formed healthy answer, were it read to the end: only its size makes it refused.
      const head = Buffer.from('{"status":"healthy","padding":"');
      const tail = Buffer.from('"}');
      const pad = Buffer.alloc(CHUNK, 'x');
      response.write(head);
      sent = head.length;
      const next = () => {
        if (response.destroyed) return;
        const left = TOTAL - tail.length - sent;
        if (left <= 0) {
          sent += tail.length;
          response.end(tail);
          return;
        }
        const chunk = left < CHUNK ? pad.subarray(0, left) : pad;
        sent += chunk.length;
        // Slowly, and never faster than the client takes it: what is sent is about what was read.
        const later = () => setTimeout(next, 2);
        if (response.write(chunk)) later();
        else response.once('drain', later);
      };
      next();
    });

    expect(await isHealthy(url)).toBe(false);
    await finished;
    // The probe's cap is 64 KiB; the socket buffers add some. A probe that read on until
    // its timeout would have taken many megabytes.
    expect(sent).toBeLessThan(TOTAL / 20);
  });
});
