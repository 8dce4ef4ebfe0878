/** Which sandbox the executor runs generated code in, what it says about it, and SANDBOX=required. */
import { afterEach, describe, expect, it } from 'vitest';
import { api, startExecutor, type TestExecutor } from '../support/executor.js';

interface Health {
  status: string;
  sandbox: string;
  sandbox_detail: { isolation: string; limits: string; unavailable_reason: string | null; fallback_reason: string | null; fix: string | null };
  problems: { component: string; reason: string; fix: string; builds_refused: boolean }[];
}

let server: TestExecutor | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('the sandbox in force', () => {
  it('is bubblewrap by default here, and health says so with the limits', async () => {
    server = await startExecutor();
    const health = (await api<Health>(server.baseUrl, '/executor/health')).body;
    expect(health).toMatchObject({ status: 'healthy', sandbox: 'bubblewrap', sandbox_detail: { unavailable_reason: null, fallback_reason: null, fix: null }, problems: [] });
    expect(health.sandbox_detail.limits).toMatch(/memory 2048 MiB/);
    expect(health.sandbox_detail.limits).toMatch(/256 processes/);
  });

  it('falls back to a process group with SANDBOX=auto when bubblewrap does not work: degraded, saying why and how to fix it', async () => {
    server = await startExecutor({ BWRAP_PATH: '/nonexistent/bwrap' });
    const health = await api<Health>(server.baseUrl, '/executor/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'degraded', sandbox: 'process', sandbox_detail: { unavailable_reason: null } });
    expect(health.body.sandbox_detail.isolation).toContain('/nonexistent/bwrap');
    expect(health.body.problems).toEqual([
      { component: 'sandbox', reason: expect.stringContaining('/nonexistent/bwrap'), fix: expect.stringContaining('apt-get install bubblewrap'), builds_refused: false },
    ]);
    expect(health.body.problems[0]!.fix).toContain('SANDBOX=off');
    const udc = await api<Pick<Health, 'status' | 'problems'>>(server.baseUrl, '/health');
    expect(udc.status).toBe(200);
    expect(udc.body).toMatchObject({ status: 'degraded', problems: health.body.problems });
    // Builds still run (less isolated): the executor is active, not in error.
    expect((await api<{ status: string }>(server.baseUrl, '/state')).body.status).toBe('active');
  });

  it('is healthy with SANDBOX=off: running without bubblewrap was chosen knowingly', async () => {
    server = await startExecutor({ SANDBOX: 'off', BWRAP_PATH: '/nonexistent/bwrap' });
    const health = (await api<Health>(server.baseUrl, '/executor/health')).body;
    expect(health).toMatchObject({ status: 'healthy', sandbox: 'process', problems: [], sandbox_detail: { fallback_reason: null, fix: null } });
  });

  it('refuses builds with SANDBOX=required when bubblewrap does not work, and health is degraded', async () => {
    server = await startExecutor({ SANDBOX: 'required', BWRAP_PATH: '/nonexistent/bwrap' });
    const health = await api<Health>(server.baseUrl, '/executor/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'degraded', sandbox: 'process' });
    expect(health.body.sandbox_detail.unavailable_reason).toContain('/nonexistent/bwrap');
    expect(health.body.problems).toMatchObject([{ component: 'sandbox', builds_refused: true, fix: expect.stringContaining('apt-get install bubblewrap') }]);
    expect((await api<{ status: string }>(server.baseUrl, '/state')).body.status).toBe('error');
    const refused = await api<{ error: { code: string; message: string } }>(server.baseUrl, '/executor/build-droplet', {
      body: { architect_intent: 'Build Tide Table for harbour times' },
    });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('UNAVAILABLE');
    expect(refused.body.error.message).toMatch(/SANDBOX=required/);
    expect((await api<unknown[]>(server.baseUrl, '/executor/builds')).body).toEqual([]);
  });
});
