/**
 * The real service (src/main.ts) refuses to start reachable beyond this machine without
 * API_TOKEN; ALLOW_INSECURE_BIND=true starts it with a loud warning; a token starts it quietly.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/sandbox/ports.js';
import { type ExecutorProcess, spawnExecutor } from '../support/executor-process.js';

const dirs: string[] = [];
let running: ExecutorProcess | undefined;

afterEach(async () => {
  await running?.stop();
  running = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'start-bind-'));
  dirs.push(dir);
  return dir;
}

/** Runs src/main.ts to its exit: the code and what it wrote on stderr. */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr, stdout })));
}

describe('start-up on a reachable address', () => {
  it('refuses HOST=0.0.0.0 without API_TOKEN: exits non-zero with one line saying how to fix it', async () => {
    const { code, stderr, stdout } = await runToExit({ HOST: '0.0.0.0', PORT: String(await freePort()), DATA_DIR: dataDir() });
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Refusing to start: HOST=0\.0\.0\.0 .*Set API_TOKEN, or HOST=127\.0\.0\.1, or ALLOW_INSECURE_BIND=true/);
    expect(stdout).not.toContain('ready');
  }, 120_000);

  it('starts with ALLOW_INSECURE_BIND=true and logs a warning naming the risk', async () => {
    running = await spawnExecutor({ dataDir: dataDir(), port: await freePort(), env: { HOST: '0.0.0.0', ALLOW_INSECURE_BIND: 'true', LOG_FORMAT: 'json' } });
    const warning = running
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .find((entry) => entry.msg.startsWith('INSECURE'));
    expect(warning?.level).toBeGreaterThanOrEqual(40);
    expect(warning?.msg).toMatch(/without API_TOKEN .* anyone who can reach this port can submit builds and run code on this host/);
  }, 120_000);

  it('starts with API_TOKEN, without the warning, and keeps its API locked', async () => {
    running = await spawnExecutor({ dataDir: dataDir(), port: await freePort(), env: { HOST: '0.0.0.0', API_TOKEN: 'bind-test-token-71c2', LOG_FORMAT: 'json' } });
    expect(running.output()).not.toContain('INSECURE');
    expect((await fetch(`${running.baseUrl}/executor/builds`)).status).toBe(401);
    expect((await fetch(`${running.baseUrl}/executor/builds`, { headers: { authorization: 'Bearer bind-test-token-71c2' } })).status).toBe(200);
  }, 120_000);
});
