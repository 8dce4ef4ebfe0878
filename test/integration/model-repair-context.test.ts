/**
 * A repair across files, with both providers: the fake model changes only what it was
 * shown (it may not even read), so a repair succeeds only when the executor showed it
 * the file that must change. One bug sits two imports away from the failing test, one
 * in the route code an acceptance scenario of the SPEC hits while the droplet's own
 * tests pass. Each is repaired on attempt 2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/domain/events.js';
import type { FileChange } from '../../src/domain/files.js';
import { deriveDropletName } from '../../src/domain/naming.js';
import { type FakeModelServer, type RecordedRequest, startFakeModelServer } from '../support/fake-model-server.js';
import { conversationOf, type IntendedEdit, shownSection, sightedAnswer } from '../support/fake-model/sighted.js';
import { api, startExecutor, submitBuild, type TestExecutor, waitForStatus } from '../support/executor.js';
import { type DropletScript, dropletIdOf, scriptedByDroplet, taskOf, workingDroplet, WRONG_TAX_RATE_FIX, withWrongTaxRate } from '../support/model-script.js';

let model: FakeModelServer;
const executors: Partial<Record<'anthropic' | 'openai', TestExecutor>> = {};
const scripts = new Map<number, DropletScript>();
let nextId = 1;

beforeAll(async () => {
  model = await startFakeModelServer({ fallback: scriptedByDroplet(scripts) });
  const common = { MODEL_RETRY_BASE_MS: '20', DEPLOY_TARGET: 'none' };
  executors.anthropic = await startExecutor({ ...common, ANTHROPIC_API_KEY: 'sk-ant-test-key', ANTHROPIC_BASE_URL: model.url });
  executors.openai = await startExecutor({ ...common, MODEL_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: `${model.url}/v1`, OPENAI_MODEL: 'gpt-5.4' });
});

afterAll(async () => {
  await executors.anthropic?.close();
  await executors.openai?.close();
  await model?.close();
});

const CREATED = 'reply.code(201)';

/**
 * The droplet with its create route answering 200 instead of 201, and without the
 * tests that would notice: it passes its own tests and the UDC checks, and only the
 * SPEC's acceptance scenario (POST … expects 201) fails.
 */
function withWrongCreateStatus(files: FileChange[]): FileChange[] {
  const route = files.find((file) => file.kind === 'write' && file.path.startsWith('src/') && file.content.includes(CREATED));
  if (!route || route.kind !== 'write') throw new Error(`no route file answers ${CREATED}: the droplet's layout changed`);
  // Emptied rather than removed, so whatever loads them (test/index.js) still finds them.
  const emptied = (path: string) => /^test\/.*\.test\.js$/.test(path) && !/(?:udc|config)\.test\.js$/.test(path);
  return files.map((file) => {
    if (file === route) return { ...route, content: route.content.replace(CREATED, 'reply.code(200)') };
    if (file.kind === 'write' && emptied(file.path)) return { ...file, content: '// Not part of this scenario: the SPEC\'s acceptance scenarios are what notices the bug.\n' };
    return file;
  });
}

interface Planted {
  code: (files: FileChange[]) => FileChange[];
  fix: (files: FileChange[]) => IntendedEdit[];
}

const BUGS: Record<string, Planted> = {
  'a wrong rate two imports away from the failing test': {
    code: withWrongTaxRate,
    fix: () => [WRONG_TAX_RATE_FIX],
  },
  'a route an acceptance scenario hits': {
    code: withWrongCreateStatus,
    fix: (files) => [{ path: files.find((file) => file.kind === 'write' && file.content.includes(CREATED))!.path, oldText: 'reply.code(200)', newText: CREATED }],
  },
};

async function progressEvents(baseUrl: string, buildId: string) {
  return (await api<BuildEvent[]>(baseUrl, `/executor/builds/${buildId}/events`)).body.flatMap((event) => (event.type === 'step.progress' ? [event.data] : []));
}

describe.each(['anthropic', 'openai'] as const)('a repair across files through %s', (provider) => {
  it.each(Object.keys(BUGS))('repairs %s on attempt 2, changing only a file it was shown', async (name) => {
    const executor = executors[provider]!;
    const bug = BUGS[name]!;
    const dropletId = nextId++;
    const intent = `Build Plant Log ${dropletId} for watering days`;
    const droplet = await workingDroplet(intent, dropletId);
    const edits = bug.fix(droplet.files);
    scripts.set(dropletId, { spec: droplet.spec, proof: droplet.proof, code: bug.code(droplet.files), repairs: [(request: RecordedRequest) => sightedAnswer(request, edits, { read: false })] });
    const buildId = await submitBuild(executor.baseUrl, { architect_intent: intent, droplet_id: dropletId, droplet_name: deriveDropletName(intent), approval_mode: 'auto' });
    const done = await waitForStatus(executor.baseUrl, buildId, ['completed', 'failed']);
    expect(done.error ?? null).toBeNull();
    expect(done.status).toBe('completed');
    expect((done.steps[4]!.details.attempts as Array<{ passed: boolean }>).map((attempt) => attempt.passed)).toEqual([false, true]);

    const requests = model.requests.filter((request) => dropletIdOf(request) === dropletId);
    expect(requests.map(taskOf)).toEqual(['spec', 'code', 'repair']);
    expect(requests.every((request) => request.api === provider)).toBe(true);
    const repair = conversationOf(requests[2]!);
    // The model read nothing: the file it changed was in what the executor showed it.
    expect(repair.exchanges).toEqual([]);
    expect(repair.tools).toContain('read_file');
    for (const edit of edits) expect(shownSection(repair.task, edit.path)).toContain(edit.oldText);
    // The failure as the runner's structured report gave it, through the sandbox.
    if (name.startsWith('a wrong rate')) expect(repair.task).toContain("- an invoice adds 20% tax (test/pricing.test.js:5)\n    Expected values to be strictly equal:\n    \n    130 !== 120\n    expected (strictEqual): 120\n    actual: 130\n    at test/pricing.test.js:6");
    const events = await progressEvents(executor.baseUrl, buildId);
    const committed = events.find((data) => Array.isArray(data.files) && 'files_sent' in data)!;
    expect(committed.files).toEqual(edits.map((edit) => edit.path));
    expect(committed.files_sent).toEqual(expect.arrayContaining(edits.map((edit) => edit.path)));
  });
});

