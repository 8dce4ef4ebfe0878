/**
 * Whole builds written by a model: the real SDKs talk to a fake model API on loopback
 * whose answers are real droplets (the offline author's files, handed back as the
 * model would). Verification, repair, the budget and hostile paths run for real.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileChange } from '../../src/domain/files.js';
import { DEFAULT_REPAIR_BUDGET } from '../../src/domain/repair-context.js';
import type { BuildEvent } from '../../src/domain/events.js';
import { deriveDropletName } from '../../src/domain/naming.js';
import { type FakeModelServer, startFakeModelServer } from '../support/fake-model-server.js';
import { shownSection } from '../support/fake-model/sighted.js';
import { api, startExecutor, submitBuild, type TestExecutor, waitForStatus } from '../support/executor.js';
import {
  brokenLine,
  type DropletScript,
  dropletIdOf,
  editAnswer,
  fileBlockAnswer,
  messageBytes,
  type ScriptedRepair,
  scriptedByDroplet,
  taskOf,
  taskText,
  withBrokenTest,
  workingDroplet,
} from '../support/model-script.js';

const OUTPUT_LIMIT = 32_000;
let model: FakeModelServer;
let server: TestExecutor;
let nextId = 1;

/** What the fake model answers for one droplet, by task. */
const scripts = new Map<number, DropletScript>();

beforeAll(async () => {
  model = await startFakeModelServer({ fallback: scriptedByDroplet(scripts) });
  // The offline droplet's files are about 23,000 tokens: a model answering them in one reply needs an output limit above that.
  server = await startExecutor({ ANTHROPIC_API_KEY: 'sk-ant-test-key', ANTHROPIC_BASE_URL: model.url, MODEL_RETRY_BASE_MS: '20', DEPLOY_TARGET: 'none', MODEL_MAX_OUTPUT_TOKENS: String(OUTPUT_LIMIT) });
});

afterAll(async () => {
  await server?.close();
  await model?.close();
});

async function build(intent: string, script: (files: FileChange[]) => { code: FileChange[]; repairs?: ScriptedRepair[] }, extra: Record<string, unknown> = {}) {
  const dropletId = nextId++;
  const droplet = await workingDroplet(intent, dropletId);
  const { code, repairs = [] } = script(droplet.files);
  scripts.set(dropletId, { spec: droplet.spec, proof: droplet.proof, code, repairs });
  const buildId = await submitBuild(server.baseUrl, {
    architect_intent: intent,
    droplet_id: dropletId,
    droplet_name: deriveDropletName(intent),
    approval_mode: 'auto',
    ...extra,
  });
  return { buildId, droplet, requests: () => model.requests.filter((request) => dropletIdOf(request) === dropletId) };
}

const modelCalls = async (buildId: string) =>
  (await api<BuildEvent[]>(server.baseUrl, `/executor/builds/${buildId}/events`)).body.flatMap((event) =>
    event.type === 'step.progress' && event.data.model_call ? [event.data.model_call as Record<string, number | string>] : [],
  );

