/** Which sandbox the executor runs generated code in, what it says about it, and SANDBOX=required. */
import { afterEach, describe, expect, it } from 'vitest';
import { api, startExecutor, type TestExecutor } from '../support/executor.js';

interface Health {
  status: string;
  sandbox: string;
  sandbox_detail: { isolation: string; limits: string; unavailable_reason: string | null };
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
    expect(health).toMatchObject({ status: 'healthy', sandbox: 'bubblewrap', sandbox_detail: { unavailable_reason: null } });
    expect(health.sandbox_detail.limits).toMatch(/memory 2048 MiB/);
    expect(health.sandbox_detail.limits).toMatch(/256 processes/);
  });

  it('falls back to a process group with SANDBOX=auto when bubblewrap does not work, and says why', async () => {
    server = await startExecutor({ BWRAP_PATH: '/nonexistent/bwrap' });
    const health = (await api<Health>(server.baseUrl, '/executor/health')).body;
    expect(health).toMatchObject({ status: 'healthy', sandbox: 'process', sandbox_detail: { unavailable_reason: null } });
    expect(health.sandbox_detail.isolation).toContain('/nonexistent/bwrap');
  });

  it('refuses builds with SANDBOX=required when bubblewrap does not work, and health is degraded', async () => {
    server = await startExecutor({ SANDBOX: 'required', BWRAP_PATH: '/nonexistent/bwrap' });
    const health = await api<Health>(server.baseUrl, '/executor/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'degraded', sandbox: 'process' });
    expect(health.body.sandbox_detail.unavailable_reason).toContain('/nonexistent/bwrap');
    const refused = await api<{ error: { code: string; message: string } }>(server.baseUrl, '/executor/build-droplet', {
      body: { architect_intent: 'Build Tide Table for harbour times' },
    });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('UNAVAILABLE');
    expect(refused.body.error.message).toMatch(/SANDBOX=required/);
    expect((await api<unknown[]>(server.baseUrl, '/executor/builds')).body).toEqual([]);
  });
});
