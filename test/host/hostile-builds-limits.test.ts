/**
 * Hostile generated projects that attack the limits and the build itself, through real
 * builds on a production-like host (test/support/hostile-host.ts): a test that spins
 * forever, leaves a background job, allocates far too much memory, plants git hooks and
 * core.fsmonitor, or plants an `.npmrc` in HOME for the builds after it.
 * Each ends with its verdict, no canary anywhere, no process left, the executor healthy.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileChange } from '../../src/domain/files.js';
import type { BuildView } from '../../src/domain/status.js';
import {
  canaryLeaks,
  healthOf,
  type HostileBuild,
  type HostileHost,
  hostileReport,
  hostileTest,
  noProcessLeftUnder,
  processesUnder,
  reportOf,
  runUnsandboxed,
  safeGit,
  startHostileHost,
} from '../support/hostile-host.js';

const TEST_TIMEOUT_SECONDS = 20;
let host: HostileHost;
let ranLog: string;
const tests: Record<string, FileChange> = {};
const builds: Record<string, Promise<HostileBuild>> = {};

/** The hook every plant installs: it records that it ran, outside the repository. */
const hookScript = (log: string) => `#!/bin/sh\necho "$(basename "$0") ran" >> '${log}'\nexit 0\n`;

beforeAll(async () => {
  host = await startHostileHost({ TEST_TIMEOUT_SECONDS: String(TEST_TIMEOUT_SECONDS) });
  ranLog = join(host.markers, 'ran.log');
  tests.loop = hostileTest("test('spins forever', () => { for (;;) {} });");
  tests.background = hostileTest(`
test('leaves a background job behind', () => {
  spawnSync('sh', ['-c', 'sleep 9999 >/dev/null 2>&1 &']);
  const sleeping = fs.readdirSync('/proc').filter((pid) => /^\\d+$/.test(pid) && attempt(() => fs.readFileSync('/proc/' + pid + '/cmdline', 'latin1')).value === 'sleep\\0' + '9999\\0');
  record('sleeping', sleeping.length);
  assert.equal(sleeping.length, 1, 'the background sleep is not running');
});`);
  tests.memory = hostileTest(`
test('allocates 4 GiB', () => {
  const kept = [];
  for (let i = 0; i < 64; i++) kept.push(Buffer.alloc(64 * 1024 * 1024, 1));
  console.log('ALLOCATED-ALL', kept.length);
});`);
  tests.git = hostileTest(`
test('plants hooks and core.fsmonitor in .git: refused', () => {
  const hook = ${JSON.stringify(hookScript(ranLog))};
  const planted = {};
  for (const name of ['pre-commit', 'post-commit', 'fsmonitor-hook']) {
    planted[name] = attempt(() => { fs.writeFileSync('.git/hooks/' + name, hook); fs.chmodSync('.git/hooks/' + name, 0o755); return 'written'; });
  }
  const config = spawnSync('git', ['config', 'core.fsmonitor', '.git/hooks/fsmonitor-hook'], { encoding: 'utf8' });
  planted.config = config.status === 0 ? { ok: true } : { ok: false, code: config.stderr.trim() };
  record('git', planted);
  assert.deepEqual(Object.keys(planted).filter((name) => planted[name].ok), []);
});`);
  tests.planter = hostileTest(`
test('plants an .npmrc in HOME whose node-options run its script in later builds', () => {
  const home = process.env.HOME;
  fs.writeFileSync(home + '/planted.cjs', "require('fs').writeFileSync('planted-ran', String(process.pid));\\n");
  fs.writeFileSync(home + '/.npmrc', 'node-options=--require ' + home + '/planted.cjs\\n');
  record('planted', fs.readdirSync(home));
});`);
  tests.checker = hostileTest(`
test('finds nothing an earlier build left in HOME', () => {
  const names = fs.readdirSync(process.env.HOME);
  record('home', { names, nodeOptions: process.env.NODE_OPTIONS ?? null, plantedRan: fs.existsSync('planted-ran') });
  assert.deepEqual(names, []);
  assert.ok(!fs.existsSync('planted-ran'), 'a script planted by another build ran in this one');
});`);
  for (const name of ['loop', 'background', 'memory', 'git', 'planter']) {
    builds[name] = host.build(`Build Hostile ${name[0]!.toUpperCase()}${name.slice(1)} Probe for limit checks`, [tests[name]!]);
  }
  await Promise.all(Object.values(builds));
}, 60_000);

afterAll(async () => {
  await host?.close();
  if (host) expect(await noProcessLeftUnder(host.root, host.pid)).toEqual([]);
});

