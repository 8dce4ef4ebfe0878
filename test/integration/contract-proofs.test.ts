/**
 * Proof that "verified" means the UDC contract: one droplet per way of breaking it,
 * each failing with the right check named (and only that check), a correct one passing
 * every check, and nothing the verifier started left running afterwards.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HEALTH_LATENCY_LIMIT_MS } from '../../src/verify/contract.js';
import { INSTALL_INPUTS_CHECK } from '../../src/verify/install-inputs.js';
import { TEST_COVERAGE_CHECK } from '../../src/verify/test-coverage.js';
import type { VerificationReport } from '../../src/domain/verification.js';
import { DropletVerifier } from '../../src/verify/verifier.js';
import { isProcessGroupAlive, ProcessSandbox } from '../../src/sandbox/process-sandbox.js';
import { writeFixtureDroplet, type FixtureDropletOptions } from '../support/fixture-droplet.js';
import { processesUnder } from '../support/processes.js';

let root: string;
let verifier: DropletVerifier;
let counter = 0;
/** Every process group the sandbox started, and those it saw end. */
const started = new Set<number>();
const ended = new Set<number>();
const dirs: string[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'contract-proofs-'));
  const sandbox = new ProcessSandbox({
    baseEnv: process.env,
    homeDir: join(root, 'home'),
    npmCacheDir: join(root, 'npm-cache'),
    killGraceMs: 1_000,
    groups: { record: (pgid) => started.add(pgid), forget: (pgid) => ended.add(pgid) },
  });
  verifier = new DropletVerifier({ sandbox, installTimeoutMs: 60_000, testTimeoutMs: 60_000, startTimeoutMs: 20_000 });
});

