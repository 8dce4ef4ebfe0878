/**
 * The client of a fleet registry at REGISTRY_URL, against real HTTP on loopback: the
 * executor's own /registry routes (a real peer), and small node:http servers that answer
 * 5xx, 429, 4xx, redirects, garbage or nothing at all.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StepError } from '../../src/domain/errors.js';
import { HttpFleetRegistry, type HttpFleetRegistryOptions, type RegistryRetry } from '../../src/registry/http-fleet-registry.js';
import { EmbeddedFleetRegistry } from '../../src/registry/embedded-fleet-registry.js';
import { openDatabase } from '../../src/store/db.js';
import { RegistryEntryStore } from '../../src/store/registry-entries.js';
import { SecretRedactor } from '../../src/support/secrets.js';
import { createTestApp, listen } from '../support/http-app.js';

const TOKEN = 'registry-token-7f3a9c';
const redactor = new SecretRedactor([TOKEN]);
const redact = (text: string) => redactor.redact(text);

const registration = { name: 'plant-tracker', droplet_id: 4, url: 'http://127.0.0.1:41004', capabilities: ['plants'], version: '1.0.0', build_id: 'build-4-a', provenance: { build_id: 'build-4-a', tag: 'v1.0.0' } };

const entry = (id: number) => ({
  id,
  name: 'plant-tracker',
  droplet_id: 4,
  url: 'http://127.0.0.1:41004',
  health_endpoint: '/health',
  capabilities: ['plants'],
  version: '1.0.0',
  build_id: 'build-4-a',
  host: null,
  provenance: {},
  health: 'unknown',
  ttl_seconds: 90,
  registered_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  last_heartbeat_at: null,
  expires_at: '2026-01-01T00:01:30.000Z',
});

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  entryToken: string | undefined;
  body: string;
}

const ENTRY_TOKEN = 'e'.repeat(20) + '0123456789abcdefghijkLM';

const servers: Server[] = [];
const clients: HttpFleetRegistry[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.closeAllConnections() ?? server.close(resolve))));
});

/** A loopback server answering each request with `answer(n)` (n from 1); records what it was sent. */
async function fakeRegistry(answer: (n: number, request: IncomingMessage, response: ServerResponse) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      const entryToken = request.headers['x-registry-entry-token'];
      seen.push({ method: request.method!, url: request.url!, authorization: request.headers.authorization, entryToken: typeof entryToken === 'string' ? entryToken : undefined, body });
      answer(seen.length, request, response);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/registry`, seen };
}

const json = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

function client(url: string, options: Partial<HttpFleetRegistryOptions> = {}) {
  const retries: RegistryRetry[] = [];
  const made = new HttpFleetRegistry({ url, token: TOKEN, timeoutMs: 2_000, maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20, redact, onRetry: (retry) => retries.push(retry), ...options });
  clients.push(made);
  return { registry: made, retries };
}

async function refusal(promise: Promise<unknown>): Promise<StepError> {
  const error = await promise.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(StepError);
  return error as StepError;
}

describe('HttpFleetRegistry against a real executor registry', () => {
  it('registers, heartbeats, lists, reads and deregisters over /registry with the bearer token and the entry token', async () => {
    const fleet = new EmbeddedFleetRegistry(new RegistryEntryStore(openDatabase(':memory:')), { defaultTtlSeconds: 90 });
    const { app } = await createTestApp({ fleetRegistry: fleet, registryToken: TOKEN });
    const base = await listen(app);
    try {
      const { registry } = client(`${base}/registry`);
      const created = await registry.register(registration);
      expect(created).toMatchObject({ changed: true, created: true, entry: { name: 'plant-tracker', droplet_id: 4, version: '1.0.0', provenance: { tag: 'v1.0.0' } } });
      const entryToken = created.entry_token!;
      expect(entryToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const owner = { entryToken };
      expect(await registry.register(registration, owner)).toEqual({ changed: false, created: false, entry: created.entry });
      expect(await registry.heartbeat(created.entry.id, 'healthy', owner)).toMatchObject({ id: created.entry.id, health: 'healthy' });
      expect((await registry.list({ capability: 'plants', health: 'healthy' })).map((found) => found.id)).toEqual([created.entry.id]);
      expect(await registry.list({ capability: 'none' })).toEqual([]);
      expect(await registry.get('plant-tracker')).toMatchObject({ id: created.entry.id });

      // Without the entry token: the registry's refusals, quoted.
      const taken = await refusal(registry.register({ ...registration, build_id: 'build-4-evil' }));
      expect(taken.message).toContain('409 REGISTRY_NAME_TAKEN');
      const forbidden = await refusal(registry.heartbeat(created.entry.id, 'unhealthy'));
      expect(forbidden).toMatchObject({ code: 'REGISTRY_REFUSED', details: { status: 403, registry_code: 'REGISTRY_ENTRY_FORBIDDEN' } });
      expect((await refusal(registry.deregister(created.entry.id))).details).toMatchObject({ status: 403 });

      expect(await registry.deregister(created.entry.id, owner)).toBe(true);
      expect(await registry.get(created.entry.id)).toBeNull();
      expect(await registry.deregister(created.entry.id, owner)).toBe(false);
      await expect(registry.heartbeat(created.entry.id, 'healthy', owner)).rejects.toMatchObject({ status: 404, code: 'REGISTRY_ENTRY_NOT_FOUND' });

      // A proposed token becomes the new entry's.
      const proposed = await registry.register(registration, { entryToken: ENTRY_TOKEN });
      expect(proposed).toMatchObject({ created: true, entry_token: ENTRY_TOKEN });
      expect(await registry.heartbeat('plant-tracker', 'degraded', { entryToken: ENTRY_TOKEN })).toMatchObject({ health: 'degraded' });

      // Without the token: a refusal naming the status and the registry's own code.
      const anonymous = client(`${base}/registry`, { token: undefined }).registry;
      const error = await refusal(anonymous.register(registration));
      expect(error.code).toBe('REGISTRY_REFUSED');
      expect(error.message).toContain('401 UNAUTHORIZED');
    } finally {
      await app.close();
    }
  });

  it('as the operator (API_TOKEN), deregisters an entry without its token', async () => {
    const fleet = new EmbeddedFleetRegistry(new RegistryEntryStore(openDatabase(':memory:')), { defaultTtlSeconds: 90 });
    const { app } = await createTestApp({ fleetRegistry: fleet, apiToken: 'operator-token-4411', registryToken: TOKEN });
    const base = await listen(app);
    try {
      const created = await client(`${base}/registry`).registry.register(registration);
      const operator = client(`${base}/registry`, { token: 'operator-token-4411' }).registry;
      expect(await operator.deregister(created.entry.id)).toBe(true);
      expect(await fleet.list()).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

describe('HttpFleetRegistry and entry tokens', () => {
  it('sends the entry token as X-Registry-Entry-Token on the writes that carry one, and on nothing else', async () => {
    const fake = await fakeRegistry((_n, request, response) => {
      if (request.url === '/registry/register') return json(response, 201, { entry: entry(7), changed: true, created: true, entry_token: ENTRY_TOKEN });
      if (request.method === 'DELETE') return json(response, 200, { deregistered: true, id: 7 });
      if (request.url === '/registry/services') return json(response, 200, { services: [entry(7)], total: 1 });
      return json(response, 200, entry(7));
    });
    const { registry } = client(fake.url);
    const credential = { entryToken: ENTRY_TOKEN, operator: true, ownDroplet: true };
    expect(await registry.register(registration, credential)).toMatchObject({ created: true, entry_token: ENTRY_TOKEN });
    await registry.heartbeat(7, 'healthy', credential);
    await registry.list();
    await registry.get(7);
    await registry.deregister(7, credential);
    await registry.register(registration);
    expect(fake.seen.map((seen) => [seen.method, seen.url, seen.entryToken])).toEqual([
      ['POST', '/registry/register', ENTRY_TOKEN],
      ['POST', '/registry/heartbeat', ENTRY_TOKEN],
      ['GET', '/registry/services', undefined],
      ['GET', '/registry/services/7', undefined],
      ['DELETE', '/registry/services/7', ENTRY_TOKEN],
      ['POST', '/registry/register', undefined],
    ]);
    // The in-process flags mean nothing on the wire.
    expect(fake.seen.every((seen) => !seen.body.includes('operator') && !seen.body.includes('ownDroplet') && !seen.body.includes(ENTRY_TOKEN))).toBe(true);
  });

  it('blanks the entry token from a refusal that echoes it', async () => {
    const fake = await fakeRegistry((_n, request, response) =>
      json(response, 403, { error: { code: 'REGISTRY_ENTRY_FORBIDDEN', message: `Token ${String(request.headers['x-registry-entry-token'])} is not this entry's.` } }),
    );
    const error = await refusal(client(fake.url).registry.heartbeat(7, 'healthy', { entryToken: ENTRY_TOKEN }));
    expect(error.message).toContain('403 REGISTRY_ENTRY_FORBIDDEN: Token [REDACTED] is not');
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain(ENTRY_TOKEN);
  });

  it('refuses a registration answer whose entry token is not one', async () => {
    const fake = await fakeRegistry((_n, _request, response) => json(response, 201, { entry: entry(7), changed: true, created: true, entry_token: 'short' }));
    const error = await refusal(client(fake.url).registry.register(registration));
    expect(error.code).toBe('REGISTRY_REFUSED');
    expect(error.message).toContain('not a registry answer');
  });
});

