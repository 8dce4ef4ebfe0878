/**
 * The real service's log: at a terminal (a pseudo-terminal from `script`) one human line
 * per request; through a pipe one JSON line per request. Neither shows a credential.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/sandbox/ports.js';
import { tempDataDir } from '../support/executor.js';
import { spawnExecutor, type ExecutorProcess } from '../support/executor-process.js';

const TOKEN = 'terminal-api-token-4f1e9a';
const WRONG = 'wrong-query-token-77aa31';
// eslint-disable-next-line no-control-regex -- colour codes are what is stripped
const ANSI = /\u001b\[[0-9;]*m/g;

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** The service under `script`, so its stdout is a terminal; what the terminal showed, colours stripped. */
async function startAtTerminal(dataDir: string, port: number): Promise<{ baseUrl: string; screen: () => string }> {
  let screen = '';
  const child: ChildProcess = spawn('script', ['-qfec', `${JSON.stringify(process.execPath)} --import tsx src/main.ts`, '/dev/null'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info', API_TOKEN: TOKEN, SANDBOX: 'off', TERM: 'xterm' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout!.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')));
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  cleanup = async () => {
    // The whole group: `script` and the service under it.
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
    await gone;
    rmSync(dataDir, { recursive: true, force: true });
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  await expect.poll(async () => (await fetch(`${baseUrl}/health`).catch(() => null))?.status, { timeout: 60_000, interval: 200 }).toBe(200);
  return { baseUrl, screen: () => screen.replace(ANSI, '').replace(/\r/g, '') };
}

describe('the log at a terminal and through a pipe', () => {
  it('shows one human line per request at a terminal, with no credential', async () => {
    const { baseUrl, screen } = await startAtTerminal(tempDataDir(), await freePort());
    expect((await fetch(`${baseUrl}/executor/builds?limit=3`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await fetch(`${baseUrl}/executor/builds?token=${WRONG}`)).status).toBe(401);
    await expect.poll(() => screen(), { timeout: 10_000 }).toMatch(/GET \/executor\/builds\?token=\[REDACTED\] 401 /);
    const lines = screen().split('\n').filter((line) => line.includes('/executor/builds'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: GET \/executor\/builds\?limit=3 200 \d+(\.\d+)? ms \{"reqId":"[^"]+"\}$/);
    expect(lines[1]).toMatch(/INFO: GET \/executor\/builds\?token=\[REDACTED\] 401 \d+(\.\d+)? ms UNAUTHORIZED /);
    expect(screen()).not.toContain('{"level"');
    expect(screen()).not.toContain(TOKEN);
    expect(screen()).not.toContain(WRONG);
  });

  it('writes one JSON line per request through a pipe', async () => {
    const dataDir = tempDataDir();
    const service: ExecutorProcess = await spawnExecutor({ dataDir, port: await freePort(), env: { API_TOKEN: TOKEN, SANDBOX: 'off' } });
    cleanup = async () => {
      await service.stop();
      rmSync(dataDir, { recursive: true, force: true });
    };
    expect((await fetch(`${service.baseUrl}/executor/builds?token=${WRONG}`)).status).toBe(401);
    const requestLines = () =>
      service
        .output()
        .split('\n')
        .filter((line) => line.includes('"msg":"request"'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((entry) => String(entry.url).startsWith('/executor/builds'));
    await expect.poll(() => requestLines().length, { timeout: 10_000 }).toBe(1);
    expect(requestLines()[0]).toMatchObject({ method: 'GET', url: '/executor/builds?token=[REDACTED]', status_code: 401, error_code: 'UNAUTHORIZED', reqId: expect.any(String) });
    const lines = service.output().split('\n').filter((line) => line.trim() !== '');
    for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
    expect(lines.some((line) => line.includes('incoming request') || line.includes('request completed'))).toBe(false);
    expect(service.output()).not.toContain(WRONG);
  });
});