/** The verdict, then the common ending: no canary anywhere, nothing left running, the executor healthy. */
async function ended(name: string, status: 'completed' | 'failed'): Promise<BuildView> {
  const { buildId } = await builds[name]!;
  const view = await host.wait(buildId, [status]);
  expect(await canaryLeaks(host, buildId)).toEqual([]);
  expect(await noProcessLeftUnder(view.repository_path!, host.pid)).toEqual([]);
  expect(await healthOf(host)).toEqual({ httpStatus: 200, status: 'healthy', sandbox: 'bubblewrap' });
  return view;
}

function expectVerifierFailed(view: BuildView, message: RegExp): void {
  expect(view.steps.find((step) => step.step === 'verifier')).toMatchObject({ status: 'failed', error: { code: 'VERIFICATION_FAILED' } });
  expect(view.error?.message).toMatch(message);
}

describe('a hostile droplet test, within limits', () => {
  it('loops forever: killed at the time limit, the build fails saying so', async () => {
    // While it spins, the leftover check sees its processes: so that check, after the build, can fail.
    const { buildId } = await builds.loop!;
    const deadline = Date.now() + 90_000;
    let seen: string[] = [];
    while (seen.length === 0 && Date.now() < deadline) {
      const { repository_path: repository, status } = await host.status(buildId);
      if (status === 'failed') break;
      if (repository) seen = processesUnder(repository, host.pid).filter((line) => line.includes('test'));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(seen.length).toBeGreaterThan(0);
    const view = await ended('loop', 'failed');
    expectVerifierFailed(view, new RegExp(`npm test timed out after ${TEST_TIMEOUT_SECONDS}\\.0 s`));
  });

  it('starts `sleep 9999 &` and exits: the build completes and the sleep does not outlive it', async () => {
    const view = await ended('background', 'completed');
    // It really ran: the test saw its sleep running (and would have failed otherwise).
    expect(hostileReport(view.repository_path!).sleeping).toBe(1);
  });

  it('allocates 4 GiB against a 512 MiB limit: killed, the build fails', async () => {
    const view = await ended('memory', 'failed');
    // The kernel killed the suite's one process (test/index.js loads every file): the runner reports that file, not the test.
    expectVerifierFailed(view, /1 test failed: \S*test\/index\.js\./);
    expect(reportOf(view)?.tests?.outputTail).not.toContain('ALLOCATED-ALL');
  });

  it('plants hooks and core.fsmonitor: .git is read-only to it, and nothing planted ever runs', async () => {
    const view = await ended('git', 'completed');
    const repository = view.repository_path!;
    expect(hostileReport(repository).git).toMatchObject({ 'pre-commit': { ok: false, code: 'EROFS' }, config: { ok: false } });
    // The executor's git went on after the plant (the verification record, the registration)...
    expect(safeGit(repository, 'log', '--format=%s')).toContain('verification attempt 1 passed');
    // ...and ran nothing: no marker, no hook, no fsmonitor setting.
    expect(existsSync(ranLog)).toBe(false);
    expect(readdirSync(join(repository, '.git/hooks')).filter((name) => !name.endsWith('.sample'))).toEqual([]);
    expect(readFileSync(join(repository, '.git/config'), 'utf8')).not.toContain('fsmonitor');

    // Control: unsandboxed, in a copy of the repository, the same test plants everything
    // (and so fails), and a plain git commit there runs all of it.
    const control = await runUnsandboxed(host, tests.git!, { copyOf: repository });
    expect(control.failing).toEqual(['plants hooks and core.fsmonitor in .git: refused']);
    const identity = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
    execFileSync('sh', ['-c', 'git add -A && git commit -q -m control'], { cwd: control.dir, env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', ...identity } });
    const ran = readFileSync(ranLog, 'utf8');
    for (const hook of ['fsmonitor-hook', 'pre-commit', 'post-commit']) expect(ran).toContain(`${hook} ran`);
    rmSync(ranLog);
  });

  it('plants an .npmrc in HOME: the next build gets an empty HOME and never runs the planted script', async () => {
    const planter = await ended('planter', 'completed');
    expect(hostileReport(planter.repository_path!).planted).toEqual(expect.arrayContaining(['.npmrc', 'planted.cjs']));
    builds.checker = host.build('Build Hostile Checker Probe for limit checks', [tests.checker!]);
    const checker = await ended('checker', 'completed');
    const { home } = hostileReport(checker.repository_path!) as { home: { names: string[]; nodeOptions: string | null; plantedRan: boolean } };
    expect(home).toMatchObject({ names: [], plantedRan: false });
    // NODE_OPTIONS carries only the executor's own test reporter, nothing an .npmrc planted.
    expect(home.nodeOptions).toMatch(/^--test-reporter=spec --test-reporter-destination=stdout --test-reporter=data:/);
    expect(home.nodeOptions).not.toMatch(/--require|planted/);
    expect(readdirSync(join(host.dataDir, 'sandbox-home'))).toEqual([]);
    expect(await noProcessLeftUnder(host.dataDir, host.pid)).toEqual([]);
  });
});
