/** The verifier's HTTP probe only ever talks to the droplet it was pointed at. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { probe } from '../../src/verify/http-probe.js';

let droplet: Server;
let elsewhere: Server;
const asked: string[] = [];
const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

beforeAll(async () => {
  droplet = createServer((request, response) => response.end(JSON.stringify({ path: request.url })));
  elsewhere = createServer((request, response) => {
    asked.push(`${request.method} ${request.url}`);
    response.end('host-only secret');
  });
  await Promise.all([droplet, elsewhere].map((server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))));
});

afterAll(async () => {
  await Promise.all([droplet, elsewhere].map((server) => new Promise((resolve) => server.close(resolve))));
});

const request = (path: string) => ({ method: 'GET', path, timeoutMs: 2_000, signal: new AbortController().signal });

it('asks the droplet for its own paths', async () => {
  const outcome = await probe(urlOf(droplet), request('/widgets?x=1'));
  expect(outcome).toMatchObject({ answered: true, response: { status: 200, json: { path: '/widgets?x=1' } } });
});

it.each(['//127.0.0.1:{port}/latest/meta-data', '/\\127.0.0.1:{port}/x', 'http://127.0.0.1:{port}/x'])('refuses %s, which would leave the droplet', async (template) => {
  const path = template.replace('{port}', String((elsewhere.address() as AddressInfo).port));
  const outcome = await probe(urlOf(droplet), request(path));
  expect(outcome).toMatchObject({ answered: false, reason: expect.stringContaining('leaves the droplet') });
  expect(asked).toEqual([]);
});
