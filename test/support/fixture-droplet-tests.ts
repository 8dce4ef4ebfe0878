/** The fixture droplet's own `node --test` file: one test per UDC endpoint, each switchable off. */
import type { FixtureDropletOptions } from './fixture-droplet.js';

/** The UDC endpoints the fixture's own tests request, one test each. */
export const UDC_TEST_PATHS = ['/health', '/capabilities', '/state', '/dependencies', '/message'] as const;
export type UdcTestPath = (typeof UDC_TEST_PATHS)[number];

/** How the fixture's own test of an endpoint is left out: not written, switched off, or commented out. */
export type UntestedHow = 'absent' | 'skipped' | 'commented';

/** One test per UDC endpoint: each makes the request (the verifier checks the answers itself). */
const ENDPOINT_TESTS: Record<UdcTestPath, string> = {
  '/health': `test('GET /health answers without a token', OPTIONS, async () => {
  await withServer(async (base) => {
    const response = await fetch(\`\${base}/health\`);
    assert.equal(response.status, 200);
  });
});`,
  '/capabilities': `test('GET /capabilities answers JSON', OPTIONS, async () => {
  await withServer(async (base) => {
    const response = await fetch(\`\${base}/capabilities\`, { headers: AUTH });
    assert.equal(typeof (await response.json()), 'object');
  });
});`,
  '/state': `test('GET /state answers JSON', OPTIONS, async () => {
  await withServer(async (base) => {
    const response = await fetch(base + '/state', { headers: AUTH });
    assert.equal(typeof (await response.json()), 'object');
  });
});`,
  '/dependencies': `test('GET /dependencies answers JSON', OPTIONS, async () => {
  await withServer(async (base) => {
    const response = await fetch(new URL('/dependencies', base), { headers: AUTH });
    assert.equal(typeof (await response.json()), 'object');
  });
});`,
  '/message': `test('POST /message accepts a task_assignment', OPTIONS, async () => {
  await withServer(async (base) => {
    const response = await fetch(\`\${base}/message\`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ from_service: 'tests', message_type: 'task_assignment', payload: {} }),
    });
    assert.equal(response.status, 202);
    assert.equal((await response.json()).received, true);
  });
});`,
};

function endpointTest(path: UdcTestPath, how: UntestedHow | undefined): string {
  const source = ENDPOINT_TESTS[path];
  if (how === 'absent') return '';
  if (how === 'commented') return source.split('\n').map((line) => `// ${line}`).join('\n');
  return source.replace('OPTIONS', how === 'skipped' ? "{ skip: 'not written yet' }" : '{}');
}

export function testSource(options: FixtureDropletOptions): string {
  const failing = options.failingTestName === undefined
    ? ''
    : `\ntest(${JSON.stringify(options.failingTestName)}, () => {\n  assert.equal(1 + 1, 3);\n});\n`;
  const endpoints = UDC_TEST_PATHS.map((path) => endpointTest(path, options.untestedEndpoints?.[path])).filter(Boolean);
  return `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../src/app.js';

const AUTH = { authorization: 'Bearer test-token' };

async function withServer(run) {
  const server = createApp({ serviceName: 'fixture', dropletId: 1, token: 'test-token', quiet: true });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run(\`http://127.0.0.1:\${server.address().port}\`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

${endpoints.join('\n\n')}
${failing}`;
}

