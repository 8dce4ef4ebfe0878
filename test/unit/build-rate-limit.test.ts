/**
 * Build submissions per client are limited (one budget for POST /executor/build-droplet
 * and a task_assignment to POST /message), over real loopback HTTP: the one over the
 * limit answers 429 in the UDC shape with Retry-After; other routes and messages are not limited.
 */
import { describe, expect, it } from 'vitest';
import { api } from '../support/executor.js';
import { listen, startsTestApps } from '../support/http-app.js';

const INTENT = 'Build a service that stores short notes and lists them newest first.';
const LIMIT = 3;
const start = startsTestApps();

interface UdcErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}

let named = 0;
/** A build request for a droplet of its own (two active builds of one droplet conflict). */
const submission = () => ({ architect_intent: INTENT, droplet_name: `notes-${(named += 1)}` });
const taskAssignment = () => ({ from_service: 'architect', message_type: 'task_assignment', payload: submission() });

async function limitedApp(max = LIMIT) {
  const test = await start({ buildRateLimit: { max, windowSeconds: 60 } });
  return { ...test, base: await listen(test.app) };
}

describe('build submission rate limit', () => {
  it('answers the submission over the limit with 429 RATE_LIMITED, Retry-After and retry_after_seconds', async () => {
    const { base, builds } = await limitedApp();
    for (let n = 0; n < LIMIT; n += 1) expect((await api(base, '/executor/build-droplet', { body: submission() })).status).toBe(202);
    const refused = await api<UdcErrorBody>(base, '/executor/build-droplet', { body: submission() });
    expect(refused.status).toBe(429);
    expect(Object.keys(refused.body)).toEqual(['error']);
    expect(refused.body.error.code).toBe('RATE_LIMITED');
    expect(refused.body.error.message).toMatch(/at most 3 per 60 s/);
    const retryAfter = refused.body.error.details.retry_after_seconds as number;
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(Number(refused.headers.get('retry-after'))).toBe(retryAfter);
    expect(builds.submitted).toHaveLength(LIMIT);
  });

  it('counts task_assignment messages against the same budget, other messages and routes not at all', async () => {
    const { base, builds } = await limitedApp();
    expect((await api(base, '/executor/build-droplet', { body: submission() })).status).toBe(202);
    expect((await api(base, '/message', { body: taskAssignment() })).status).toBe(200);
    // Messages that start no build, and reads, spend nothing.
    for (let n = 0; n < LIMIT + 2; n += 1) {
      expect((await api(base, '/message', { body: { from_service: 'architect', message_type: 'status_update', payload: {} } })).status).toBe(200);
      expect((await api(base, '/executor/builds')).status).toBe(200);
      expect((await api(base, '/health')).status).toBe(200);
    }
    expect((await api(base, '/message', { body: taskAssignment() })).status).toBe(200);
    const refused = await api<UdcErrorBody>(base, '/message', { body: taskAssignment() });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('RATE_LIMITED');
    expect((await api<UdcErrorBody>(base, '/executor/build-droplet', { body: submission() })).body.error.code).toBe('RATE_LIMITED');
    expect(builds.submitted).toHaveLength(LIMIT);
    // Still limited only there.
    expect((await api(base, '/executor/builds')).status).toBe(200);
  });

  it('limits nothing when the limit is 0 or absent', async () => {
    for (const overrides of [{ buildRateLimit: { max: 0, windowSeconds: 60 } }, {}]) {
      const { app, builds } = await start(overrides);
      const base = await listen(app);
      for (let n = 0; n < LIMIT + 2; n += 1) expect((await api(base, '/executor/build-droplet', { body: submission() })).status).toBe(202);
      expect(builds.submitted).toHaveLength(LIMIT + 2);
      await app.close();
    }
  });
});
