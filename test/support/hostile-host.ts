/**
 * A production-like host for hostile builds: the REAL executor as a child process
 * (`node --import tsx src/main.ts`) with its own HOME holding an SSH key, a working
 * directory whose `.env` holds its model key and API token, DATA_DIR beside them, all
 * under /var/tmp (not /tmp, so the sandbox's private /tmp cannot be what hides them).
 * The Claude author (real SDK) gets each droplet from a fake model API: a working
 * droplet plus one hostile test file. Every secret is a canary holding CANARY_MARK, so
 * a generated test can look for the mark without ever holding a secret itself.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { FileChange } from '../../src/domain/files.js';
import type { BuildView } from '../../src/domain/status.js';
import type { BuildEvent } from '../../src/domain/events.js';
import { deriveDropletName } from '../../src/domain/naming.js';
import { failingTestNames } from '../../src/verify/test-output.js';
import type { VerificationReport } from '../../src/domain/verification.js';
import { freePort } from '../../src/sandbox/ports.js';
import { api, submitBuild, waitForStatus } from './executor.js';
import { type FakeModelServer, startFakeModelServer } from './fake-model-server.js';
import { type DropletScript, scriptedByDroplet, workingDroplet } from './model-script.js';
import { withPlantedFiles } from './planting-author.js';
import { eventually, isZombie } from './processes.js';

/** In every canary; generated tests search for it (the canaries themselves never enter a repository). */
export const CANARY_MARK = 'hostilecanary';

/** A type alias, not an interface, so that `Object.values(canaries)` is a `string[]`. */
export type Canaries = {
  /** ANTHROPIC_API_KEY, in the executor's `.env` only. */
  apiKey: string;
  /** API_TOKEN, in the `.env` and in the executor's real environment (so in /proc/<pid>/environ). */
  apiToken: string;
  /** The body of the executor's `$HOME/.ssh/id_ed25519`. */
  sshKey: string;
};

export interface HostileBuild {
  buildId: string;
  dropletId: number;
}

export interface HostileHost {
  root: string;
  dataDir: string;
  home: string;
  cwd: string;
  /** Outside everything the sandbox may write: where planted hooks would leave their traces. */
  markers: string;
  port: number;
  baseUrl: string;
  pid: number;
  canaries: Canaries;
  auth: Record<string, string>;
  model: FakeModelServer;
  /** The child's stdout and stderr so far (its JSON logs). */
  logs(): string;
  /** Submits a build whose droplet is the working one plus `extra` files (a hostile test). */
  build(intent: string, extra: FileChange[]): Promise<HostileBuild>;
  status(buildId: string): Promise<BuildView>;
  wait(buildId: string, statuses: BuildView['status'][]): Promise<BuildView>;
  events(buildId: string): Promise<BuildEvent[]>;
  close(): Promise<void>;
}

/** The imports and helpers every hostile test file starts with. */
export function hostileTest(body: string): FileChange {
  const prelude = `import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
const MARK = ${JSON.stringify(CANARY_MARK)};
const seen = {};
/** What the test saw, in the workspace: proof it ran, and a leak the sweep would find. */
const record = (key, value) => { seen[key] = value; fs.writeFileSync('hostile-report.json', JSON.stringify(seen, null, 2)); };
const attempt = (read) => { try { return { ok: true, value: read() }; } catch (error) { return { ok: false, code: error.code ?? String(error) }; } };
`;
  return { kind: 'write', path: 'test/hostile.test.js', content: `${prelude}\n${body}\n` };
}

export async function startHostileHost(settings: Record<string, string> = {}): Promise<HostileHost> {
  const root = mkdtempSync('/var/tmp/hostile-host-');
  const dataDir = join(root, 'data');
  const home = join(root, 'home');
  const cwd = join(root, 'cwd');
  const markers = join(root, 'markers');
  for (const dir of [join(home, '.ssh'), cwd, markers]) mkdirSync(dir, { recursive: true });
  const canary = (what: string) => `${CANARY_MARK}-${what}-${randomBytes(12).toString('hex')}`;
  const canaries: Canaries = { apiKey: canary('key'), apiToken: canary('token'), sshKey: canary('ssh') };
  writeFileSync(join(home, '.ssh/id_ed25519'), `-----BEGIN OPENSSH PRIVATE KEY-----\n${canaries.sshKey}\n-----END OPENSSH PRIVATE KEY-----\n`);
  chmodSync(join(home, '.ssh/id_ed25519'), 0o600);
  writeFileSync(join(cwd, '.env'), `ANTHROPIC_API_KEY=${canaries.apiKey}\nAPI_TOKEN=${canaries.apiToken}\n`);

  const scripts = new Map<number, DropletScript>();
  const model = await startFakeModelServer({ fallback: scriptedByDroplet(scripts) });

  const port = await freePort();
  // Started from its own working directory (for its .env), so tsx is named by its file.
  const tsx = pathToFileURL(join(process.cwd(), 'node_modules/tsx/dist/loader.mjs')).href;
  const child: ChildProcess = spawn(process.execPath, ['--import', tsx, join(process.cwd(), 'src/main.ts')], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      // The test machine's npm cache, so installs need no network (as on a host that built before).
      npm_config_cache: process.env.npm_config_cache ?? join(homedir(), '.npm'),
      ...(process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS } : {}),
      // As a host's service manager may set it: the token is in the real environment too.
      API_TOKEN: canaries.apiToken,
      DATA_DIR: dataDir,
      PORT: String(port),
      ANTHROPIC_BASE_URL: model.url,
      MODEL_RETRY_BASE_MS: '20',
      DEPLOY_TARGET: 'none',
      MAX_BUILD_ITERATIONS: '1',
      MAX_CONCURRENT_BUILDS: '2',
      SANDBOX: 'auto',
      SANDBOX_MEMORY_MB: '512',
      LOG_LEVEL: 'info',
      ...settings,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  child.stdout!.on('data', (chunk: Buffer) => (logs += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (logs += chunk.toString('utf8')));
  const baseUrl = `http://127.0.0.1:${port}`;
  const auth = { authorization: `Bearer ${canaries.apiToken}` };
  let nextId = 1;

  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await eventually(() => child.exitCode !== null || child.signalCode !== null, 15_000))) child.kill('SIGKILL');
    }
    await model.close();
    rmSync(root, { recursive: true, force: true });
  };
  if (!(await eventually(() => logs.includes('autonomous executor ready') || child.exitCode !== null, 30_000)) || child.exitCode !== null) {
    await close();
    throw new Error(`the executor did not start:\n${logs}`);
  }

  return {
    root, dataDir, home, cwd, markers, port, baseUrl, canaries, auth, model,
    pid: child.pid!,
    logs: () => logs,
    async build(intent, extra) {
      const dropletId = nextId++;
      const droplet = await workingDroplet(intent, dropletId);
      scripts.set(dropletId, { spec: droplet.spec, proof: droplet.proof, code: withPlantedFiles(droplet.files, extra) });
      const buildId = await submitBuild(baseUrl, { architect_intent: intent, droplet_id: dropletId, droplet_name: deriveDropletName(intent), approval_mode: 'auto' }, auth);
      return { buildId, dropletId };
    },
    status: async (buildId) => (await api<BuildView>(baseUrl, `/executor/builds/${buildId}/status`, { headers: auth })).body,
    wait: (buildId, statuses) => waitForStatus(baseUrl, buildId, statuses, 150_000, auth),
    events: async (buildId) => (await api<BuildEvent[]>(baseUrl, `/executor/builds/${buildId}/events`, { headers: auth })).body,
    close,
  };
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const stats = lstatSync(path);
    return stats.isDirectory() ? filesUnder(path) : stats.isFile() ? [path] : [];
  });
}

