/**
 * Step 7 against a fleet registry that misbehaves, served on loopback by a small node:http
 * server standing in for REGISTRY_URL: one that answers 503 twice and then accepts (the
 * retries seen and counted, the build completes, registered once), and one that answers
 * 403 (the step fails with REGISTRY_REFUSED naming the status and the registry's error).
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/domain/events.js';
import type { BuildView } from '../../src/domain/status.js';
import { api, startExecutor, submitBuild, waitForStatus, type TestExecutor } from '../support/executor.js';

const TOKEN = 'faulty-registry-token-93b2';
const FLAKY = 'fleet-flaky';
const REFUSED = 'fleet-refused';

interface Received {
  method: string;
  path: string;
  authorization: string | undefined;
  entryToken: string | undefined;
  body: Record<string, unknown>;
}

let registry: Server;
let registryUrl: string;
const received: Received[] = [];
let server: TestExecutor;

const json = (response: ServerResponse, status: number, body: unknown): void => {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

function entryFor(body: Record<string, unknown>, id: number) {
  return { ...body, id, health: 'unknown', registered_at: new Date().toISOString(), updated_at: new Date().toISOString(), last_heartbeat_at: null, expires_at: new Date(Date.now() + 3_600_000).toISOString() };
}

/** 503 twice, then 201, for the flaky droplet; 403 for the refused one; heartbeats renewed. */
function answer(request: Received, response: ServerResponse): void {
  if (request.authorization !== `Bearer ${TOKEN}`) return json(response, 401, { error: { code: 'UNAUTHORIZED', message: 'A valid bearer token is required.' } });
  if (request.path === '/registry/register' && request.body.name === REFUSED) {
    return json(response, 403, { error: { code: 'FORBIDDEN', message: 'This executor may not register services here.', details: {} } });
  }
  if (request.path === '/registry/register') {
    const attempts = received.filter((seen) => seen.path === '/registry/register' && seen.body.name === FLAKY).length;
    if (attempts <= 2) return json(response, 503, { error: { code: 'UNAVAILABLE', message: 'The registry is starting.', details: {} } });
    return json(response, 201, { entry: entryFor(request.body, 41), changed: true, created: true });
  }
  if (request.path === '/registry/heartbeat') return json(response, 200, entryFor({ name: FLAKY, url: 'http://127.0.0.1:1', version: '1.0.0' }, 41));
  return json(response, 404, { error: { code: 'NOT_FOUND', message: 'No such route.', details: {} } });
}

beforeAll(async () => {
  registry = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    request.on('end', () => {
      const entryToken = request.headers['x-registry-entry-token'];
      const seen = {
        ...{ method: request.method!, path: request.url!, authorization: request.headers.authorization },
        entryToken: typeof entryToken === 'string' ? entryToken : undefined,
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      };
      received.push(seen);
      answer(seen, response);
    });
  });
  await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
  registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/registry`;
  server = await startExecutor({ REGISTRY_URL: registryUrl, REGISTRY_TOKEN: TOKEN, REGISTRY_MAX_ATTEMPTS: '4', REGISTRY_HEARTBEAT_SECONDS: '3600', REGISTRY_TTL_SECONDS: '7200' });
}, 60_000);

afterAll(async () => {
  await server?.close();
  registry?.closeAllConnections();
  await new Promise((resolve) => registry?.close(resolve));
});

async function build(name: string, outcome: 'completed' | 'failed'): Promise<BuildView> {
  const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Recipe Box for family recipes', droplet_name: name, approval_mode: 'auto' });
  return waitForStatus(server.baseUrl, buildId, [outcome]);
}

const registrations = (name: string) => received.filter((seen) => seen.method === 'POST' && seen.path === '/registry/register' && seen.body.name === name);

describe('a fleet registry that answers 5xx, then 2xx', () => {
  it('is retried with back-off until it accepts; the build completes, registered once', async () => {
    const done = await build(FLAKY, 'completed');
    const sent = registrations(FLAKY);
    // Two 503s and the accepted third: the same registration each time.
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((seen) => JSON.stringify(seen.body))).size).toBe(1);
    expect(sent[0]!.body).toMatchObject({ name: FLAKY, droplet_id: done.droplet_id, url: done.deployment_url, version: '1.0.0', build_id: done.build_id, ttl_seconds: 7200, provenance: { build_id: done.build_id, tag: 'v1.0.0' } });
    const step = done.steps.find((candidate) => candidate.step === 'registry_update')!;
    expect(step.details).toMatchObject({ registry: 'http', version: '1.0.0', tag: 'v1.0.0', fleet_entry_id: 41, changed: true });
    // One entry token, chosen before the first attempt: a retry whose first attempt did land is still the owner's.
    const tokens = new Set(sent.map((seen) => seen.entryToken));
    expect(tokens.size).toBe(1);
    const [entryToken] = [...tokens];
    expect(entryToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const events = await api(server.baseUrl, `/executor/builds/${done.build_id}/events?after=0`);
    expect(JSON.stringify([done, events.body])).not.toContain(entryToken);
  });
});

describe('a fleet registry that answers 4xx', () => {
  let failed: BuildView;

  beforeAll(async () => {
    failed = await build(REFUSED, 'failed');
  });

  it('fails step 7 with REGISTRY_REFUSED, naming the status and what the registry said, without retrying', () => {
    expect(registrations(REFUSED)).toHaveLength(1);
    const step = failed.steps.find((candidate) => candidate.step === 'registry_update')!;
    expect(step.status).toBe('failed');
    expect(failed.error).toMatchObject({
      code: 'REGISTRY_REFUSED',
      message: `The fleet registry at ${registryUrl} refused POST /register: 403 FORBIDDEN: This executor may not register services here.`,
      retryable: false,
      details: { step: 'registry_update', step_number: 7 },
    });
    expect(step.error).toMatchObject({ code: 'REGISTRY_REFUSED', details: { status: 403, registry_code: 'FORBIDDEN', request: 'POST /register', registry: registryUrl } });
  });

  it('leaves no version tag behind, and the token nowhere in the status or the journal', async () => {
    const tags = execFileSync('git', ['-C', failed.repository_path!, 'tag', '--list', 'v*'], { encoding: 'utf8' });
    expect(tags).toBe('');
    const events = await api<BuildEvent[]>(server.baseUrl, `/executor/builds/${failed.build_id}/events?after=0`);
    expect(JSON.stringify(events.body)).not.toContain(TOKEN);
    expect(JSON.stringify(failed)).not.toContain(TOKEN);
  });
});
