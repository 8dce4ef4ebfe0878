/**
 * Hostile droplets verified in the bubblewrap sandbox the executor builds (createSandbox,
 * SANDBOX=required), with the executor's secrets where a real host keeps them: an SSH
 * key in its HOME, its database in DATA_DIR, its API token in the environment and in the
 * `.env` of its working directory. Everything lives under /var/tmp, not /tmp, so the
 * sandbox's private /tmp cannot be what hides it: only the masks can.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import type { VerificationReport } from '../../src/domain/verification.js';
import { DropletVerifier } from '../../src/verify/verifier.js';
import { createSandbox, type SandboxChoice } from '../../src/sandbox/sandbox-factory.js';
import { type FixtureDropletOptions, writeFixtureDroplet } from '../support/fixture-droplet.js';
import { eventually, processesUnder } from '../support/processes.js';

const CANARY = 'canary-sandbox-secret-8d41c2b7e9';

let root: string;
let dataDir: string;
let executorHome: string;
let executorCwd: string;
let choice: SandboxChoice;
let verifier: DropletVerifier;
let listener: Server;
let listenerPort: number;
let connectionsSeen = 0;
let counter = 0;
const workdirs: string[] = [];

beforeAll(async () => {
  root = mkdtempSync('/var/tmp/hostile-sandbox-');
  dataDir = join(root, 'data');
  executorHome = join(root, 'executor-home');
  executorCwd = join(root, 'executor-cwd');
  mkdirSync(join(executorHome, '.ssh'), { recursive: true });
  mkdirSync(join(dataDir, 'repos'), { recursive: true });
  mkdirSync(executorCwd);
  writeFileSync(join(executorHome, '.ssh/id_ed25519'), `-----BEGIN OPENSSH PRIVATE KEY-----\n${CANARY}\n`);
  chmodSync(join(executorHome, '.ssh/id_ed25519'), 0o600);
  writeFileSync(join(executorCwd, '.env'), `API_TOKEN=${CANARY}\n`);
  const db = openDatabase(join(dataDir, 'executor.db'));
  db.exec('CREATE TABLE canary (value TEXT)');
  db.prepare('INSERT INTO canary (value) VALUES (?)').run(CANARY);
  db.close();

  listener = createServer((socket) => {
    connectionsSeen += 1;
    socket.destroy();
  });
  listenerPort = await new Promise<number>((resolve) => listener.listen(0, '127.0.0.1', () => resolve((listener.address() as { port: number }).port)));

  // The call the composition root makes, with this test's executor as the host.
  choice = createSandbox({
    mode: 'required',
    memoryMb: 512,
    maxProcesses: 128,
    dataDir,
    executorHome,
    executorCwd,
    baseEnv: { ...process.env, API_TOKEN: CANARY },
    homeDir: join(dataDir, 'sandbox-home'),
    npmCacheDir: join(root, 'npm-cache'),
    killGraceMs: 1_000,
  });
  verifier = new DropletVerifier({ sandbox: choice.sandbox, installTimeoutMs: 60_000, testTimeoutMs: 60_000, startTimeoutMs: 20_000 });
});

afterEach(() => {
  for (const dir of workdirs.splice(0)) expect(processesUnder(dir)).toEqual([]);
});

afterAll(async () => {
  await new Promise((resolve) => listener?.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** A fixture droplet in DATA_DIR/repos with a hostile test file, verified in the sandbox. */
async function verifyHostile(hostileTest: string | null, options: FixtureDropletOptions = {}): Promise<{ report: VerificationReport; dir: string }> {
  counter += 1;
  const dir = join(dataDir, 'repos', `${counter}-hostile`);
  workdirs.push(dir);
  const extraFiles: Record<string, string> = hostileTest === null ? {} : {
    'test/hostile.test.js': `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { readFileSync, readdirSync, writeFileSync } from 'node:fs';\nimport { spawnSync } from 'node:child_process';\nimport { connect } from 'node:net';\n${hostileTest}\n`,
  };
  const fixture = await writeFixtureDroplet(dir, { name: `hostile-${counter}`, ...options, extraFiles: { ...extraFiles, ...options.extraFiles } });
  const report = await verifier.verify(dir, { dropletId: fixture.dropletId, name: fixture.name }, { signal: new AbortController().signal });
  return { report, dir };
}

/** No canary in the report nor in anything the droplet left in its workspace. */
function expectNoCanary(report: VerificationReport, dir: string): void {
  expect(JSON.stringify(report)).not.toContain(CANARY);
  for (const file of filesUnder(dir)) expect(readFileSync(file).includes(CANARY), file).toBe(false);
}

