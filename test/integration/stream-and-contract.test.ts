/**
 * The progress stream against a real build, the executor's own droplet contract,
 * and the signed completion webhook, all over loopback.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildView } from '../../src/domain/status.js';
import type { BuildEvent } from '../../src/domain/events.js';
import { api, startExecutor, submitBuild, type TestExecutor, waitForStatus } from '../support/executor.js';
import { collectStream } from '../support/ws-client.js';

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

const WEBHOOK_SECRET = 'whsec-test-0123456789';
const deliveries: Delivery[] = [];
let receiver: Server;
let server: TestExecutor;

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      deliveries.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  // The receiver is on loopback, which notification targets may reach only when allowed.
  server = await startExecutor({ NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${port}/hooks/executor`, NOTIFY_WEBHOOK_SECRET: WEBHOOK_SECRET, NOTIFY_ALLOW_PRIVATE: 'true' });
});

afterAll(async () => {
  await server?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

const isEvent = (message: unknown): message is BuildEvent => typeof (message as BuildEvent).seq === 'number';

describe('the progress stream of a real build', () => {
  it('snapshot, then every event; a reconnect with after= gets exactly the missed ones', async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Expense Splitter for shared trip costs', approval_mode: 'auto', auto_deploy: false });
    const streamUrl = `${server.wsUrl}/executor/builds/${buildId}/stream`;

    // First connection: leave after the first step.completed, like a client whose network drops.
    const first = await collectStream(streamUrl, { stopWhen: (message) => isEvent(message) && message.type === 'step.completed' });
    expect((first.messages[0] as { type: string; build: BuildView }).type).toBe('snapshot');
    expect((first.messages[0] as { build: BuildView }).build.build_id).toBe(buildId);
    const firstEvents = first.messages.filter(isEvent);
    const lastSeen = firstEvents.at(-1)!.seq;

    // Reconnect from the last seen seq and follow to the end; the server closes with 1000.
    const second = await collectStream(`${streamUrl}?after=${lastSeen}`, { timeoutMs: 170_000 });
    expect(second.closeCode).toBe(1000);
    expect((second.messages[0] as { type: string }).type).toBe('snapshot');
    const secondEvents = second.messages.filter(isEvent);
    expect(secondEvents.at(-1)!.type).toBe('build.completed');

    const journal = (await api<BuildEvent[]>(server.baseUrl, `/executor/builds/${buildId}/events?after=0`)).body;
    const seen = [...firstEvents, ...secondEvents];
    expect(seen.map((event) => event.seq)).toEqual(journal.map((event) => event.seq));
    expect(seen).toEqual(journal);
  });

  it('answers 404 before the upgrade for an unknown build', async () => {
    await expect(collectStream(`${server.wsUrl}/executor/builds/build-1-nothing-20260101-000000/stream`)).rejects.toMatchObject({ status: 404 });
  });
});

describe('completion notifications', () => {
  it('POSTs a signed webhook once per completed build', async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Garden Planner for seasonal planting', approval_mode: 'auto', auto_deploy: false });
    const done = await waitForStatus(server.baseUrl, buildId, ['completed']);
    const delivery = deliveries.find((entry) => JSON.parse(entry.body).build_id === buildId)!;
    expect(delivery).toBeDefined();
    // Signed over "<timestamp>.<body>", so a captured body cannot be replayed under a new timestamp.
    const timestamp = String(delivery.headers['x-executor-timestamp']);
    const expected = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(`${timestamp}.${delivery.body}`).digest('hex')}`;
    expect(delivery.headers['x-executor-signature']).toBe(expected);
    expect(delivery.headers['x-executor-delivery']).toBe(`${buildId}:completed`);
    expect(deliveries.filter((entry) => JSON.parse(entry.body).build_id === buildId)).toHaveLength(1);
    expect(done.steps[7]!.details.deliveries).toEqual([
      expect.objectContaining({ channel: 'log', status: 'delivered' }),
      expect.objectContaining({ channel: 'webhook', status: 'delivered', attempts: [expect.objectContaining({ attempt: 1, outcome: 'delivered', detail: 'HTTP 204' })] }),
    ]);
    // The secret is nowhere in what the executor recorded.
    const journal = JSON.stringify((await api(server.baseUrl, `/executor/builds/${buildId}/events`)).body);
    expect(journal).not.toContain(WEBHOOK_SECRET);
    expect(JSON.stringify(done)).not.toContain(WEBHOOK_SECRET);
  });

  it('sends only to the channels a build asks for', async () => {
    const buildId = await submitBuild(server.baseUrl, {
      architect_intent: 'Build Garden Planner for seasonal planting',
      approval_mode: 'auto',
      auto_deploy: false,
      notify_channels: ['log'],
    });
    const done = await waitForStatus(server.baseUrl, buildId, ['completed']);
    expect((done.steps[7]!.details.deliveries as { channel: string }[]).map((entry) => entry.channel)).toEqual(['log']);
    expect(deliveries.some((entry) => JSON.parse(entry.body).build_id === buildId)).toBe(false);
  });
});

describe("the executor's own droplet contract", () => {
  it('answers /health, /capabilities, /state and /dependencies in the UDC shapes', async () => {
    const health = await api<Record<string, unknown>>(server.baseUrl, '/health');
    expect(health.body).toMatchObject({ status: 'healthy', version: '1.0.0', uptime_seconds: expect.any(Number), timestamp: expect.any(String) });
    const capabilities = await api<Record<string, unknown>>(server.baseUrl, '/capabilities');
    expect(capabilities.body).toMatchObject({ service_name: 'autonomous-executor', capabilities: expect.any(Array), integration_endpoints: expect.any(Array) });
    expect((capabilities.body.integration_endpoints as { path: string }[]).map((entry) => entry.path)).toContain('/executor/build-droplet');
    const state = await api<Record<string, unknown>>(server.baseUrl, '/state');
    expect(state.body).toMatchObject({ status: 'active', metrics: expect.any(Object) });
    const dependencies = await api<Record<string, unknown>>(server.baseUrl, '/dependencies');
    expect(dependencies.body).toMatchObject({ required_services: expect.any(Array), optional_services: expect.any(Array), external_apis: expect.any(Array) });
  });

  it('reports the active author, deploy target, registry and sandbox', async () => {
    const health = await api<Record<string, unknown>>(server.baseUrl, '/executor/health');
    expect(health.body).toMatchObject({ status: 'healthy' });
    expect(JSON.stringify(health.body)).toContain('offline');
    const capabilities = await api<Record<string, unknown>>(server.baseUrl, '/executor/capabilities');
    const text = JSON.stringify(capabilities.body);
    for (const word of ['offline', 'local', 'embedded', 'checkpoints', 'final', 'auto', 'webhook']) expect(text).toContain(word);
  });

  it('starts a build from a task_assignment message', async () => {
    const response = await api<{ received: boolean; status: string; build_id: string }>(server.baseUrl, '/message', {
      body: {
        from_service: 'orchestrator',
        message_type: 'task_assignment',
        payload: { architect_intent: 'Build Parking Finder for open spaces nearby', approval_mode: 'checkpoints', auto_deploy: false },
      },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ received: true, status: 'processing' });
    const view = await waitForStatus(server.baseUrl, response.body.build_id, ['waiting_approval']);
    expect(view.droplet_name).toBe('parking-finder');
    await api(server.baseUrl, `/executor/builds/${view.build_id}`, { method: 'DELETE' });
  });
});
