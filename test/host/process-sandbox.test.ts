import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutputCapture } from '../../src/sandbox/output-capture.js';
import {
  HOST_VARIABLES_PASSED_THROUGH,
  isProcessAlive,
  isProcessGroupAlive,
  ProcessSandbox,
} from '../../src/sandbox/process-sandbox.js';

let root: string;
let sandbox: ProcessSandbox;
const CANARY = 'SANDBOX_TEST_CANARY_SECRET';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sandbox-test-'));
  // The executor's own environment is offered whole: only the allowlist may get through.
  sandbox = new ProcessSandbox({
    baseEnv: process.env,
    homeDir: join(root, 'home'),
    npmCacheDir: join(root, 'npm-cache'),
    killGraceMs: 300,
  });
});

afterAll(async () => {
  delete process.env[CANARY];
  await rm(root, { recursive: true, force: true });
});

async function waitFor<T>(read: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function readPidFile(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return /^\d+\n/.test(text) ? Number(text.trim()) : undefined;
}

const run = (command: string, args: string[], extra: { timeoutMs?: number; outputLimitBytes?: number; signal?: AbortSignal } = {}) =>
  sandbox.run({ command, args, cwd: root, timeoutMs: extra.timeoutMs ?? 30_000, ...extra });

describe('ProcessSandbox.run', () => {
  it('reports exit codes and combines stdout and stderr', async () => {
    const ok = await run('sh', ['-c', 'echo to-stdout; echo to-stderr >&2']);
    expect(ok.exitCode).toBe(0);
    expect(ok.signal).toBeNull();
    expect(ok.output).toContain('to-stdout');
    expect(ok.output).toContain('to-stderr');
    expect(ok.timedOut).toBe(false);
    expect(ok.aborted).toBe(false);

    const failed = await run('sh', ['-c', 'exit 7']);
    expect(failed.exitCode).toBe(7);
  });

  it('builds the environment from an allowlist: the executor env does not leak', async () => {
    process.env[CANARY] = 'do-not-leak';
    const result = await sandbox.run({
      command: 'node',
      args: ['-e', 'process.stdout.write(JSON.stringify(process.env))'],
      cwd: root,
      env: { SERVICE_NAME: 'probe' },
      timeoutMs: 30_000,
    });
    expect(result.exitCode).toBe(0);
    const env = JSON.parse(result.output) as Record<string, string>;
    expect(env[CANARY]).toBeUndefined();
    expect(result.output).not.toContain('do-not-leak');
    expect(env).toMatchObject({
      LANG: 'C.UTF-8',
      TZ: 'UTC',
      npm_config_cache: join(root, 'npm-cache'),
      npm_config_update_notifier: 'false',
      CI: 'true',
      SERVICE_NAME: 'probe',
    });
    // HOME is a fresh directory per run under the sandbox home, gone afterwards.
    expect(env.HOME!.startsWith(join(root, 'home', 'run-'))).toBe(true);
    expect(existsSync(env.HOME!)).toBe(false);
    const fixed = ['LANG', 'TZ', 'HOME', 'CI', 'SERVICE_NAME', 'npm_config_cache', 'npm_config_update_notifier', 'npm_config_fund', 'npm_config_audit'];
    const allowed = new Set<string>([...HOST_VARIABLES_PASSED_THROUGH, ...fixed]);
    // Node itself may add nothing but what it was given; anything else came from the host.
    expect(Object.keys(env).filter((name) => !allowed.has(name))).toEqual([]);
  });

  it('hands proxy and registry settings, which may hold credentials, only to commands that use the network', async () => {
    const proxied = new ProcessSandbox({
      baseEnv: { PATH: process.env.PATH, HTTPS_PROXY: 'http://user:proxy-pass@127.0.0.1:3128', npm_config_registry: 'https://registry.example/' },
      homeDir: join(root, 'home'),
      npmCacheDir: join(root, 'npm-cache'),
    });
    const envOf = async (network: boolean) =>
      JSON.parse((await proxied.run({ command: 'node', args: ['-e', 'process.stdout.write(JSON.stringify(process.env))'], cwd: root, timeoutMs: 30_000, network })).output) as Record<string, string>;
    expect(await envOf(true)).toMatchObject({ HTTPS_PROXY: 'http://user:proxy-pass@127.0.0.1:3128', npm_config_registry: 'https://registry.example/' });
    const offline = await envOf(false);
    expect(offline.HTTPS_PROXY).toBeUndefined();
    expect(offline.npm_config_registry).toBeUndefined();
    expect(offline.PATH).toBe(process.env.PATH);
  });

  it('kills the whole process tree, grandchild included, when the time is up', async () => {
    const pidFile = join(root, 'grandchild.pid');
    // node → sh → sleep; the sh ignores SIGTERM so SIGKILL escalation is exercised too.
    const script = `require('node:child_process').spawn('sh', ['-c', "trap '' TERM; sleep 9999 & echo $! > ${pidFile}; wait"], { stdio: 'inherit' }); setInterval(() => {}, 1000);`;
    const pending = run('node', ['-e', script], { timeoutMs: 1_500 });
    const grandchild = await waitFor(() => readPidFile(pidFile));
    expect(isProcessAlive(grandchild)).toBe(true);
    const result = await pending;
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeNull();
    expect(isProcessAlive(grandchild)).toBe(false);
  });

  it('leaves no background job behind after the main process exits', async () => {
    const result = await run('sh', ['-c', 'sleep 9999 & echo "started $!"']);
    expect(result.exitCode).toBe(0);
    const match = /started (\d+)/.exec(result.output);
    expect(match).not.toBeNull();
    const backgroundPid = Number(match![1]);
    // A background job of a non-interactive sh stays in the group led by the sh.
    expect(isProcessAlive(backgroundPid)).toBe(false);
    expect(isProcessGroupAlive(backgroundPid)).toBe(false);
  });

  it('caps the output keeping head and tail, and keeps draining so the child completes', async () => {
    // Several pipe-fulls: a reader that stopped reading would leave the child blocked forever.
    const script = "process.stdout.write('HEAD' + 'a'.repeat(300000)); process.stdout.write('b'.repeat(300000)); process.stdout.write('TAIL-DONE')";
    const result = await run('node', ['-e', script], { outputLimitBytes: 10_000 });
    expect(result.exitCode).toBe(0);
    expect(result.truncated).toBe(true);
    expect(result.output.startsWith('HEAD')).toBe(true);
    expect(result.output.endsWith('TAIL-DONE')).toBe(true);
    const marker = /\[\.\.\. (\d+) bytes truncated \.\.\.\]/.exec(result.output);
    expect(Number(marker?.[1])).toBe(600_013 - 10_000);
    expect(result.output.length).toBeLessThan(10_100);
  });

  it('kills at once when aborted during a run', async () => {
    const pidFile = join(root, 'aborted.pid');
    const controller = new AbortController();
    const pending = run('sh', ['-c', `trap '' TERM; echo $$ > ${pidFile}; sleep 9999`], { timeoutMs: 600_000, signal: controller.signal });
    const pid = await waitFor(() => readPidFile(pidFile));
    controller.abort();
    const result = await pending;
    expect(result.aborted).toBe(true);
    expect(result.timedOut).toBe(false);
    expect(result.signal).toBe('SIGKILL');
    expect(isProcessGroupAlive(pid)).toBe(false);
  });

  it('does not start a command whose signal has already fired', async () => {
    const pidFile = join(root, 'never.pid');
    const result = await run('sh', ['-c', `echo $$ > ${pidFile}`], { signal: AbortSignal.abort() });
    expect(result.aborted).toBe(true);
    expect(result.exitCode).toBeNull();
    expect(await readPidFile(pidFile)).toBeUndefined();
  });

  it('reports a command that cannot be started', async () => {
    const result = await run('no-such-command-for-the-sandbox-test', []);
    expect(result.exitCode).toBeNull();
    expect(result.output).toContain('could not start no-such-command-for-the-sandbox-test');
  });
});

describe('ProcessSandbox.start', () => {
  it('stop() kills the whole group and waits until it is gone', async () => {
    const proc = sandbox.start({ command: 'sh', args: ['-c', 'sleep 9999 & echo "ready $!"; wait'], cwd: root });
    const background = await waitFor(() => /ready (\d+)/.exec(proc.output())?.[1]);
    expect(isProcessGroupAlive(proc.pid)).toBe(true);
    const result = await proc.stop();
    expect(result.signal).toBe('SIGTERM');
    expect(result.output).toContain('ready');
    expect(isProcessGroupAlive(proc.pid)).toBe(false);
    expect(isProcessAlive(Number(background))).toBe(false);
    expect(await proc.exited).toBe(result);
  });
});

describe('OutputCapture', () => {
  it('keeps everything under the limit and marks what it drops beyond it', () => {
    const small = new OutputCapture(10);
    small.append(Buffer.from('0123456789'));
    expect(small.text()).toBe('0123456789');
    expect(small.truncated).toBe(false);

    const big = new OutputCapture(10);
    for (const chunk of ['01234', '56789', 'abcde', 'fghij']) big.append(Buffer.from(chunk));
    expect(big.truncated).toBe(true);
    expect(big.text()).toBe('01234\n[... 10 bytes truncated ...]\nfghij');
  });
});
