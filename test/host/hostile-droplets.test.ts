/**
 * Generated code is hostile until proven otherwise. These droplets, written by a
 * scripted author and run through real builds, try to get at the executor's secrets.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileChange } from '../../src/domain/files.js';
import type { BuildEvent } from '../../src/domain/events.js';
import { api, startExecutor, submitBuild, type TestExecutor, waitForStatus } from '../support/executor.js';
import { PlantingAuthor } from '../support/planting-author.js';
import { processesRunning } from '../support/processes.js';

const CANARY = 'canary-api-token-5f0c1d9e7a2b';
const AUTH = { authorization: `Bearer ${CANARY}` };

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

let server: TestExecutor;
beforeAll(async () => {
  // As in production, the secret is in the executor's own environment too.
  process.env.API_TOKEN = CANARY;
  server = await startExecutor(
    { API_TOKEN: CANARY },
    {
      author: new PlantingAuthor((intent) =>
        intent.includes('Env Dumper')
          ? [
              {
                kind: 'write',
                path: 'test/env-dump.test.js',
                // Prints it (output is redacted as a second line of defence) and writes it to a file (which is not).
                content:
                  "import { test } from 'node:test';\nimport { writeFileSync } from 'node:fs';\n" +
                  "test('dumps the environment', () => { writeFileSync('env-dump.json', JSON.stringify(process.env)); console.log(JSON.stringify(process.env)); console.log('ENV-DUMPED', Object.keys(process.env).length); });\n",
              },
            ]
          : intent.includes('Key Writer')
            ? [{ kind: 'write', path: 'src/leak.js', content: `export const stolen = '${CANARY}';\n` }]
            : [],
      ),
    },
  );
});
afterAll(async () => {
  delete process.env.API_TOKEN;
  await server?.close();
});

describe('hostile generated code', () => {
  it("a test that prints process.env never sees the executor's secrets", async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Env Dumper for reading configuration', approval_mode: 'auto', auto_deploy: false }, AUTH);
    const done = await waitForStatus(server.baseUrl, buildId, ['completed'], 180_000, AUTH);
    expect(done.steps[4]!.status).toBe('completed');
    // The dump really ran and was captured (so the checks below look at it).
    const testOutput = (done.steps[4]!.details.report as { tests: { outputTail: string } }).tests.outputTail;
    expect(testOutput).toContain('ENV-DUMPED');
    expect(testOutput).not.toContain(CANARY);

    // Nowhere: not in the events, the database, the repository, or any file the build left.
    const events = (await api<BuildEvent[]>(server.baseUrl, `/executor/builds/${buildId}/events`, { headers: AUTH })).body;
    expect(JSON.stringify(events)).not.toContain(CANARY);
    const files = filesUnder(server.dataDir).filter((path) => !path.includes('node_modules'));
    expect(files.some((path) => path.endsWith('env-dump.json'))).toBe(true);
    for (const file of files) {
      expect(readFileSync(file).includes(CANARY), file).toBe(false);
    }
  });

  it("a file holding the executor's API key is refused before it is committed", async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Key Writer for storing settings', approval_mode: 'auto' }, AUTH);
    const failed = await waitForStatus(server.baseUrl, buildId, ['failed'], 60_000, AUTH);
    expect(failed.steps[3]).toMatchObject({ step: 'apprentice_build', status: 'failed', error: { code: 'SECRET_DETECTED' } });
    expect(JSON.stringify(failed)).not.toContain(CANARY);
    const log = await simpleGit(failed.repository_path!).log();
    expect(log.all.some((commit) => commit.message.includes('src/leak.js'))).toBe(false);
    expect(log.all.some((commit) => commit.body.includes('Executor-Step: apprentice_build'))).toBe(false);
  });
});


describe('hostile generated code, within limits', () => {
  let limited: TestExecutor;
  beforeAll(async () => {
    limited = await startExecutor(
      { TEST_TIMEOUT_SECONDS: '5', MAX_BUILD_ITERATIONS: '1' },
      {
        author: new PlantingAuthor((intent) => {
          const test = (body: string): FileChange[] => [
            { kind: 'write', path: 'test/hostile.test.js', content: `import { test } from 'node:test';\nimport { spawnSync } from 'node:child_process';\n${body}\n` },
          ];
          if (intent.includes('Spinner')) return test("test('spins forever', () => { for (;;) {} });");
          if (intent.includes('Forker')) return test("test('leaves a job behind', () => { spawnSync('sh', ['-c', 'sleep 9911 >/dev/null 2>&1 &']); });");
          return [];
        }),
      },
    );
  });
  afterAll(async () => {
    await limited?.close();
  });

  it('a test that loops forever is killed at the limit and the build fails saying so', async () => {
    const buildId = await submitBuild(limited.baseUrl, { architect_intent: 'Build Spinner for busy work', approval_mode: 'auto' });
    const failed = await waitForStatus(limited.baseUrl, buildId, ['failed']);
    expect(failed.steps[4]).toMatchObject({ step: 'verifier', status: 'failed', error: { code: 'VERIFICATION_FAILED' } });
    expect(failed.error!.message).toMatch(/time/i);
    expect(processesRunning(failed.repository_path!)).toEqual([]);
    expect((await api<{ status: string }>(limited.baseUrl, '/executor/health')).body.status).toBe('healthy');
  });

  it('a background job a test starts does not outlive the test run', async () => {
    const buildId = await submitBuild(limited.baseUrl, { architect_intent: 'Build Forker for background jobs', approval_mode: 'auto', auto_deploy: false });
    await waitForStatus(limited.baseUrl, buildId, ['completed']);
    expect(processesRunning('sleep 9911')).toEqual([]);
  });
});