/** git that runs nothing from the repository it reads (as the executor's own). */
export function safeGit(repository: string, ...args: string[]): string {
  return execFileSync('git', ['--git-dir', join(repository, '.git'), '-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  });
}

/**
 * Every place a canary was found for this build: its status and events (HTTP), the
 * executor's logs, its database files, the repository's work tree and whole history.
 * Nothing is redacted on the way here except what the executor itself redacted.
 */
export async function canaryLeaks(host: HostileHost, buildId: string): Promise<string[]> {
  const secrets = Object.values(host.canaries);
  const found: string[] = [];
  const check = (where: string, content: string | Buffer) => {
    for (const secret of secrets) if (content.includes(secret)) found.push(`${where} holds ${secret.split('-')[1]}`);
  };
  const status = await host.status(buildId);
  check('status', JSON.stringify(status));
  check('events', JSON.stringify(await host.events(buildId)));
  check('logs', host.logs());
  for (const name of readdirSync(host.dataDir).filter((file) => file.startsWith('executor.db'))) check(name, readFileSync(join(host.dataDir, name)));
  const repository = status.repository_path;
  if (repository && existsSync(repository)) {
    for (const file of filesUnder(repository)) check(file.slice(repository.length + 1), readFileSync(file));
    check('git log -p --all', safeGit(repository, 'log', '-p', '--all', '--no-ext-diff', '--no-textconv'));
  }
  return found;
}

/** Live processes (the executor itself aside) whose working directory or arguments are under `dir`. */
export function processesUnder(dir: string, except: number): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === except || Number(entry) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (!isZombie(Number(entry)) && (cwd === dir || cwd.startsWith(`${dir}/`) || args.includes(dir))) found.push(`${entry}: ${args}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

export async function noProcessLeftUnder(dir: string, except: number): Promise<string[]> {
  await eventually(() => processesUnder(dir, except).length === 0, 10_000);
  return processesUnder(dir, except);
}

export async function healthOf(host: HostileHost): Promise<{ httpStatus: number; status: string; sandbox: string }> {
  const response = await api<{ status: string; sandbox: string }>(host.baseUrl, '/executor/health');
  return { httpStatus: response.status, status: response.body.status, sandbox: response.body.sandbox };
}

/** The verifier's report: in the step's details when it passed, in its error's when it failed. */
export function reportOf(view: BuildView): VerificationReport | undefined {
  const step = view.steps.find((candidate) => candidate.step === 'verifier');
  return (step?.details.report ?? (step?.error?.details as { report?: unknown } | undefined)?.report) as VerificationReport | undefined;
}

/** The hostile test file's report, from the build's work tree. */
export function hostileReport(repository: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(repository, 'hostile-report.json'), 'utf8')) as Record<string, unknown>;
}

/**
 * Control: the same hostile test run by plain `node --test` on the host, outside any
 * sandbox, in a copy of the build's work tree (or an empty one). What it fails is what
 * the sandboxed run proved the sandbox refused.
 */
export async function runUnsandboxed(host: HostileHost, file: FileChange, options: { copyOf?: string; env?: Record<string, string> } = {}) {
  const dir = mkdtempSync(join(host.root, 'control-'));
  if (options.copyOf) cpSync(options.copyOf, dir, { recursive: true, filter: (source) => !source.includes('/node_modules') });
  mkdirSync(join(dir, 'test'), { recursive: true });
  if (!existsSync(join(dir, 'package.json'))) writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  if (file.kind === 'write') writeFileSync(join(dir, 'test/control.test.js'), file.content);
  // Not spawnSync: the test's own listeners must keep accepting while the control runs.
  const child = spawn(process.execPath, ['--test', 'test/control.test.js'], { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { dir, exitCode, output, failing: failingTestNames(output) };
}