describe('a model-written droplet', () => {
  it('passes first time: two calls, the prefix read from the cache, usage in every step that paid', async () => {
    const { buildId, requests } = await build('Build Recipe Box for favourite recipes', (files) => ({ code: files }));
    const done = await waitForStatus(server.baseUrl, buildId, ['completed']);
    expect(requests().map(taskOf)).toEqual(['spec', 'code']);
    const calls = await modelCalls(buildId);
    // The code call reads the foundation files the SPEC call wrote to the cache.
    expect(calls[1]!.cache_read_tokens).toBeGreaterThan(0);
    expect(done.steps[1]!.details.usage).toMatchObject({ output_tokens: calls[0]!.output_tokens });
    expect(done.steps[3]!.details.usage).toMatchObject({ output_tokens: calls[1]!.output_tokens });
    expect(done.usage.cost_usd).toBeCloseTo(Number(calls[0]!.cost_usd) + Number(calls[1]!.cost_usd), 6);
    expect(done.steps[4]!.details.usage).toBeUndefined();
  });

  it('fails its tests on attempt 1 and is repaired by an edit on attempt 2, the repair sent only what the failure involves', async () => {
    const { buildId, requests, droplet } = await build('Build Plant Log for watering days', (files) => ({
      code: withBrokenTest(files, 'on purpose'),
      repairs: [editAnswer([{ path: 'test/udc.test.js', oldText: brokenLine('on purpose'), newText: "broken('fixed', () => {});" }])],
    }));
    const done = await waitForStatus(server.baseUrl, buildId, ['completed']);
    expect(requests().map(taskOf)).toEqual(['spec', 'code', 'repair']);
    expect((done.steps[4]!.details.attempts as unknown[]).length).toBe(2);
    const repair = requests()[2]!;
    const sent = JSON.stringify(repair.body.messages);
    expect(sent).toContain('broken on purpose');
    // The test file is long: the failure's line and its neighbours are sent, numbered, not the whole file.
    expect(sent).toContain('## test/udc.test.js (excerpt of');
    const testFile = droplet.files.find((file) => file.path === 'test/udc.test.js');
    const shown = shownSection(taskText(repair), 'test/udc.test.js');
    expect(testFile?.kind === 'write' && shown !== null && shown.length < testFile.content.length).toBe(true);
    expect(sent).not.toContain('## package.json');
    // With the test, the code it runs (its imports, nearest first), within the selection's budget; no docs, no lockfile.
    expect(shownSection(taskText(repair), 'src/app.js')).not.toBeNull();
    expect(sent).not.toContain('## docs/');
    const shownChars = [...taskText(repair).matchAll(/^## (\S+)/gm)].reduce((sum, match) => sum + (shownSection(taskText(repair), match[1]!)?.length ?? 0), 0);
    expect(shownChars).toBeLessThanOrEqual(DEFAULT_REPAIR_BUDGET.totalChars + 2_000);
    // What the seed did instead: every file again, with the SPEC, on every iteration (the closure costs about 0.4 of that).
    const everything = Buffer.byteLength(droplet.spec + droplet.files.map((file) => (file.kind === 'write' ? file.content : '')).join(''));
    expect(messageBytes(repair)).toBeLessThan(everything / 2);
    const calls = await modelCalls(buildId);
    const [, codeCall, repairCall] = calls;
    // The repair reads the whole stable prefix (instructions, tools, foundation files, SPEC) from the cache the code call wrote, and writes none.
    expect(Number(repairCall!.cache_read_tokens)).toBe(Number(codeCall!.cache_read_tokens) + Number(codeCall!.cache_write_tokens));
    expect(Number(repairCall!.cache_write_tokens)).toBe(0);
  });

  it('stops early when two attempts in a row fail the same way', async () => {
    const useless: FileChange = { kind: 'write', path: 'src/tweak.js', content: 'export const tweak = 1;\n' };
    const { buildId, requests } = await build('Build Coin Jar for spare change', (files) => ({ code: withBrokenTest(files), repairs: [[useless]] }));
    const failed = await waitForStatus(server.baseUrl, buildId, ['failed']);
    expect(failed.error).toMatchObject({ code: 'REPAIR_NOT_CONVERGING' });
    expect(failed.error!.message).toMatch(/after 2 of 10 attempts: attempts 1 and 2 failed the same way/);
    expect(requests().map(taskOf)).toEqual(['spec', 'code', 'repair']);
  });

  it('stops when a repair changes nothing', async () => {
    const { buildId, requests } = await build('Build Tide Log for harbour tides', (files) => {
      const broken = withBrokenTest(files);
      return { code: broken, repairs: [broken.filter((file) => file.path === 'test/udc.test.js')] };
    });
    const failed = await waitForStatus(server.baseUrl, buildId, ['failed']);
    expect(failed.error!.message).toMatch(/after 1 of 10 attempts: the repair after attempt 1 changed nothing/);
    expect(requests().map(taskOf)).toEqual(['spec', 'code', 'repair']);
  });

  it('asks again, with the reason, when a repair cannot be applied', async () => {
    const { buildId, requests } = await build('Build Kite Log for windy days', (files) => ({
      code: withBrokenTest(files, 'kite'),
      repairs: [
        editAnswer([{ path: 'test/udc.test.js', oldText: 'this text is not in the file', newText: '' }]),
        editAnswer([{ path: 'test/udc.test.js', oldText: brokenLine('kite'), newText: "broken('fixed', () => {});" }]),
      ],
    }));
    await waitForStatus(server.baseUrl, buildId, ['completed']);
    const [, , first, second] = requests();
    expect([first, second].map((request) => taskOf(request!))).toEqual(['repair', 'repair']);
    expect(JSON.stringify(second!.body.messages)).toContain('old_text does not occur in the file');
  });
});

describe('the budget', () => {
  it('stops before the call that could pass the cap, and a retry with a higher cap goes on without paying twice', async () => {
    const { buildId, requests } = await build('Build Book Shelf for books read', (files) => ({
      code: withBrokenTest(files),
      repairs: [files.filter((file) => file.path === 'test/udc.test.js')],
    }), { max_cost_usd: 0.8 });
    const failed = await waitForStatus(server.baseUrl, buildId, ['failed']);
    expect(failed.steps[4]).toMatchObject({ status: 'failed', error: { code: 'BUDGET_EXHAUSTED' } });
    expect(failed.error!.message).toMatch(/Budget exhausted: \$0\.\d{4} spent of the \$0\.80 cap, and the repair after attempt 1 call could cost up to/);
    expect(requests().map(taskOf)).toEqual(['spec', 'code']);
    expect(failed.usage.cost_usd).toBeLessThanOrEqual(0.8);

    // The retry resumes at the verifier: the SPEC and the code are not asked for again.
    const retried = await api(server.baseUrl, `/executor/builds/${buildId}/retry?max_cost_usd=5`, { method: 'POST' });
    expect(retried.status).toBe(202);
    const done = await waitForStatus(server.baseUrl, buildId, ['completed']);
    expect(requests().map(taskOf)).toEqual(['spec', 'code', 'repair']);
    expect(done.usage.max_cost_usd).toBe(5);
  });

  it('refuses a max_cost_usd above the executor cap', async () => {
    const capped = await startExecutor({ ANTHROPIC_API_KEY: 'sk-ant-test-key', ANTHROPIC_BASE_URL: model.url, MAX_BUILD_COST_USD: '1' });
    try {
      const response = await api(capped.baseUrl, '/executor/build-droplet', { body: { architect_intent: 'Build Tea Timer for steeping', max_cost_usd: 2 } });
      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body)).toContain('MAX_BUILD_COST_USD');
    } finally {
      await capped.close();
    }
  });
});

