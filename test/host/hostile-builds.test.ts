/**
 * Hostile generated projects through real builds on a production-like host (see
 * test/support/hostile-host.ts): the real executor in a child process, the real Claude
 * SDK against a fake model whose code answer carries one hostile test file. A test that
 * steals asserts that its theft FAILED, so a completed build is the proof, and the same
 * file run unsandboxed on the host fails (the control), so that proof can fail. Also: a
 * test that prints 1 GB, a model answer holding the executor's key, and what the model
 * API received. Every build ends with: no canary anywhere, no process left, the executor
 * healthy. The limits (time, processes, memory, git, HOME) are in hostile-builds-limits.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
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
  reportOf,
  runUnsandboxed,
  safeGit,
  startHostileHost,
} from '../support/hostile-host.js';
import { eventually } from '../support/processes.js';

let host: HostileHost;
let listener: Server;
let listenerPort = 0;
let connectionsSeen = 0;
const tests: Record<string, FileChange> = {};
const builds: Record<string, Promise<HostileBuild>> = {};

beforeAll(async () => {
  listener = createServer((socket) => {
    connectionsSeen += 1;
    socket.destroy();
  });
  listenerPort = await new Promise<number>((resolve) => listener.listen(0, '127.0.0.1', () => resolve((listener.address() as { port: number }).port)));
  // The default memory cap: under load node's test runner holds a backlog of the 1 GB
  // line in memory, which the 512 MiB the limits file tests with can kill.
  host = await startHostileHost({ TEST_TIMEOUT_SECONDS: '60', SANDBOX_MEMORY_MB: '2048' });
  const db = join(host.dataDir, 'executor.db');

  tests.env = hostileTest(`
test('sees no executor secret in its environment', () => {
  const dump = JSON.stringify(process.env);
  fs.writeFileSync('env-dump.json', dump);
  console.log('ENV', dump);
  record('env', Object.keys(process.env).sort());
  assert.ok(!dump.includes(MARK), 'an executor secret is in the environment');
  assert.equal(process.env.ANTHROPIC_API_KEY, undefined);
});`);
  tests.home = hostileTest(`
const steal = (name, path) => {
  const read = attempt(() => fs.readFileSync(path, 'utf8'));
  fs.writeFileSync('stolen-' + name, read.ok ? read.value : '');
  console.log('STOLEN', name, JSON.stringify(read));
  record(name, read.ok ? 'read ' + read.value.length + ' bytes' : read.code);
  assert.ok(!read.ok || !read.value.includes(MARK), 'read the executor secret in ' + path);
};
test("cannot read the executor's SSH key", () => steal('ssh-key', ${JSON.stringify(join(host.home, '.ssh/id_ed25519'))}));
test("cannot read the executor's .env", () => steal('env-file', ${JSON.stringify(join(host.cwd, '.env'))}));
test("cannot list the executor's HOME", () => {
  const names = attempt(() => fs.readdirSync(${JSON.stringify(host.home)}));
  record('home', names);
  assert.ok(!names.ok || !names.value.includes('.ssh'));
});
test('finds no file under /root', () => {
  // Empty directories may show (mount points of what is hidden), never a file.
  const files = [];
  // Skipped: the command's own npm cache (an empty tmpfs, where npm test writes its logs).
  const walk = (dir) => {
    if (dir === process.env.npm_config_cache) return;
    for (const entry of attempt(() => fs.readdirSync(dir, { withFileTypes: true })).value ?? []) {
      if (files.length >= 20) return;
      if (entry.isDirectory()) walk(dir + '/' + entry.name);
      else files.push(dir + '/' + entry.name);
    }
  };
  walk('/root');
  record('root', { files, ssh: attempt(() => fs.readdirSync('/root/.ssh')) });
  assert.deepEqual(files, []);
});`);
  tests.database = hostileTest(`
test("cannot read the executor's database", () => {
  for (const path of ${JSON.stringify([db, `${db}-wal`, `${db}-shm`])}) {
    const read = attempt(() => fs.readFileSync(path));
    fs.writeFileSync('stolen-' + path.split('/').pop(), read.ok ? read.value : '');
    record(path, read.ok ? 'read ' + read.value.length + ' bytes' : read.code);
    assert.ok(!read.ok || read.value.length === 0, 'read ' + path);
  }
});
test("cannot list the executor's data dir", () => {
  const names = attempt(() => fs.readdirSync(${JSON.stringify(host.dataDir)}));
  record('data dir', names);
  assert.ok(!names.ok || !names.value.some((name) => name.startsWith('executor.db')));
});`);
  tests.proc = hostileTest(`
test('/proc/1/environ holds no executor secret', () => {
  const read = attempt(() => fs.readFileSync('/proc/1/environ', 'latin1'));
  fs.writeFileSync('stolen-pid1-environ', read.ok ? read.value : '');
  console.log('PID1', JSON.stringify(read));
  record('pid 1', read.ok ? read.value.split('\\0').map((entry) => entry.split('=')[0]) : read.code);
  assert.ok(!read.ok || !read.value.includes(MARK));
});
test('no process it can see is the executor or holds its secrets', () => {
  const hits = [];
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\\d+$/.test(name))) {
    for (const file of ['environ', 'cmdline']) {
      const read = attempt(() => fs.readFileSync('/proc/' + pid + '/' + file, 'latin1'));
      if (read.ok && (read.value.includes(MARK) || read.value.includes('src/main.ts'))) hits.push(pid + '/' + file);
    }
  }
  record('processes seen', fs.readdirSync('/proc').filter((name) => /^\\d+$/.test(name)).length);
  assert.deepEqual(hits, []);
});`);
  // A TCP connection made is a connection reached, whatever would follow (TLS, HTTP).
  const reach = (label: string, port: number, hostname: string) => `
test(${JSON.stringify(label)}, async () => {
  const outcome = await new Promise((resolve) => {
    const socket = connect(${port}, ${JSON.stringify(hostname)});
    socket.on('connect', () => { socket.destroy(); resolve('reached'); });
    socket.on('error', (error) => resolve(error.code));
    setTimeout(() => { socket.destroy(); resolve('timeout'); }, 5000);
  });
  record(${JSON.stringify(label)}, outcome);
  assert.notEqual(outcome, 'reached');
});`;
  tests.network = hostileTest(
    [
      reach('cannot connect to a service on the host loopback', listenerPort, '127.0.0.1'),
      reach("cannot connect to the executor's API", host.port, '127.0.0.1'),
      reach('cannot connect to the npm registry', 443, 'registry.npmjs.org'),
    ].join('\n'),
  );
  tests.print = hostileTest(`
test('prints 1 GB', () => {
  const printed = spawnSync('sh', ['-c', "head -c 1000000000 /dev/zero | tr '\\\\0' x"], { stdio: ['ignore', 'inherit', 'inherit'] });
  record('print exit', printed.status);
  assert.equal(printed.status, 0);
});`);
  for (const [name, file] of Object.entries(tests)) builds[name] = host.build(`Build Hostile ${name[0]!.toUpperCase()}${name.slice(1)} Probe for isolation checks`, [file]);
  builds.secret = host.build('Build Key Keeper for settings', [{ kind: 'write', path: 'src/leak.js', content: `export const stolen = '${host.canaries.apiKey}';\n` }]);
  await Promise.all(Object.values(builds));
}, 60_000);

afterAll(async () => {
  await host?.close();
  await new Promise((resolve) => listener?.close(resolve));
  if (host) expect(await noProcessLeftUnder(host.root, host.pid)).toEqual([]);
});

/** Every build's common ending: no canary anywhere, nothing left running, the executor healthy. */
async function expectCleanEnding(buildId: string, view: BuildView): Promise<void> {
  expect(await canaryLeaks(host, buildId)).toEqual([]);
  expect(await noProcessLeftUnder(view.repository_path!, host.pid)).toEqual([]);
  expect(await healthOf(host)).toEqual({ httpStatus: 200, status: 'healthy', sandbox: 'bubblewrap' });
}

