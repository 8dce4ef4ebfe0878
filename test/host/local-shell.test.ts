/**
 * LocalShell on this machine, as root: argv reaches the program without a shell, the
 * environment is built from scratch (none of the executor's own variables), `asRunner`
 * really runs as the runner's uid/gid with no supplementary groups, and a timeout or an
 * abort kills the whole process group.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalShell } from '../../src/deploy/shell/local-shell.js';
import { ShellError } from '../../src/deploy/shell/types.js';
import { eventually, processesRunning } from '../support/processes.js';

const NOBODY = { user: 'nobody', uid: 65534, gid: 65534 };

function statusField(status: string, field: string): string {
  const line = status.split('\n').find((entry) => entry.startsWith(`${field}:`));
  return (line ?? '').slice(field.length + 1).trim();
}

describe('LocalShell', () => {
  const shell = new LocalShell({ runAs: NOBODY });
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'local-shell-'));
    chmodSync(dir, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is labelled local and answers on loopback', () => {
    expect(shell.label).toBe('local');
    expect(shell.address).toBe('127.0.0.1');
  });

  it('passes argv to the program verbatim, without a shell', async () => {
    const args = ['$(id)', '`id`', 'a b', "it's", 'two\nlines', '*', '; echo injected', ''];
    const result = await shell.exec(['printf', '[%s]\\n', ...args]);
    expect(result).toEqual({ code: 0, stdout: args.map((arg) => `[${arg}]\n`).join(''), stderr: '' });
  });

  it('sends stdin, then closes it', async () => {
    const result = await shell.exec(['cat'], { stdin: 'first line\nsecond $(line)\n' });
    expect(result.stdout).toBe('first line\nsecond $(line)\n');
  });

  it('gives a command without stdin an empty one (it does not wait for input)', async () => {
    expect((await shell.exec(['cat'])).stdout).toBe('');
  });

  it('returns a non-zero exit with both streams instead of throwing', async () => {
    const result = await shell.exec(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(result).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('reports a program that does not exist as a shell would (127)', async () => {
    const result = await shell.exec(['/nonexistent/program', 'x']);
    expect(result.code).toBe(127);
    expect(result.stderr).toContain('/nonexistent/program');
  });

  it('reports a command ended by a signal as 128 + its number', async () => {
    expect((await shell.exec(['sh', '-c', 'kill -TERM $$'])).code).toBe(143);
  });

  it('builds the environment from scratch: none of the executor’s variables reach the command', async () => {
    process.env.LOCAL_SHELL_CANARY = 'canary-4f1e2d';
    try {
      const { stdout } = await shell.exec(['env']);
      const env = Object.fromEntries(stdout.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
      expect(Object.keys(env).sort()).toEqual(['HOME', 'LANG', 'PATH']);
      expect(env.LANG).toBe('C.UTF-8');
      expect(env.HOME).toBe('/root');
      expect(env.PATH?.split(':')).toContain('/usr/bin');
      expect(stdout).not.toContain('canary-4f1e2d');
    } finally {
      delete process.env.LOCAL_SHELL_CANARY;
    }
  });

  it('runs as its own user unless asked for the runner', async () => {
    expect((await shell.exec(['id', '-u'])).stdout.trim()).toBe(String(process.getuid?.()));
    expect(await new LocalShell().runner()).toMatchObject({ user: 'root', uid: 0, gid: 0 });
    expect(await shell.runner()).toEqual(NOBODY);
  });

  it('asRunner really runs as the runner: its uid and gid, no supplementary groups, its HOME', async () => {
    const { stdout } = await shell.exec(['cat', '/proc/self/status'], { asRunner: true });
    expect(statusField(stdout, 'Uid').split(/\s+/)).toEqual(['65534', '65534', '65534', '65534']);
    expect(statusField(stdout, 'Gid').split(/\s+/)).toEqual(['65534', '65534', '65534', '65534']);
    expect(statusField(stdout, 'Groups')).toBe('');
    const env = await shell.exec(['sh', '-c', 'echo "$HOME"; pwd'], { asRunner: true });
    // nobody's home (/nonexistent) does not exist: HOME says it, the command starts in /.
    expect(env.stdout).toBe('/nonexistent\n/\n');
  });

  it('asRunner cannot read what only root may read', async () => {
    const secret = join(dir, 'root-only');
    writeFileSync(secret, 'secret', { mode: 0o600 });
    const asRunner = await shell.exec(['cat', secret], { asRunner: true });
    expect(asRunner.code).not.toBe(0);
    expect(asRunner.stderr).toContain('Permission denied');
    expect((await shell.exec(['cat', secret])).stdout).toBe('secret');
  });

  it('kills the whole process group on a timeout and rejects with TIMEOUT', async () => {
    const run = shell.exec(['sh', '-c', 'sleep 977.1 & sleep 977.2; wait'], { timeoutMs: 500 });
    await expect(run).rejects.toMatchObject({ name: 'ShellError', code: 'TIMEOUT' });
    expect(await eventually(() => processesRunning('sleep 977.1').length === 0 && processesRunning('sleep 977.2').length === 0)).toBe(true);
  });

  it('kills the command on abort and rejects with ABORTED; an aborted signal runs nothing', async () => {
    const controller = new AbortController();
    const run = shell.exec(['sleep', '977.3'], { signal: controller.signal });
    expect(await eventually(() => processesRunning('sleep 977.3').length === 1)).toBe(true);
    controller.abort();
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
    expect(await eventually(() => processesRunning('sleep 977.3').length === 0)).toBe(true);
    const marker = join(dir, 'ran');
    await expect(shell.exec(['touch', marker], { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(ShellError);
    expect(() => readFileSync(marker)).toThrow();
  });

  it('uploads a file to an absolute path and refuses a relative one', async () => {
    const source = join(dir, 'source.txt');
    writeFileSync(source, 'release bytes\n');
    await shell.upload(source, join(dir, 'copy.txt'));
    expect(readFileSync(join(dir, 'copy.txt'), 'utf8')).toBe('release bytes\n');
    await expect(shell.upload(source, 'relative.txt')).rejects.toMatchObject({ code: 'TRANSFER_FAILED' });
    await expect(shell.upload(join(dir, 'missing'), join(dir, 'x'))).rejects.toMatchObject({ code: 'TRANSFER_FAILED' });
  });
});
