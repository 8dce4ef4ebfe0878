/** Refused requests: status, UDC error body, and the pipeline never asked. */
import { request as httpRequest } from 'node:http';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { listen, startsTestApps, type TestApp, TestBuilds } from '../support/http-app.js';
import { UpgradeRefusedError, collectStream } from '../support/ws-client.js';
import { expectUdcError } from '../support/udc-error.js';

const INTENT = 'Build Analytics Engine for tracking droplet metrics';
const start = startsTestApps();

/** Waits until the server holds no client connection (a refused upgrade must not leak its socket). */
async function connectionsDrained(app: TestApp['app']): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const open = await new Promise<number>((resolve, reject) => app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
    if (open === 0) return 0;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return new Promise<number>((resolve) => app.server.getConnections((_error, count) => resolve(count)));
}


/** POST raw bytes over a real socket and read the answer (no client-side body limits). */
function rawPost(baseUrl: string, path: string, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    // The server may answer and close before the whole body is written.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    req.end(body);
  });
}

describe('POST /executor/build-droplet refuses bad input', () => {
  const post = (app: TestApp['app'], payload: string, contentType = 'application/json') =>
    app.inject({ method: 'POST', url: '/executor/build-droplet', headers: { 'content-type': contentType }, payload });

  it('answers 400 INVALID_JSON for a body that is not JSON', async () => {
    const { app, builds } = await start();
    expectUdcError(await post(app, '{"architect_intent": "Build a'), 400, 'INVALID_JSON');
    expectUdcError(await post(app, ''), 400, 'INVALID_JSON');
    expect(builds.submitted).toEqual([]);
  });

  it('refuses unknown fields, a missing or short intent, and bad field types', async () => {
    const { app, builds } = await start();
    const unknown = expectUdcError(await post(app, JSON.stringify({ architect_intent: INTENT, dropletId: 3 })), 400, 'INVALID_INPUT');
    expect(unknown.details.issues).toEqual([{ path: '', message: 'Unrecognized key: "dropletId"' }]);

    const missing = expectUdcError(await post(app, JSON.stringify({ approval_mode: 'auto' })), 400, 'INVALID_INPUT');
    expect(missing.details.issues).toEqual([{ path: 'architect_intent', message: expect.any(String) }]);

    const short = expectUdcError(await post(app, JSON.stringify({ architect_intent: '   tiny    ' })), 400, 'INVALID_INPUT');
    expect((short.details.issues as { path: string }[])[0]?.path).toBe('architect_intent');

    const several = expectUdcError(
      await post(app, JSON.stringify({ architect_intent: INTENT, droplet_id: -1, approval_mode: 'yolo', notify_channels: ['Log!'] })),
      400,
      'INVALID_INPUT',
    );
    expect((several.details.issues as { path: string }[]).map((issue) => issue.path).sort()).toEqual(['approval_mode', 'droplet_id', 'notify_channels.0']);

    expectUdcError(await post(app, JSON.stringify([INTENT])), 400, 'INVALID_INPUT');
    expect(builds.submitted).toEqual([]);
  });

  it.each(['../etc', 'my droplet', 'Analytics', 'a-', 'ab', 'x'.repeat(51), 'two--hyphens'])('refuses droplet_name %j', async (name) => {
    const { app, builds } = await start();
    const error = expectUdcError(await post(app, JSON.stringify({ architect_intent: INTENT, droplet_name: name })), 400, 'INVALID_INPUT');
    expect(new Set((error.details.issues as { path: string }[]).map((issue) => issue.path))).toEqual(new Set(['droplet_name']));
    expect(builds.submitted).toEqual([]);
  });

  it('answers 415 for a body that is not JSON by content type', async () => {
    const { app, builds } = await start();
    expectUdcError(await post(app, INTENT, 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectUdcError(await post(app, '<intent/>', 'application/xml'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(builds.submitted).toEqual([]);
  });

  it('answers 413 for a 5 MB body over a real socket and keeps serving', async () => {
    const { app, builds } = await start();
    const baseUrl = await listen(app);
    const huge = Buffer.from(JSON.stringify({ architect_intent: 'x'.repeat(5 * 1024 * 1024) }));
    const answer = await rawPost(baseUrl, '/executor/build-droplet', huge);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({
      error: { code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('1048576'), details: { limit_bytes: 1048576 } },
    });
    expect(builds.submitted).toEqual([]);

    const health = await fetch(`${baseUrl}/health`);
    expect(health.status).toBe(200);
    const accepted = await fetch(`${baseUrl}/executor/build-droplet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ architect_intent: INTENT }),
    });
    expect(accepted.status).toBe(202);
    expect(builds.submitted).toHaveLength(1);
  });

  it('honours a configured bodyLimit', async () => {
    const { app } = await start({ bodyLimit: 100 });
    const error = expectUdcError(await post(app, JSON.stringify({ architect_intent: 'y'.repeat(200) })), 413, 'PAYLOAD_TOO_LARGE');
    expect(error.details).toEqual({ limit_bytes: 100 });
  });
});

describe('unknown things', () => {
  it('answers 404 NOT_FOUND for an unknown route, in the UDC shape', async () => {
    const { app } = await start();
    const error = expectUdcError(await app.inject({ method: 'GET', url: '/nope?x=1' }), 404, 'NOT_FOUND');
    expect(error.message).toBe('No route GET /nope.');
  });

  it('answers 404 for an unknown build and 400 for a malformed build id', async () => {
    const { app } = await start();
    for (const url of ['/executor/builds/build-1-nothing-here/status', '/executor/builds/build-1-nothing-here/events']) {
      expectUdcError(await app.inject({ method: 'GET', url }), 404, 'NOT_FOUND');
    }
    expectUdcError(await app.inject({ method: 'DELETE', url: '/executor/builds/build-1-nothing-here' }), 404, 'NOT_FOUND');
    for (const id of ['..%2F..%2Fetc', 'BUILD-1', 'build-1%20x', `build-${'a'.repeat(121)}`]) {
      const error = expectUdcError(await app.inject({ method: 'GET', url: `/executor/builds/${id}/status` }), 400, 'INVALID_INPUT');
      expect((error.details.issues as { path: string }[])[0]?.path).toBe('id');
    }
    expectUdcError(await app.inject({ method: 'GET', url: '/executor/builds/%E0%A4%A/status' }), 400, 'INVALID_URL');
  });

  it('refuses the WebSocket upgrade of an unknown build with a plain 404', async () => {
    const { app } = await start();
    const baseUrl = await listen(app);
    const refused = await collectStream(`${baseUrl}/executor/builds/build-9-ghost-20260101-000000/stream`).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UpgradeRefusedError);
    expect((refused as UpgradeRefusedError).status).toBe(404);
    expect(JSON.parse((refused as UpgradeRefusedError).body).error.code).toBe('NOT_FOUND');

    const malformed = await collectStream(`${baseUrl}/executor/builds/not-a-build/stream`).catch((error: unknown) => error);
    expect((malformed as UpgradeRefusedError).status).toBe(400);
    const noRoute = await collectStream(`${baseUrl}/no/such/stream`).catch((error: unknown) => error);
    expect((noRoute as UpgradeRefusedError).status).toBe(404);
    expect(await connectionsDrained(app)).toBe(0);
  });

  it('answers 426 to a plain GET of the stream route', async () => {
    const { app, builds } = await start();
    const view = await builds.submit({ architectIntent: INTENT, approvalMode: 'auto', autoDeploy: true });
    expectUdcError(await app.inject({ method: 'GET', url: `/executor/builds/${view.build_id}/stream` }), 426, 'UPGRADE_REQUIRED');
  });
});

describe('bearer auth', () => {
  const token = 'test-token-0123456789';

  it('guards every route but the health ones', async () => {
    const { app, builds } = await start({ apiToken: token });
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/executor/health' })).statusCode).toBe(200);

    const payload = { architect_intent: INTENT };
    expectUdcError(await app.inject({ method: 'POST', url: '/executor/build-droplet', payload }), 401, 'UNAUTHORIZED');
    expectUdcError(
      await app.inject({ method: 'POST', url: '/executor/build-droplet', payload, headers: { authorization: `Bearer ${token}x` } }),
      401,
      'UNAUTHORIZED',
    );
    expectUdcError(await app.inject({ method: 'GET', url: '/capabilities', headers: { authorization: token } }), 401, 'UNAUTHORIZED');
    expectUdcError(await app.inject({ method: 'GET', url: '/no-such-route' }), 401, 'UNAUTHORIZED');
    expect(builds.submitted).toEqual([]);

    const accepted = await app.inject({ method: 'POST', url: '/executor/build-droplet', payload, headers: { authorization: `bearer ${token}` } });
    expect(accepted.statusCode).toBe(202);
    expect(builds.submitted).toHaveLength(1);
  });

  it('guards the stream before the upgrade', async () => {
    const { app, builds } = await start({ apiToken: token });
    const view = await builds.submit({ architectIntent: INTENT, approvalMode: 'auto', autoDeploy: true });
    const baseUrl = await listen(app);
    const url = `${baseUrl}/executor/builds/${view.build_id}/stream`;
    const refused = await collectStream(url).catch((error: unknown) => error);
    expect((refused as UpgradeRefusedError).status).toBe(401);
    expect(await connectionsDrained(app)).toBe(0);

    await builds.begin(view.build_id);
    await builds.completeBuild(view.build_id);
    const allowed = await collectStream(url, { headers: { authorization: `Bearer ${token}` } });
    expect(allowed.closeCode).toBe(1000);
    expect((allowed.messages[0] as { type: string }).type).toBe('snapshot');
  });
});

describe('server errors', () => {
  it('answers 500 INTERNAL without internals and logs the stack', async () => {
    const lines: string[] = [];
    const builds = new TestBuilds();
    // The store fails under the real service.
    builds.store.versionOf = async () => {
      throw new Error('disk I/O error at /var/lib/executor/secret.db');
    };
    const { app } = await start({
      builds,
      // A ready pino instance, as main.ts hands in.
      logger: pino({ level: 'error' }, { write: (line: string) => void lines.push(line) }),
    });
    const response = await app.inject({ method: 'GET', url: '/executor/builds/build-1-a-b/status' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ error: { code: 'INTERNAL', message: 'The executor hit an internal error.', details: {} } });
    expect(response.body).not.toContain('secret.db');
    const logged = lines.map((line) => JSON.parse(line) as { level: number; err?: { stack?: string } });
    expect(logged.some((entry) => entry.level === 50 && entry.err?.stack?.includes('secret.db'))).toBe(true);
  });
});