/** The rate lives in a data file the test reads from disk: no import leads to it, so the repair does not show it. */
function withWrongRateFile(files: FileChange[]): FileChange[] {
  const test = [
    "import { test } from 'node:test';",
    "import assert from 'node:assert/strict';",
    "import { readFileSync } from 'node:fs';",
    '',
    "test('the VAT rate is 20%', () => {",
    "  const rates = JSON.parse(readFileSync(new URL('../src/pricing/rates.json', import.meta.url), 'utf8'));",
    '  assert.equal(rates.vat, 0.2);',
    '});',
    '',
  ].join('\n');
  const planted: FileChange[] = [
    { kind: 'write', path: 'src/pricing/rates.json', content: '{ "vat": 0.3 }\n' },
    { kind: 'write', path: 'test/rates.test.js', content: test },
  ];
  const index = files.find((file) => file.path === 'test/index.js');
  const suite: FileChange[] = index?.kind === 'write' ? [{ kind: 'write', path: 'test/index.js', content: `${index.content}import './rates.test.js';\n` }] : [];
  return [...files.filter((file) => file.path !== 'test/index.js'), ...suite, ...planted];
}

describe.each(['anthropic', 'openai'] as const)('a repair that reads the repository through %s', (provider) => {
  it('reads the file it was not shown, then fixes it; each turn is a journaled, priced call of the repair', async () => {
    const executor = executors[provider]!;
    const dropletId = nextId++;
    const intent = `Build Plant Log ${dropletId} for watering days`;
    const droplet = await workingDroplet(intent, dropletId);
    const fix: IntendedEdit[] = [{ path: 'src/pricing/rates.json', oldText: '0.3', newText: '0.2' }];
    scripts.set(dropletId, { spec: droplet.spec, proof: droplet.proof, code: withWrongRateFile(droplet.files), repairs: [(request: RecordedRequest) => sightedAnswer(request, fix)] });
    const buildId = await submitBuild(executor.baseUrl, { architect_intent: intent, droplet_id: dropletId, droplet_name: deriveDropletName(intent), approval_mode: 'auto' });
    const done = await waitForStatus(executor.baseUrl, buildId, ['completed', 'failed']);
    expect(done.error ?? null).toBeNull();
    expect((done.steps[4]!.details.attempts as unknown[]).length).toBe(2);

    const repairs = model.requests.filter((request) => dropletIdOf(request) === dropletId && taskOf(request) === 'repair');
    expect(shownSection(conversationOf(repairs[0]!).task, 'src/pricing/rates.json')).toBeNull();
    expect(repairs.map((request) => conversationOf(request).exchanges.map((exchange) => exchange.name))).toEqual([[], ['read_file']]);
    expect(conversationOf(repairs[1]!).exchanges[0]!.result).toBe('{ "vat": 0.3 }\n');
    const calls = (await progressEvents(executor.baseUrl, buildId)).flatMap((data) => (data.model_call ? [data.model_call as { purpose: string; cost_usd: number }] : []));
    expect(calls.map((call) => call.purpose)).toEqual(['spec', 'code', 'repair after attempt 1', 'repair after attempt 1 (turn 2)']);
    const repairCost = calls.slice(2).reduce((sum, call) => sum + call.cost_usd, 0);
    expect((done.steps[4]!.details.usage as { cost_usd: number }).cost_usd).toBeCloseTo(repairCost, 6);
  });
});

describe('what attempt 1 reported', () => {
  it('the failing test by name from the runner report, and the acceptance scenario as a failed check', async () => {
    const executor = executors.anthropic!;
    const builds = (await api<Array<{ build_id: string }>>(executor.baseUrl, '/executor/builds')).body;
    const reports = await Promise.all(
      builds.map(async (build) => (await progressEvents(executor.baseUrl, build.build_id)).find((data) => data.passed === false && 'stage' in data)),
    );
    const failures = reports.map((report) => [report?.stage, report?.failing_tests, (report?.failed_checks as string[] | undefined)?.filter((check) => check.startsWith('acceptance:'))]);
    expect(failures).toEqual(
      expect.arrayContaining([
        ['tests', ['an invoice adds 20% tax'], []],
        ['contract', [], [expect.stringMatching(/^acceptance: a plant keeps what it was given/)]],
      ]),
    );
  });
});