afterEach(() => {
  // The verifier leaves nothing running: every group it started is gone, and no process works in the droplet.
  for (const pgid of started) {
    expect(ended.has(pgid), `process group ${pgid} was never reaped`).toBe(true);
    expect(isProcessGroupAlive(pgid), `process group ${pgid} is still alive`).toBe(false);
  }
  started.clear();
  ended.clear();
  for (const dir of dirs.splice(0)) expect(processesUnder(dir)).toEqual([]);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function verify(options: FixtureDropletOptions): Promise<VerificationReport> {
  counter += 1;
  const dir = join(root, `droplet-${counter}`);
  dirs.push(dir);
  const fixture = await writeFixtureDroplet(dir, options);
  return verifier.verify(dir, { dropletId: fixture.dropletId, name: fixture.name }, { signal: new AbortController().signal });
}

const failed = (report: VerificationReport) => (report.contract ?? []).filter((check) => !check.passed).map((check) => check.name);
const named = (report: VerificationReport, name: string) => report.contract?.find((check) => check.name === name);

/** A droplet that got as far as the contract check and failed exactly `checks`, the others passing. */
function expectContractFailure(report: VerificationReport, checks: string[]): void {
  expect(report.passed).toBe(false);
  expect(report.stage).toBe('contract');
  expect(report.tests?.exitCode).toBe(0);
  expect(failed(report)).toEqual(checks);
  expect(report.contract!.length).toBeGreaterThan(checks.length + 10);
  expect(report.summary).toContain(checks[0]);
  // install, tests and the droplet itself ran as sandboxed process groups (checked in afterEach)
  expect(started.size).toBeGreaterThanOrEqual(3);
}

describe('contract proofs', () => {
  it('passes a correct droplet with every check passed, test coverage included', async () => {
    const report = await verify({});
    expect(report.passed).toBe(true);
    expect(report.stage).toBe('contract');
    expect(failed(report)).toEqual([]);
    expect(report.contract!.every((check) => check.passed && check.expected !== '' && check.got !== '')).toBe(true);
    expect(named(report, TEST_COVERAGE_CHECK)?.got).toBe('all 5 requested in 1 test file (test/udc.test.js)');
    expect(report.contract!.map((check) => check.name)).toEqual(expect.arrayContaining([
      'droplet starts', 'GET /health shape', `GET /health answers within ${HEALTH_LATENCY_LIMIT_MS} ms`, 'GET /capabilities shape',
      'GET /state shape', 'GET /dependencies shape', 'POST /message accepts a task_assignment', 'POST /message refuses missing credentials',
      'POST /message refuses an invalid body', 'GET /an-unknown-path answers 404', 'GET /widgets/:id exists', 'logs are JSON lines', TEST_COVERAGE_CHECK,
    ]));
  });

  it('a missing endpoint fails its shape check', async () => {
    const report = await verify({ missingState: true });
    expectContractFailure(report, ['GET /state shape']);
    expect(named(report, 'GET /state shape')!.got).toMatch(/^404 with /);
  });

  it('a body of the wrong shape fails with the zod issues named', async () => {
    const report = await verify({ wrongHealthShape: true });
    expectContractFailure(report, ['GET /health shape']);
    expect(named(report, 'GET /health shape')!.got).toMatch(/^200; status: .*timestamp/);
  });

  it('a /health slower than 100 ms fails the latency check only', async () => {
    const report = await verify({ slowHealthMs: 250 });
    expectContractFailure(report, [`GET /health answers within ${HEALTH_LATENCY_LIMIT_MS} ms`]);
    const latency = named(report, `GET /health answers within ${HEALTH_LATENCY_LIMIT_MS} ms`)!;
    expect(Number(/^(\d+) ms$/.exec(latency.got)?.[1])).toBeGreaterThanOrEqual(250);
  });

  it('declared authentication that lets a request without credentials through fails every guarded endpoint', async () => {
    const report = await verify({ ignoresCredentials: true });
    expectContractFailure(report, [
      'GET /capabilities refuses missing credentials',
      'GET /state refuses missing credentials',
      'GET /dependencies refuses missing credentials',
      'POST /message refuses missing credentials',
      'GET /state refuses a wrong token',
    ]);
    expect(named(report, 'GET /capabilities declares authentication')?.passed).toBe(true);
    expect(named(report, 'GET /state refuses missing credentials')!.got).toMatch(/^200 with /);
  });

  it('a bad request answered outside the UDC error shape fails the bad-request check', async () => {
    const report = await verify({ nonUdcBadRequest: true });
    expectContractFailure(report, ['POST /message refuses an invalid body']);
    expect(named(report, 'POST /message refuses an invalid body')!.got).toBe('400 with {"message":"bad request"}');
  });

  it('an unknown path answered outside the UDC error shape fails the unknown-path check', async () => {
    const report = await verify({ nonUdcNotFound: true });
    expectContractFailure(report, ['GET /an-unknown-path answers 404']);
    expect(named(report, 'GET /an-unknown-path answers 404')!.got).toBe('404 with Cannot GET /an-unknown-path');
  });

  it('a declared integration endpoint that does not exist fails its own check', async () => {
    const report = await verify({ declaresMissingEndpoint: true });
    expectContractFailure(report, ['GET /widgets/report exists']);
    expect(named(report, 'GET /widgets/report exists')!.got).toMatch(/^404 with .*\/widgets\/report/);
  });

  it('an integration endpoint that points at another host is refused, and that host is never asked', async () => {
    const asked: string[] = [];
    const elsewhere = createServer((request, response) => {
      asked.push(`${request.method} ${request.url}`);
      response.end('AKIA-HOST-ONLY-SECRET');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    try {
      const path = `//127.0.0.1:${(elsewhere.address() as AddressInfo).port}/latest/meta-data`;
      const report = await verify({ declaresForeignEndpoint: path });
      expect(report.passed).toBe(false);
      expect(failed(report)).toContain('GET /capabilities shape');
      expect(named(report, 'GET /capabilities shape')!.got).toContain('expected a path on this droplet');
      expect(JSON.stringify(report)).not.toContain('AKIA-HOST-ONLY-SECRET');
      expect(asked).toEqual([]);
    } finally {
      await new Promise((resolve) => elsewhere.close(resolve));
    }
  });

  it('a project that would make npm run a program (.npmrc git=, a git dependency) is refused before install', async () => {
    counter += 1;
    const dir = join(root, `droplet-${counter}`);
    dirs.push(dir);
    const fixture = await writeFixtureDroplet(dir, {});
    const marker = join(root, `npm-ran-it-${counter}`);
    await writeFile(join(dir, 'evil.sh'), `#!/bin/sh\ntouch ${marker}\nexit 1\n`, { mode: 0o755 });
    await writeFile(join(dir, '.npmrc'), `git=${join(dir, 'evil.sh')}\n`);
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    manifest.dependencies = { ...manifest.dependencies, helper: `git+file://${join(root, 'no-such-repo')}` };
    await writeFile(join(dir, 'package.json'), JSON.stringify(manifest));
    const report = await verifier.verify(dir, { dropletId: fixture.dropletId, name: fixture.name }, { signal: new AbortController().signal });
    expect(report).toMatchObject({ passed: false, stage: 'install' });
    expect(report.install).toBeUndefined();
    expect(failed(report)).toEqual([INSTALL_INPUTS_CHECK]);
    expect(named(report, INSTALL_INPUTS_CHECK)!.got).toContain('.npmrc configures the package manager');
    expect(named(report, INSTALL_INPUTS_CHECK)!.got).toContain('dependencies.helper is "git+file://');
    expect(existsSync(marker)).toBe(false);
    expect(started.size).toBe(0);
  });

  it('plain-text logs fail the log check', async () => {
    const report = await verify({ plainTextLogs: true });
    expectContractFailure(report, ['logs are JSON lines']);
    expect(named(report, 'logs are JSON lines')!.got).toMatch(/^0 of \d+ lines are JSON objects; first line: INFO: listening/);
  });

  it('tests that leave an endpoint out fail fast, before anything is installed or run, naming the endpoint', async () => {
    const report = await verify({ untestedEndpoints: { '/state': 'absent' } });
    expect(report.passed).toBe(false);
    expect(report.stage).toBe('tests');
    expect(report.install).toBeUndefined();
    expect(report.tests).toBeUndefined();
    expect(report.childProcessMs).toBe(0);
    expect(report.contract).toEqual([expect.objectContaining({ name: TEST_COVERAGE_CHECK, passed: false })]);
    expect(report.contract![0]!.got).toBe('no test requests GET /state; read 1 test file (test/udc.test.js)');
    expect(report.summary).toBe("The droplet's own tests do not cover every UDC endpoint: no test requests GET /state.");
    expect(started.size).toBe(0);
  });

  it('a skipped or commented-out endpoint test does not count as covering it', async () => {
    const report = await verify({ untestedEndpoints: { '/capabilities': 'commented', '/dependencies': 'skipped', '/message': 'skipped' } });
    expect(report.passed).toBe(false);
    expect(failed(report)).toEqual([TEST_COVERAGE_CHECK]);
    expect(report.summary).toBe(
      "The droplet's own tests do not cover every UDC endpoint: no test requests GET /capabilities, GET /dependencies, POST /message.",
    );
  });
});