describe('HttpFleetRegistry retries and refusals', () => {
  it('retries 5xx with back-off until the registry answers, each retry seen', async () => {
    const fake = await fakeRegistry((n, _request, response) => (n <= 2 ? json(response, 503, { error: { code: 'UNAVAILABLE', message: 'warming up' } }) : json(response, 201, { entry: entry(7), changed: true, created: true })));
    const { registry, retries } = client(fake.url);
    const outcome = await registry.register(registration);
    expect(outcome).toMatchObject({ created: true, changed: true, entry: { id: 7 } });
    expect(fake.seen).toHaveLength(3);
    expect(fake.seen.every((request) => request.method === 'POST' && request.url === '/registry/register' && request.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(JSON.parse(fake.seen[2]!.body)).toEqual(registration);
    expect(retries.map((retry) => [retry.request, retry.attempt, retry.reason])).toEqual([
      ['POST /register', 1, '503'],
      ['POST /register', 2, '503'],
    ]);
  });

  it('retries 429 (honouring Retry-After, capped) and accepts a bare entry from a simpler peer', async () => {
    const fake = await fakeRegistry((n, _request, response) => (n === 1 ? json(response, 429, {}, { 'retry-after': '0' }) : json(response, 200, entry(3))));
    const { registry, retries } = client(fake.url);
    expect(await registry.register(registration)).toMatchObject({ created: false, changed: true, entry: { id: 3, health: 'unknown' } });
    expect(retries).toHaveLength(1);
    expect(retries[0]!.delayMs).toBeLessThanOrEqual(20);
  });

  it('gives up after REGISTRY_MAX_ATTEMPTS with REGISTRY_UNAVAILABLE (retryable)', async () => {
    const fake = await fakeRegistry((_n, _request, response) => json(response, 502, { error: { code: 'BAD_GATEWAY', message: 'upstream down' } }));
    const { registry } = client(fake.url, { maxAttempts: 3 });
    const error = await refusal(registry.register(registration));
    expect(fake.seen).toHaveLength(3);
    expect(error.code).toBe('REGISTRY_UNAVAILABLE');
    expect(error.message).toBe(`The fleet registry at ${fake.url} still answered POST /register with 502 BAD_GATEWAY: upstream down after 3 attempt(s).`);
  });

  it('a 4xx is a refusal at once, quoting status, code and message, with secrets redacted', async () => {
    const fake = await fakeRegistry((_n, _request, response) =>
      json(response, 409, { error: { code: 'REGISTRY_NAME_TAKEN', message: `The name "plant-tracker" is registered by droplet 9 (you sent ${TOKEN}).`, details: {} } }),
    );
    const { registry, retries } = client(fake.url);
    const error = await refusal(registry.register(registration));
    expect(fake.seen).toHaveLength(1);
    expect(retries).toEqual([]);
    expect(error.code).toBe('REGISTRY_REFUSED');
    expect(error.message).toBe(`The fleet registry at ${fake.url} refused POST /register: 409 REGISTRY_NAME_TAKEN: The name "plant-tracker" is registered by droplet 9 (you sent [REDACTED]).`);
    expect(error.details).toEqual({ registry: fake.url, request: 'POST /register', status: 409, registry_code: 'REGISTRY_NAME_TAKEN' });
    expect(JSON.stringify(error.details)).not.toContain(TOKEN);
  });

  it('times out a registry that never answers, retries, then reports it', async () => {
    const fake = await fakeRegistry(() => {
      // never answers
    });
    const { registry, retries } = client(fake.url, { timeoutMs: 100, maxAttempts: 2 });
    const error = await refusal(registry.heartbeat(7, 'healthy'));
    expect(fake.seen).toHaveLength(2);
    expect(retries.map((retry) => retry.reason)).toEqual(['timeout']);
    expect(error.code).toBe('REGISTRY_UNAVAILABLE');
    expect(error.message).toContain('did not answer POST /heartbeat after 2 attempt(s): timeout.');
  });

  it('reports a registry that refuses connections', async () => {
    const fake = await fakeRegistry(() => {});
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const { registry, retries } = client(fake.url, { maxAttempts: 2 });
    const error = await refusal(registry.list());
    expect(retries.map((retry) => retry.reason)).toEqual(['ECONNREFUSED']);
    expect(error.message).toContain('did not answer GET /services after 2 attempt(s): ECONNREFUSED.');
  });

  it('refuses an answer that is not a registry answer', async () => {
    const fake = await fakeRegistry((_n, _request, response) => json(response, 200, { hello: 'world' }));
    const error = await refusal(client(fake.url).registry.get('plant-tracker'));
    expect(error.code).toBe('REGISTRY_REFUSED');
    expect(error.message).toBe(`The fleet registry at ${fake.url} answered GET /services/plant-tracker with something that is not a registry answer (id: Invalid input: expected number, received undefined).`);
  });

  it('never follows a redirect (the token would go along)', async () => {
    const elsewhere = await fakeRegistry((_n, _request, response) => json(response, 200, entry(1)));
    const fake = await fakeRegistry((_n, _request, response) => response.writeHead(307, { location: `${elsewhere.url}/register` }).end());
    const error = await refusal(client(fake.url).registry.register(registration));
    expect(error.message).toContain('refused POST /register: 307');
    expect(elsewhere.seen).toEqual([]);
  });

  it('sends credentials of the URL as Basic auth when there is no token, and never shows them', async () => {
    const fake = await fakeRegistry((_n, _request, response) => json(response, 403, { error: { code: 'FORBIDDEN', message: 'no' } }));
    const withCredentials = fake.url.replace('http://', 'http://fleet:s3cret-pw@');
    const error = await refusal(client(withCredentials, { token: undefined }).registry.deregister('plant-tracker'));
    expect(fake.seen[0]!.authorization).toBe(`Basic ${Buffer.from('fleet:s3cret-pw').toString('base64')}`);
    expect(fake.seen[0]!.url).toBe('/registry/services/plant-tracker');
    expect(error.message).toBe(`The fleet registry at ${fake.url} refused DELETE /services/plant-tracker: 403 FORBIDDEN: no.`);
  });

  it('stops waiting when the executor closes it', async () => {
    const fake = await fakeRegistry((_n, _request, response) => json(response, 503, {}));
    const { registry } = client(fake.url, { baseDelayMs: 60_000, maxDelayMs: 60_000 });
    const pending = refusal(registry.register(registration));
    await new Promise((resolve) => setTimeout(resolve, 50));
    registry.close();
    const error = await pending;
    expect(error.code).toBe('REGISTRY_UNAVAILABLE');
    expect(error.message).toContain('the executor is stopping');
  });
});