describe('paths the model must not write', () => {
  it.each(['../../x', '/etc/passwd', 'a/../../x', '.git/hooks/pre-commit'])('refuses %s and writes nothing of the answer', async (path) => {
    const { buildId } = await build(`Build Path Probe ${path.length} for ${path.replace(/\W/g, ' ')} checks`, (files) => ({
      code: [...files, { kind: 'write', path, content: '#!/bin/sh\ntouch /tmp/executor-pwned\n' }],
    }));
    const failed = await waitForStatus(server.baseUrl, buildId, ['failed']);
    expect(failed.steps[3]).toMatchObject({ status: 'failed', error: { code: 'UNSAFE_PATH' } });
    expect(failed.error!.message).toContain(path);
    const repo = failed.repository_path!;
    expect(existsSync(join(repo, 'package.json'))).toBe(false);
    expect(existsSync(join(dirname(dirname(repo)), 'x'))).toBe(false);
    expect(existsSync(join(repo, '.git', 'hooks', 'pre-commit'))).toBe(false);
    expect(existsSync('/tmp/executor-pwned')).toBe(false);
  });
});

describe('an OpenAI-compatible server', () => {
  it('builds a droplet from file blocks, reporting cached prompt tokens', async () => {
    const intent = 'Build Bird Count for garden sightings';
    const droplet = await workingDroplet(intent, 1);
    const local = await startFakeModelServer({
      fallback: (request) =>
        taskOf(request) === 'spec'
          ? fileBlockAnswer([
              { kind: 'write', path: 'docs/SPEC.md', content: droplet.spec },
              { kind: 'write', path: 'docs/openapi.json', content: droplet.proof.openapi },
              { kind: 'write', path: 'docs/acceptance.json', content: droplet.proof.acceptance },
            ])
          : fileBlockAnswer(droplet.files),
    });
    const openai = await startExecutor({ MODEL_PROVIDER: 'openai', OPENAI_BASE_URL: `${local.url}/v1`, OPENAI_MODEL: 'llama3.3', MODEL_OUTPUT_FORMAT: 'file_blocks', DEPLOY_TARGET: 'none', MODEL_MAX_OUTPUT_TOKENS: String(OUTPUT_LIMIT) });
    try {
      const buildId = await submitBuild(openai.baseUrl, { architect_intent: intent, approval_mode: 'auto' });
      const done = await waitForStatus(openai.baseUrl, buildId, ['completed']);
      expect(local.requests.map((request) => [request.api, taskOf(request)])).toEqual([['openai', 'spec'], ['openai', 'code']]);
      expect(local.requests[1]!.body.tools).toBeUndefined();
      expect(local.requests[1]!.body.max_tokens).toBe(OUTPUT_LIMIT);
      expect(done.steps[3]!.details.usage).toMatchObject({ cache_read_tokens: expect.any(Number) });
      expect((done.steps[3]!.details.usage as { cache_read_tokens: number }).cache_read_tokens).toBeGreaterThan(0);
      const capabilities = (await api<{ author: Record<string, unknown> }>(openai.baseUrl, '/executor/capabilities')).body;
      expect(capabilities.author).toMatchObject({ id: 'openai', model: 'llama3.3', api: 'ok' });
    } finally {
      await openai.close();
      await local.close();
    }
  });
});