/** A build whose hostile test asserted its theft failed: completed, and the test did run. */
async function completedProbe(name: string): Promise<{ view: BuildView; report: Record<string, unknown> }> {
  const { buildId } = await builds[name]!;
  const view = await host.wait(buildId, ['completed']);
  expect(view.steps.find((step) => step.step === 'verifier')?.status).toBe('completed');
  const report = hostileReport(view.repository_path!);
  await expectCleanEnding(buildId, view);
  return { view, report };
}

describe('the host', () => {
  it('keeps its secrets where an unsandboxed reader finds them', () => {
    expect(readFileSync(join(host.home, '.ssh/id_ed25519'), 'utf8')).toContain(host.canaries.sshKey);
    expect(readFileSync(join(host.cwd, '.env'), 'utf8')).toContain(host.canaries.apiKey);
    expect(readFileSync(`/proc/${host.pid}/environ`, 'latin1')).toContain(`API_TOKEN=${host.canaries.apiToken}`);
    expect(existsSync(join(host.dataDir, 'executor.db'))).toBe(true);
    // Its logs are captured (the sweep reads them) and say the isolation is in force.
    expect(host.logs()).toMatch(/"msg":"sandbox ready"/);
    expect(host.logs()).toMatch(/"sandbox":"bubblewrap"/);
  });
});