describe('hostile droplets in the bubblewrap sandbox', () => {
  it('is the bubblewrap sandbox with cgroup limits', () => {
    expect(choice).toMatchObject({ kind: 'bubblewrap', unavailableReason: null });
    expect(choice.limits).toContain('cgroup');
  });

  it('a correct droplet passes every check through the port bridge', async () => {
    const { report } = await verifyHostile(null);
    expect(report.summary).toMatch(/passed/);
    expect(report.passed).toBe(true);
    expect(report.contract?.find((check) => check.name === 'GET /health answers within 100 ms')?.passed).toBe(true);
  });

  it("cannot read the executor's SSH key, database, .env, secrets in /proc/1/environ, or /etc/shadow", async () => {
    const steal = (name: string, path: string, check = 'assert.ok(text.length > 0)') =>
      `test('${name}', () => { const text = readFileSync(${JSON.stringify(path)}, 'utf8'); writeFileSync('stolen-${name.replace(/\W+/g, '-')}', text); console.log(text); ${check}; });`;
    const { report, dir } = await verifyHostile([
      steal('reads the ssh key', join(executorHome, '.ssh/id_ed25519')),
      steal('reads the database', join(dataDir, 'executor.db')),
      steal('reads the env file', join(executorCwd, '.env')),
      steal('reads the environment of pid 1', '/proc/1/environ', "assert.ok(text.includes('API_TOKEN'))"),
      steal('reads the shadow file', '/etc/shadow'),
      `test('lists the data dir', () => { const names = readdirSync(${JSON.stringify(dataDir)}); console.log('DATA-DIR', names.join(',')); assert.ok(names.includes('executor.db')); });`,
    ].join('\n'));
    expect(report).toMatchObject({ passed: false, stage: 'tests' });
    expect(report.tests!.failingTests).toEqual(expect.arrayContaining([
      'reads the ssh key', 'reads the database', 'reads the env file', 'reads the environment of pid 1', 'reads the shadow file', 'lists the data dir',
    ]));
    expect(report.tests!.outputTail).toMatch(/ENOENT|EACCES/);
    expectNoCanary(report, dir);
  });

  it('cannot open a connection to a service on the host', async () => {
    const { report, dir } = await verifyHostile(
      `test('opens a connection to the host', async () => { await new Promise((resolve, reject) => connect(${listenerPort}, '127.0.0.1').on('connect', resolve).on('error', reject)); });`,
    );
    expect(report).toMatchObject({ passed: false, stage: 'tests' });
    expect(report.tests!.failingTests).toContain('opens a connection to the host');
    expect(report.tests!.outputTail).toContain('ECONNREFUSED');
    expect(connectionsSeen).toBe(0);
    expectNoCanary(report, dir);
  });

  it('is killed when it allocates far too much memory', async () => {
    const { report, dir } = await verifyHostile(
      "test('allocates 4 GiB', () => { const kept = []; for (let i = 0; i < 80; i++) kept.push(Buffer.alloc(50 * 1024 * 1024, 1)); console.log('ALLOCATED-ALL', kept.length); });",
    );
    expect(report).toMatchObject({ passed: false, stage: 'tests' });
    expect(report.tests!.outputTail).not.toContain('ALLOCATED-ALL');
    expectNoCanary(report, dir);
  });

  it('cannot start processes without limit, and none it started survives', async () => {
    const { report, dir } = await verifyHostile(
      "test('starts 400 processes', () => { const out = spawnSync('sh', ['-c', 'i=0; while [ $i -lt 400 ]; do sleep 9955 >/dev/null 2>&1 & i=$((i + 1)); done; echo STARTED-ALL'], { encoding: 'utf8' }); console.log(out.stdout, out.stderr); assert.match(out.stdout, /STARTED-ALL/); });",
    );
    expect(report).toMatchObject({ passed: false, stage: 'tests' });
    expect(report.tests!.failingTests).toContain('starts 400 processes');
    expect(await eventually(() => !readdirSync('/proc').some((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\u00009955');
      } catch {
        return false;
      }
    }))).toBe(true);
    expectNoCanary(report, dir);
  });

  it('prints 1 GB: the output is capped and the droplet still verifies', async () => {
    const { report, dir } = await verifyHostile(null, { testScript: "head -c 1000000000 /dev/zero | tr '\\0' x; echo; node --test" });
    expect(report.tests).toMatchObject({ exitCode: 0, truncated: true });
    expect(report.passed).toBe(true);
    expectNoCanary(report, dir);
  });

  it('the sandbox still runs commands after all of that', async () => {
    const result = await choice.sandbox.run({ command: 'node', args: ['-e', "console.log('still-serving')"], cwd: join(dataDir, 'repos'), timeoutMs: 30_000 });
    expect(result).toMatchObject({ exitCode: 0, output: 'still-serving\n' });
  });
});
