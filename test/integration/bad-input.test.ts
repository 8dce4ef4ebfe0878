/** Every bad request gets its 4xx in the UDC error shape, changes nothing, and the server keeps serving. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startExecutor, type TestExecutor } from '../support/executor.js';

let server: TestExecutor;
beforeAll(async () => {
  server = await startExecutor();
});
afterAll(async () => {
  await server?.close();
});

const intent = 'Build Analytics Engine for tracking droplet metrics and performance';

const cases: [string, { path?: string; method?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }, number, string][] = [
  ['bad JSON', { rawBody: '{"architect_intent": ' }, 400, 'INVALID_JSON'],
  ['a wrong type', { body: { architect_intent: intent, droplet_id: 'thirteen' } }, 400, 'INVALID_INPUT'],
  ['a negative droplet id', { body: { architect_intent: intent, droplet_id: -1 } }, 400, 'INVALID_INPUT'],
  ['an unknown field', { body: { architect_intent: intent, run_as_root: true } }, 400, 'INVALID_INPUT'],
  ['a missing intent', { body: { approval_mode: 'auto' } }, 400, 'INVALID_INPUT'],
  ['a too short intent', { body: { architect_intent: 'build' } }, 400, 'INVALID_INPUT'],
  ['an unknown approval mode', { body: { architect_intent: intent, approval_mode: 'yolo' } }, 400, 'INVALID_INPUT'],
  ['a name with ../', { body: { architect_intent: intent, droplet_name: '../etc' } }, 400, 'INVALID_INPUT'],
  ['a name with spaces', { body: { architect_intent: intent, droplet_name: 'my droplet' } }, 400, 'INVALID_INPUT'],
  ['an unknown notify channel', { body: { architect_intent: intent, notify_channels: ['carrier-pigeon'] } }, 400, 'INVALID_INPUT'],
  ['a 5 MB body', { rawBody: JSON.stringify({ architect_intent: 'x'.repeat(5 * 1024 * 1024) }) }, 413, 'PAYLOAD_TOO_LARGE'],
  ['a non-JSON body', { rawBody: 'architect_intent=hi', headers: { 'content-type': 'text/plain' } }, 415, ''],
  ['an unknown build id', { path: '/executor/builds/build-99-nothing-20260101-000000/status' }, 404, 'NOT_FOUND'],
  ['a malformed build id', { path: '/executor/builds/..%2F..%2Fetc/status' }, 400, 'INVALID_INPUT'],
  ['approving an unknown build', { path: '/executor/builds/build-99-nothing-20260101-000000/approve', body: { approved: true } }, 404, 'NOT_FOUND'],
  ['an approval without a decision', { path: '/executor/builds/build-99-nothing-20260101-000000/approve', body: {} }, 400, 'INVALID_INPUT'],
  ['an unknown route', { path: '/executor/nothing-here' }, 404, 'NOT_FOUND'],
];

describe('bad input', () => {
  it.each(cases)('%s → %i', async (_name, request, status, code) => {
    const response = await api<{ error: { code: string; message: string; details: unknown } }>(
      server.baseUrl,
      request.path ?? '/executor/build-droplet',
      request,
    );
    expect(response.status).toBe(status);
    expect(response.body.error).toEqual({ code: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String), details: expect.any(Object) });
    if (code) expect(response.body.error.code).toBe(code);
  });

  it('created nothing and still serves', async () => {
    const listed = await api<unknown[]>(server.baseUrl, '/executor/builds');
    expect(listed.body).toEqual([]);
    expect(listed.headers.get('x-total-count')).toBe('0');
    expect((await api<{ droplets: unknown[] }>(server.baseUrl, '/executor/droplets')).body.droplets).toEqual([]);
    expect((await api<{ status: string }>(server.baseUrl, '/executor/health')).body.status).toBe('healthy');
  });

  it('refuses a droplet id that belongs to another droplet', async () => {
    const first = await api<{ build_id: string }>(server.baseUrl, '/executor/build-droplet', {
      body: { architect_intent: intent, droplet_id: 40, approval_mode: 'final', auto_deploy: false },
    });
    expect(first.status).toBe(202);
    const clash = await api<{ error: { code: string } }>(server.baseUrl, '/executor/build-droplet', {
      body: { architect_intent: 'Build Weather Station for rainfall data', droplet_id: 40 },
    });
    expect(clash.status).toBe(409);
    expect(clash.body.error.code).toBe('DROPLET_ID_TAKEN');

    // Two unfinished builds of one droplet would share and rewrite one repository.
    const again = await api<{ error: { code: string; details: { build_id: string } } }>(server.baseUrl, '/executor/build-droplet', {
      body: { architect_intent: intent, droplet_id: 40 },
    });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'DROPLET_BUSY', details: { build_id: first.body.build_id } });
    await api(server.baseUrl, `/executor/builds/${first.body.build_id}`, { method: 'DELETE' });
  });
});
