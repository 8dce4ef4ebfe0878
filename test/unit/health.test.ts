/** Health says what is wrong and how to fix it: a sandbox fallback, a refused sandbox, a silent store. */
import { describe, expect, it } from 'vitest';
import type { ExecutorInfo } from '../../src/http/deps.js';
import { executorInfo, startsTestApps, type TestBuilds } from '../support/http-app.js';

const start = startsTestApps();
const FIX = 'install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap), or set SANDBOX=off to run without it on purpose';

const fellBack: ExecutorInfo['sandboxDetail'] = {
  isolation: 'process group only: bubblewrap does not work here (/missing/bwrap could not run)',
  limits: 'none',
  unavailable_reason: null,
  fallback_reason: 'SANDBOX=auto fell back to a process group; generated code is not isolated from the host.',
  fix: FIX,
};

async function appWith(overrides: Partial<ExecutorInfo>, builds?: TestBuilds) {
  const first = await start(builds ? { builds } : {});
  if (Object.keys(overrides).length === 0) return first;
  await first.app.close();
  return start({ builds: first.builds, info: executorInfo(first.builds, overrides) });
}

describe('health problems', () => {
  it('is degraded (200) when SANDBOX=auto fell back, with the reason and the fix, on both health routes', async () => {
    const { app } = await appWith({ sandboxDetail: fellBack });
    const problem = { component: 'sandbox', reason: fellBack.fallback_reason, fix: FIX, builds_refused: false };
    for (const url of ['/health', '/executor/health']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.json(), url).toMatchObject({ status: 'degraded', problems: [problem] });
    }
    // Builds still run: the executor is active, and its store is available.
    expect((await app.inject({ method: 'GET', url: '/state' })).json().status).toBe('active');
    expect((await app.inject({ method: 'GET', url: '/dependencies' })).json().required_services).toEqual([{ name: 'sqlite', status: 'available' }]);
  });

  it('says builds are refused when SANDBOX=required cannot be met, and /state is error', async () => {
    const { app } = await appWith({ sandboxDetail: { ...fellBack, fallback_reason: null, unavailable_reason: 'SANDBOX=required but bubblewrap does not work here: missing' } });
    const health = (await app.inject({ method: 'GET', url: '/executor/health' })).json();
    expect(health).toMatchObject({ status: 'degraded', problems: [{ component: 'sandbox', reason: expect.stringMatching(/^SANDBOX=required/), fix: FIX, builds_refused: true }] });
    expect((await app.inject({ method: 'GET', url: '/state' })).json().status).toBe('error');
  });

  it('is unhealthy (503) when asking the store throws, and degraded when it does not answer', async () => {
    const broken = await appWith({ storeHealthy: async () => { throw new Error('disk I/O error'); } });
    const unhealthy = await broken.app.inject({ method: 'GET', url: '/health' });
    expect(unhealthy.statusCode).toBe(503);
    expect(unhealthy.json()).toMatchObject({ status: 'unhealthy', problems: [{ component: 'store', builds_refused: true }] });
    await broken.app.close();
    const silent = await appWith({ storeHealthy: async () => false }, broken.builds);
    expect((await silent.app.inject({ method: 'GET', url: '/executor/health' })).json()).toMatchObject({ status: 'degraded', problems: [{ component: 'store', reason: 'The SQLite store does not answer.' }] });
    expect((await silent.app.inject({ method: 'GET', url: '/dependencies' })).json().required_services).toEqual([{ name: 'sqlite', status: 'unavailable' }]);
  });

  it('is healthy with no problems otherwise', async () => {
    const { app } = await appWith({});
    expect((await app.inject({ method: 'GET', url: '/executor/health' })).json()).toMatchObject({ status: 'healthy', problems: [] });
  });
});
