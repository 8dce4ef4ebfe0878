import { defineConfig } from 'vitest/config';

/**
 * Three tiers, each runnable alone (`npm run test:unit`, `test:integration`, `test:host`);
 * `npm test` runs all of them.
 * - unit: the core over in-memory SQLite with stub providers, HTTP on loopback, pure
 *   modules, git in temporary directories. Seconds in all.
 * - integration: whole builds through a real executor (npm, the droplet's tests, deploys).
 * - host: what contains generated code on the host (bubblewrap, cgroups, process groups, hostile builds).
 */
const UNIT = ['test/unit/**/*.test.ts'];
const INTEGRATION = ['test/integration/**/*.test.ts'];
const HOST = ['test/host/**/*.test.ts'];

export default defineConfig({
  test: {
    // Builds spawn npm, node and git: give them room on a 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Each worker imports the executor once for all its files, not once per file: about 100 s less
    // of the suite (import time 127 s -> 33 s). A test that changes process-wide state (env,
    // timers) puts it back, as it would have to for two tests in one file anyway.
    isolate: false,
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      { extends: true, test: { name: 'integration', include: INTEGRATION } },
      { extends: true, test: { name: 'host', include: HOST } },
    ],
  },
});
