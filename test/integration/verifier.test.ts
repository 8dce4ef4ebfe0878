import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError } from '../../src/domain/errors.js';
import { DropletVerifier } from '../../src/verify/verifier.js';
import type { VerificationReport } from '../../src/domain/verification.js';
import { isProcessAlive, ProcessSandbox } from '../../src/sandbox/process-sandbox.js';
import { writeFixtureDroplet, type FixtureDropletOptions } from '../support/fixture-droplet.js';
import { processesUnder } from '../support/processes.js';
import { minimalOpenApi } from '../support/spec-proof.js';

let root: string;
let verifier: DropletVerifier;
let counter = 0;
const dirs: string[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'verifier-test-'));
  const sandbox = new ProcessSandbox({
    baseEnv: process.env,
    homeDir: join(root, 'home'),
    npmCacheDir: join(root, 'npm-cache'),
    killGraceMs: 1_000,
  });
  verifier = new DropletVerifier({ sandbox, installTimeoutMs: 60_000, testTimeoutMs: 60_000, startTimeoutMs: 20_000 });
});

afterEach(() => {
  // Nothing the verifier started may outlive it.
  for (const dir of dirs.splice(0)) expect(processesUnder(dir)).toEqual([]);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function verifyFixture(options: FixtureDropletOptions, signal = new AbortController().signal) {
  counter += 1;
  const dir = join(root, `droplet-${counter}`);
  dirs.push(dir);
  const fixture = await writeFixtureDroplet(dir, options);
  const progress: string[] = [];
  const report = await verifier.verify(dir, { dropletId: fixture.dropletId, name: fixture.name }, {
    signal,
    onProgress: (message) => progress.push(message),
  });
  return { report, progress, dir };
}

function failedChecks(report: VerificationReport): string[] {
  return (report.contract ?? []).filter((check) => !check.passed).map((check) => check.name);
}

describe('DropletVerifier', () => {
  it('passes a correct droplet on every check', async () => {
    const { report, progress } = await verifyFixture({});
    expect(report.summary).toMatch(/passed/);
    expect(report.passed).toBe(true);
    expect(report.stage).toBe('contract');
    expect(report.install?.exitCode).toBe(0);
    expect(report.tests?.exitCode).toBe(0);
    expect(report.tests?.failingTests).toEqual([]);
    expect(failedChecks(report)).toEqual([]);
    const names = report.contract!.map((check) => check.name);
    expect(names).toEqual(expect.arrayContaining([
      'droplet starts',
      'GET /health shape',
      'GET /health answers within 100 ms',
      'GET /capabilities shape',
      'GET /state shape',
      'GET /dependencies shape',
      'POST /message accepts a task_assignment',
      'GET /capabilities declares authentication',
      'GET /capabilities refuses missing credentials',
      'GET /state refuses missing credentials',
      'GET /dependencies refuses missing credentials',
      'POST /message refuses missing credentials',
      'GET /state refuses a wrong token',
      'POST /message refuses an invalid body',
      'GET /an-unknown-path answers 404',
      'GET /widgets exists',
      'POST /widgets exists',
      'GET /widgets/:id exists',
      'logs are JSON lines',
    ]));
    expect(report.childProcessMs).toBeGreaterThanOrEqual(report.install!.durationMs + report.tests!.durationMs);
    expect(progress.some((line) => line.startsWith('npm install ok'))).toBe(true);
  });

  it('fails a droplet without /state, naming that check', async () => {
    const { report } = await verifyFixture({ missingState: true });
    expect(report.passed).toBe(false);
    expect(report.stage).toBe('contract');
    expect(failedChecks(report)).toEqual(['GET /state shape']);
    expect(report.summary).toBe('Contract check failed: GET /state shape.');
    expect(report.contract!.find((check) => check.name === 'GET /state shape')?.got).toMatch(/^404/);
  });

  it('fails a droplet whose /health has the wrong shape', async () => {
    const { report } = await verifyFixture({ wrongHealthShape: true });
    expect(report.passed).toBe(false);
    expect(failedChecks(report)).toEqual(['GET /health shape']);
    expect(report.contract!.find((check) => check.name === 'GET /health shape')?.got).toContain('status');
  });

  it('fails a droplet that declares authentication but does not refuse missing credentials', async () => {
    const { report } = await verifyFixture({ ignoresCredentials: true });
    expect(report.passed).toBe(false);
    expect(failedChecks(report)).toEqual([
      'GET /capabilities refuses missing credentials',
      'GET /state refuses missing credentials',
      'GET /dependencies refuses missing credentials',
      'POST /message refuses missing credentials',
      'GET /state refuses a wrong token',
    ]);
    expect(report.summary).toContain('GET /capabilities refuses missing credentials');
  });

  it('fails a droplet whose unknown path is not a UDC error, and never reports the token it leaks', async () => {
    const tokenFile = 'token-seen.txt';
    const { report, dir } = await verifyFixture({
      nonUdcNotFound: true,
      leaksToken: true,
      // The droplet writes down the token it was given, so the test can look for it.
      writesTokenTo: tokenFile,
    });
    expect(report.passed).toBe(false);
    expect(failedChecks(report)).toContain('GET /an-unknown-path answers 404');
    const unknown = report.contract!.find((check) => check.name === 'GET /an-unknown-path answers 404')!;
    expect(unknown.got).toContain('Cannot GET /an-unknown-path');
    expect(unknown.got).toContain('[redacted]');
    // The droplet logged the token at startup and echoed it; the report must hold neither.
    const token = await readFile(join(dir, tokenFile), 'utf8');
    expect(token.length).toBeGreaterThan(20);
    expect(JSON.stringify(report)).not.toContain(token);
  });

  it('fails a droplet that logs plain text and declares a route it does not serve', async () => {
    const { report } = await verifyFixture({ plainTextLogs: true, declaresMissingEndpoint: true });
    expect(report.passed).toBe(false);
    expect(failedChecks(report)).toEqual(['GET /widgets/report exists', 'logs are JSON lines']);
    expect(report.contract!.find((check) => check.name === 'logs are JSON lines')?.got).toMatch(/^0 of \d+ lines are JSON objects/);
  });

  it('fails a droplet that crashes at start with its output', async () => {
    const { report } = await verifyFixture({ crashOnStart: 'config error: SERVICE_PORT is not valid' });
    expect(report.passed).toBe(false);
    expect(report.stage).toBe('contract');
    // What ran: the start (failed) and, read before install, the coverage of the droplet's own tests.
    expect(report.contract!.map((check) => check.name)).toEqual(['droplet starts', 'tests cover every UDC endpoint']);
    expect(report.contract![0]).toMatchObject({ name: 'droplet starts', passed: false });
    expect(report.contract![0]!.got).toContain('exited with code 1');
    expect(report.contract![0]!.got).toContain('config error: SERVICE_PORT is not valid');
    expect(report.summary).toBe('The droplet did not start: exited with code 1 before answering.');
  });

  it('stops at the tests stage and names the failing test', async () => {
    const { report } = await verifyFixture({ failingTestName: 'widgets are listed in creation order' });
    expect(report.passed).toBe(false);
    expect(report.stage).toBe('tests');
    expect(report.tests?.failingTests).toEqual(['widgets are listed in creation order']);
    expect(report.summary).toBe('1 test failed: widgets are listed in creation order.');
    expect(report.contract).toBeUndefined();
  });

  it('throws CancelledError when aborted during the tests, leaving nothing running', async () => {
    const controller = new AbortController();
    const pidFile = 'hang.pid';
    const pending = verifyFixture({
      testScript: 'node hang.js',
      extraFiles: {
        'hang.js': `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(pidFile)}, String(process.pid));\nsetInterval(() => {}, 1000);\n`,
      },
    }, controller.signal);
    const dir = join(root, `droplet-${counter}`);
    let pid: number | undefined;
    while (pid === undefined) {
      const text = await readFile(join(dir, pidFile), 'utf8').catch(() => '');
      if (text !== '') pid = Number(text);
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(isProcessAlive(pid)).toBe(true);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
    expect(isProcessAlive(pid)).toBe(false);
  });
});

describe('acceptance scenarios in docs/acceptance.json', () => {
  const widgetKept = {
    name: 'a widget keeps its name',
    covers: 'stores widgets by name',
    steps: [
      { request: { method: 'POST', path: '/widgets', body: { name: 'gear' } }, expect: { status: 201, json: { name: 'gear' } }, capture: { id: 'id' } },
      { request: { method: 'GET', path: '/widgets/{{id}}' }, expect: { status: 200, json: { id: '{{id}}', name: 'gear' } } },
    ],
  };
  const acceptanceFile = (scenarios: unknown[]) => ({ 'docs/acceptance.json': JSON.stringify({ scenarios }) });
  const check = (report: VerificationReport, name: string) => report.contract?.find((entry) => entry.name === name);

  it('runs every scenario against the started droplet, after the contract checks, each as a check', async () => {
    const { report } = await verifyFixture({ extraFiles: acceptanceFile([widgetKept]) });
    expect(report.passed).toBe(true);
    expect(check(report, 'acceptance: a widget keeps its name')).toEqual({
      name: 'acceptance: a widget keeps its name',
      passed: true,
      expected: 'covers "stores widgets by name"',
      got: 'all 2 steps passed',
    });
  });

  it('fails a droplet that passes its own tests but does not serve what a scenario asks, naming the scenario', async () => {
    const report = (
      await verifyFixture({
        extraFiles: acceptanceFile([
          widgetKept,
          { name: 'a report sums the widgets', covers: 'reports on widgets', steps: [{ request: { method: 'GET', path: '/widgets/report' }, expect: { status: 200 } }] },
        ]),
      })
    ).report;
    expect(report.passed).toBe(false);
    expect(report.stage).toBe('contract');
    expect(failedChecks(report)).toEqual(['acceptance: a report sums the widgets']);
    expect(check(report, 'acceptance: a report sums the widgets')).toMatchObject({
      expected: 'covers "reports on widgets"; step 1: GET /widgets/report answers 200',
      got: expect.stringMatching(/^404: /),
    });
    expect(report.summary).toBe('Contract check failed: acceptance: a report sums the widgets.');
  });

  it('fails on a scenarios file that is not the format, saying why, without running it', async () => {
    const { report } = await verifyFixture({ extraFiles: { 'docs/acceptance.json': JSON.stringify({ scenarios: [{ ...widgetKept, steps: [{ request: { method: 'GET', path: 'http://elsewhere/x' }, expect: { status: 200 } }] }] }) } });
    expect(report.passed).toBe(false);
    expect(failedChecks(report)).toEqual(['acceptance scenarios are valid']);
    expect(check(report, 'acceptance scenarios are valid')?.got).toBe(
      'docs/acceptance.json: scenarios.0.steps.0.request.path: must be a path on the droplet, starting with a single "/"',
    );
  });
});

describe('the SPEC\'s OpenAPI document held against the acceptance run', () => {
  const widget = { type: 'object', required: ['id', 'name'], properties: { id: { type: 'string' }, name: { type: 'string' } } };
  const answer = (schema: unknown) => ({ description: 'ok', content: { 'application/json': { schema } } });
  function openapi(widgetSchema: unknown = widget): Record<string, unknown> {
    const document = minimalOpenApi() as { paths: Record<string, unknown> };
    document.paths['/widgets'] = {
      get: { responses: { '200': answer({ type: 'object', required: ['widgets'], properties: { widgets: { type: 'array', items: widgetSchema } } }) } },
      post: { requestBody: { content: { 'application/json': { schema: { type: 'object' }, example: { name: 'gear' } } } }, responses: { '201': answer(widgetSchema) } },
    };
    document.paths['/widgets/{id}'] = { get: { responses: { '200': answer(widgetSchema), '404': answer({ type: 'object', required: ['error'] }) } } };
    return document;
  }
  const scenarios = [{
    name: 'a widget keeps its name',
    covers: 'stores widgets by name',
    steps: [
      { request: { method: 'POST', path: '/widgets', body: { name: 'gear' } }, expect: { status: 201 }, capture: { id: 'id' } },
      { request: { method: 'GET', path: '/widgets/{{id}}' }, expect: { status: 200, json: { name: 'gear' } } },
      { request: { method: 'GET', path: '/widgets' }, expect: { status: 200 } },
    ],
  }];
  const proofOf = (document: unknown, list: unknown[] = scenarios) => ({ openapi: JSON.stringify(document), acceptance: JSON.stringify({ scenarios: list }) });

  async function verifyWith(proof: { openapi: string; acceptance: string }) {
    counter += 1;
    const dir = join(root, `droplet-${counter}`);
    dirs.push(dir);
    const fixture = await writeFixtureDroplet(dir, {});
    return verifier.verify(dir, { dropletId: fixture.dropletId, name: fixture.name }, { signal: new AbortController().signal, proof });
  }
  const named = (report: VerificationReport, prefix: string) => (report.contract ?? []).filter((entry) => entry.name.startsWith(prefix));

  it('passes when every operation is requested and every answer matches its schema; the scenarios join the report', async () => {
    const report = await verifyWith(proofOf(openapi()));
    expect(report.passed).toBe(true);
    expect(named(report, 'openapi: ')).toEqual([
      { name: 'openapi: every operation is exercised', passed: true, expected: 'each of the 3 business operations in docs/openapi.json is requested by an acceptance step', got: 'all 3 were requested' },
      expect.objectContaining({ name: 'openapi: answers match the documented schemas', passed: true, got: 'all 3 answers matched' }),
    ]);
    expect(report.acceptance).toEqual([{ name: 'a widget keeps its name', covers: 'stores widgets by name', passed: true, failedStep: null, expected: '', got: '' }]);
  });

  it('fails an answer that departs from its documented schema, naming the request and where', async () => {
    const report = await verifyWith(proofOf(openapi({ ...widget, properties: { ...widget.properties, name: { type: 'integer' } } })));
    expect(report.passed).toBe(false);
    expect(named(report, 'openapi: ').filter((entry) => !entry.passed).map((entry) => entry.name)).toEqual(['openapi: answers match the documented schemas']);
    expect(named(report, 'openapi: answers')[0]!.got).toMatch(/^POST \/widgets answered 201 with a body where \/name must be integer/);
    // The scenarios themselves passed: it is the document the droplet does not keep.
    expect(report.acceptance?.every((result) => result.passed)).toBe(true);
  });

  it('fails a documented operation no acceptance step requests, and an answer whose status is not documented', async () => {
    const report = await verifyWith(proofOf(openapi(), [{ ...scenarios[0]!, steps: [scenarios[0]!.steps[0]!, { request: { method: 'GET', path: '/widgets/nothing-here' }, expect: { status: 404 } }] }]));
    expect(report.passed).toBe(false);
    const failed = named(report, 'openapi: ').filter((entry) => !entry.passed);
    expect(failed.map((entry) => [entry.name, entry.got])).toEqual([
      ['openapi: every operation is exercised', 'not requested: GET /widgets'],
    ]);
    const unlisted = await verifyWith(proofOf(openapi(), [{ ...scenarios[0]!, steps: [...scenarios[0]!.steps, { request: { method: 'POST', path: '/widgets', body: {} }, expect: { status: 400 } }] }]));
    expect(named(unlisted, 'openapi: answers')[0]).toMatchObject({ passed: false, got: 'POST /widgets answered 400, which POST /widgets does not document' });
  });

  it('holds the droplet to the SPEC\'s proof, not to a docs/acceptance.json its own code carries', async () => {
    counter += 1;
    const dir = join(root, `droplet-${counter}`);
    dirs.push(dir);
    const fixture = await writeFixtureDroplet(dir, { extraFiles: { 'docs/acceptance.json': JSON.stringify({ scenarios: [{ name: 'nothing to see', covers: 'x', steps: [{ request: { method: 'GET', path: '/health' }, expect: { status: 200 } }] }] }) } });
    const failing = [{ name: 'a report sums the widgets', covers: 'reports', steps: [{ request: { method: 'GET', path: '/widgets/report' }, expect: { status: 200 } }] }];
    const report = await verifier.verify(dir, { dropletId: fixture.dropletId, name: fixture.name }, { signal: new AbortController().signal, proof: { openapi: JSON.stringify(minimalOpenApi()), acceptance: JSON.stringify({ scenarios: failing }) } });
    expect(report.passed).toBe(false);
    expect(report.acceptance).toEqual([expect.objectContaining({ name: 'a report sums the widgets', passed: false, failedStep: 1 })]);
  });
});