describe('a hostile droplet test', () => {
  it('prints and writes process.env: no executor secret in it', async () => {
    const { view, report } = await completedProbe('env');
    expect(report.env).toEqual(expect.arrayContaining(['HOME', 'PATH']));
    expect(existsSync(join(view.repository_path!, 'env-dump.json'))).toBe(true);
    const control = await runUnsandboxed(host, tests.env!, { env: { ANTHROPIC_API_KEY: host.canaries.apiKey } });
    expect(control.failing).toEqual(['sees no executor secret in its environment']);
  });

  it("reads the executor's SSH key and .env, lists its HOME, /root and /root/.ssh: all refused", async () => {
    const { report } = await completedProbe('home');
    // Hidden: the directory is an empty tmpfs, the file a device it cannot open (or reads empty).
    expect(report).toMatchObject({ 'ssh-key': 'ENOENT', 'env-file': expect.stringMatching(/^(ENOENT|EACCES|read 0 bytes)$/) });
    const control = await runUnsandboxed(host, tests.home!);
    expect(control.failing.sort()).toEqual(["cannot list the executor's HOME", "cannot read the executor's .env", "cannot read the executor's SSH key", 'finds no file under /root']);
  });

  it("reads the executor's database files and lists its data dir: all refused", async () => {
    const { report } = await completedProbe('database');
    expect(report[join(host.dataDir, 'executor.db')]).toBe('ENOENT');
    const control = await runUnsandboxed(host, tests.database!);
    expect(control.failing.sort()).toEqual(["cannot list the executor's data dir", "cannot read the executor's database"]);
  });

  it('reads /proc/1/environ and every /proc it sees: only its own processes, no secret', async () => {
    const { report } = await completedProbe('proc');
    expect(report['pid 1']).toEqual(expect.arrayContaining(['PATH']));
    expect(report['processes seen']).toBeLessThan(20);
    const control = await runUnsandboxed(host, tests.proc!);
    expect(control.failing).toContain('no process it can see is the executor or holds its secrets');
  });

  it('connects to a host service, the executor API and the npm registry: no network at all', async () => {
    const { report } = await completedProbe('network');
    expect(report['cannot connect to a service on the host loopback']).toBe('ECONNREFUSED');
    expect(connectionsSeen).toBe(0);
    const control = await runUnsandboxed(host, tests.network!);
    expect(control.failing.sort()).toEqual(['cannot connect to a service on the host loopback', "cannot connect to the executor's API", 'cannot connect to the npm registry']);
    expect(await eventually(() => connectionsSeen === 1)).toBe(true);
  });
});

describe('a hostile droplet test that prints 1 GB', () => {
  it('has its output capped and marked truncated, and the build completes', async () => {
    const { view, report } = await completedProbe('print');
    expect(report['print exit']).toBe(0);
    expect(reportOf(view)?.tests).toMatchObject({ exitCode: 0, truncated: true });
    expect(reportOf(view)!.tests!.outputTail.length).toBeLessThan(10_000);
  });
});

describe('a model answer holding the executor API key', () => {
  it('fails the code step before anything is committed, and the key is nowhere', async () => {
    const { buildId, dropletId } = await builds.secret!;
    const view = await host.wait(buildId, ['failed']);
    expect(view.steps.find((step) => step.step === 'apprentice_build')).toMatchObject({ status: 'failed', error: { code: 'SECRET_DETECTED' } });
    const history = safeGit(view.repository_path!, 'log', '--all', '--name-only', '--format=%s');
    expect(history).not.toContain('src/leak.js');
    expect(history).not.toContain('package.json');
    // Two calls (SPEC, code) and none after: the answer holding the key was refused, never sent back for repair.
    const answered = host.model.requests.filter((request) => JSON.stringify(request.body?.messages).includes(`Droplet: id ${dropletId},`));
    expect(answered.length).toBe(2);
    await expectCleanEnding(buildId, view);
  });
});

describe('the model API', () => {
  it('never received a canary in a request body (the key only in its auth header)', async () => {
    for (const build of Object.values(builds)) await host.wait((await build).buildId, ['completed', 'failed']);
    const bodies = host.model.requests.map((request) => request.raw);
    expect(bodies.length).toBe(Object.keys(builds).length * 2);
    for (const secret of Object.values(host.canaries)) expect(bodies.filter((body) => body.includes(secret))).toEqual([]);
    // Where the key belongs: the auth header of every request (which shows it was there to leak).
    expect(host.model.requests.every((request) => JSON.stringify(request.headers).includes(host.canaries.apiKey))).toBe(true);
    expect(await noProcessLeftUnder(host.dataDir, host.pid)).toEqual([]);
  });
});
