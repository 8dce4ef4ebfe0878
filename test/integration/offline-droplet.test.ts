/**
 * The offline author's droplet, for real: written to disk, installed from the npm
 * cache, its own tests run, then started and probed over HTTP and stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFoundationFiles } from '../../src/authors/foundation.js';
import { OfflineAuthor } from '../../src/authors/offline/index.js';

const INTENT = 'Build Analytics Engine for tracking droplet metrics and performance';
const TOKEN = 'integration-token';

interface Finished {
  code: number | null;
  output: string;
  durationMs: number;
}

/** Only what npm and node need: the executor's own environment stays out of the droplet. */
function dropletEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...extra };
}

function runToEnd(command: string, args: string[], cwd: string): Promise<Finished> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: dropletEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output, durationMs: Math.round(performance.now() - started) }));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('No port assigned.');
  return address.port;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForHealth(base: string, child: ChildProcess, output: () => string): Promise<Response> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`The droplet exited early:\n${output()}`);
    try {
      return await fetch(`${base}/health`, { signal: AbortSignal.timeout(1000) });
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`The droplet never answered:\n${output()}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('a droplet written by the offline author', () => {
  let dir: string;
  let server: ChildProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'offline-droplet-'));
    const author = new OfflineAuthor();
    const foundation = await loadFoundationFiles();
    const droplet = { dropletId: 13, name: 'analytics-engine' };
    const signal = new AbortController().signal;
    const spec = await author.writeSpec({ intent: INTENT, droplet, foundation }, { signal });
    const changes = await author.writeCode({ intent: INTENT, droplet, spec: spec.markdown, foundation }, { signal });
    const files = [{ path: 'docs/SPEC.md', content: spec.markdown }, ...changes.flatMap((c) => (c.kind === 'write' ? [c] : []))];
    for (const file of files) {
      await mkdir(dirname(join(dir, file.path)), { recursive: true });
      await writeFile(join(dir, file.path), file.content);
    }
  });

  afterAll(async () => {
    if (server?.pid !== undefined && isAlive(server.pid)) server.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('installs from the npm cache and passes its own tests', async () => {
    const install = await runToEnd('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], dir);
    expect(install.code, install.output).toBe(0);
    const tests = await runToEnd('npm', ['test'], dir);
    expect(tests.code, tests.output).toBe(0);
    expect(tests.output).toMatch(/^# fail 0$/m);
    const passed = Number(/^# pass (\d+)$/m.exec(tests.output)?.[1]);
    expect(passed).toBeGreaterThanOrEqual(30);
    console.info(`offline droplet: npm install ${install.durationMs} ms, npm test ${tests.durationMs} ms (${passed} tests)`);
  }, 180_000);

  it('starts, guards its endpoints with the token, and stops on SIGTERM', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, ['src/server.js'], {
      cwd: dir,
      env: dropletEnv({ SERVICE_PORT: String(port), API_TOKEN: TOKEN, LOG_LEVEL: 'warn' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server = child;
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );

    const health = await waitForHealth(base, child, () => output);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'healthy', version: '1.0.0' });

    const refused = await fetch(`${base}/capabilities`);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: 'UNAUTHORIZED', details: {} } });

    const capabilities = await fetch(`${base}/capabilities`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(capabilities.status).toBe(200);
    const body = (await capabilities.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      service_name: 'analytics-engine',
      droplet_id: 13,
      authentication: { type: 'bearer', env: 'API_TOKEN' },
    });
    expect(body.integration_endpoints).toHaveLength(12);
    expect(output).not.toContain(TOKEN);

    const pid = child.pid!;
    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(isAlive(pid)).toBe(false);
  }, 60_000);
});
