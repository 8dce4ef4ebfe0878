/**
 * SshShell against a REAL OpenSSH server on loopback (test/support/sshd.ts): commands
 * arrive verbatim, stdin, exits, timeouts that kill the remote command, SFTP uploads,
 * reconnection, and host key pinning — a mismatched key refused before authentication,
 * proven from the server's own VERBOSE log.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HostKeyPolicy } from '../../src/deploy/shell/host-keys.js';
import { SshShell, type SshShellOptions } from '../../src/deploy/shell/ssh-shell.js';
import { eventually, processesRunning } from '../support/processes.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

/** A real fingerprint of some other ed25519 key (made with ssh-keygen). */
const OTHER_FINGERPRINT = 'SHA256:xG6tCfIY9IabiFXwmwZEwaAb2VWHEh01Ilql/xMvNQs';
const OTHER_KEY_LINE_TAIL = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMSIqNJnJlshsPkNW1zZHqrowOZG9cetW1iOV9rPok1r';

let sshd: TestSshd;
let work: string;
const shells: SshShell[] = [];

function shellFor(server: TestSshd, hostKey: HostKeyPolicy, extra: Partial<SshShellOptions> = {}): SshShell {
  const shell = new SshShell({ host: server.host, port: server.port, user: server.user, privateKeyPath: server.keyPath, hostKey, ...extra });
  shells.push(shell);
  return shell;
}

function pinned(server: TestSshd = sshd): SshShell {
  return shellFor(server, { fingerprint: server.hostKeyFingerprint });
}

/** The log lines sshd wrote for one client connection (by its source port), once it ended. */
async function connectionLog(server: TestSshd, offset: number): Promise<{ port: string; lines: string[] }> {
  let port = '';
  let lines: string[] = [];
  const ended = await eventually(() => {
    const delta = server.readLog().slice(offset);
    port = /Connection from 127\.0\.0\.1 port (\d+)/.exec(delta)?.[1] ?? '';
    lines = delta.split('\n').filter((line) => port !== '' && line.includes(`port ${port}`));
    // sshd's last line for a connection; "Received disconnect" comes before it, so waiting for that raced.
    return lines.some((line) => /closed|Disconnected from/i.test(line));
  });
  expect(ended, server.readLog().slice(offset)).toBe(true);
  return { port, lines };
}

function localId(flag: string, user: string): number {
  return Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
}

beforeAll(async () => {
  sshd = await startSshd();
  work = mkdtempSync(join(tmpdir(), 'ssh-shell-test-'));
});

afterEach(async () => {
  await Promise.all(shells.splice(0).map((shell) => shell.close()));
});

afterAll(async () => {
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('SshShell: commands', () => {
  it('is labelled user@host:port and addressed by its host', () => {
    const shell = pinned();
    expect(shell.label).toBe(`executor-test@127.0.0.1:${sshd.port}`);
    expect(shell.address).toBe('127.0.0.1');
  });

  it('runs as the SSH user in its home', async () => {
    const result = await pinned().exec(['sh', '-c', 'id -un; pwd']);
    expect(result).toEqual({ code: 0, stdout: 'executor-test\n/home/executor-test\n', stderr: '' });
  });

  it('delivers argv verbatim through the remote shell: nothing is expanded', async () => {
    const args = ['$(id)', '`id`', '$HOME', 'a b', "it's", '"quoted"', 'two\nlines', '*', '; echo injected', '\\', 'A=b', ''];
    const result = await pinned().exec(['printf', '[%s]\\n', ...args]);
    expect(result).toEqual({ code: 0, stdout: args.map((arg) => `[${arg}]\n`).join(''), stderr: '' });
    expect(result.stdout).not.toContain('uid=');
  });

  it('sends stdin, then closes it; without stdin the command reads end of file', async () => {
    const shell = pinned();
    expect((await shell.exec(['cat'], { stdin: 'line one\n$(not expanded)\n' })).stdout).toBe('line one\n$(not expanded)\n');
    expect((await shell.exec(['cat'])).stdout).toBe('');
  });

  it('returns a non-zero exit with both streams instead of throwing', async () => {
    const shell = pinned();
    expect(await shell.exec(['sh', '-c', 'echo out; echo err >&2; exit 3'])).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    const missing = await shell.exec(['/nonexistent/program']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('/nonexistent/program');
  });

  it('kills the remote command and everything it started on a timeout, and rejects with TIMEOUT', async () => {
    const run = pinned().exec(['sh', '-c', 'sleep 978.1 & sleep 978.2; wait'], { timeoutMs: 1_500 });
    expect(await eventually(() => processesRunning('sleep 978.1').length > 0 && processesRunning('sleep 978.2').length > 0)).toBe(true);
    await expect(run).rejects.toMatchObject({ name: 'ShellError', code: 'TIMEOUT' });
    expect(await eventually(() => processesRunning('sleep 978.1').length === 0 && processesRunning('sleep 978.2').length === 0)).toBe(true);
  });

  it('kills the remote command on abort and rejects with ABORTED', async () => {
    const controller = new AbortController();
    const shell = pinned();
    const run = shell.exec(['sleep', '978.3'], { signal: controller.signal });
    expect(await eventually(() => processesRunning('sleep 978.3').length > 0)).toBe(true);
    controller.abort();
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
    expect(await eventually(() => processesRunning('sleep 978.3').length === 0)).toBe(true);
    await expect(shell.exec(['true'], { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('uploads a file over SFTP, byte for byte, and refuses a relative target', async () => {
    const shell = pinned();
    const bytes = randomBytes(300_000);
    const source = join(work, 'release.tar');
    writeFileSync(source, bytes);
    const target = `/home/executor-test/upload-${randomBytes(4).toString('hex')}.tar`;
    await shell.upload(source, target);
    const digest = await shell.exec(['sha256sum', target]);
    expect(digest.stdout.split(' ')[0]).toBe(createHash('sha256').update(bytes).digest('hex'));
    await shell.exec(['rm', '-f', target]);
    await expect(shell.upload(source, 'relative.tar')).rejects.toMatchObject({ code: 'TRANSFER_FAILED' });
    await expect(shell.upload(source, '/nonexistent-dir/x.tar')).rejects.toMatchObject({ code: 'TRANSFER_FAILED' });
  });

  it('runs many commands at once on one connection (more than sshd’s 10 sessions)', async () => {
    const shell = pinned();
    const results = await Promise.all(Array.from({ length: 48 }, (_, index) => shell.exec(['echo', String(index)])));
    expect(results.map((result) => result.stdout)).toEqual(Array.from({ length: 48 }, (_, index) => `${index}\n`));
  });

  it('reconnects after the connection dropped and after sshd restarted', async () => {
    const shell = pinned();
    expect((await shell.exec(['echo', 'before'])).stdout).toBe('before\n');
    await sshd.dropConnections();
    expect((await shell.exec(['echo', 'after drop'])).stdout).toBe('after drop\n');
    await sshd.restart();
    expect((await shell.exec(['echo', 'after restart'])).stdout).toBe('after restart\n');
  });

  it('runner() is the SSH user as the host knows it, or the named runner', async () => {
    expect(await pinned().runner()).toEqual({ user: 'executor-test', uid: localId('-u', 'executor-test'), gid: localId('-g', 'executor-test') });
    expect(await shellFor(sshd, { fingerprint: sshd.hostKeyFingerprint }, { runAs: 'nobody' }).runner()).toEqual({ user: 'nobody', uid: 65534, gid: 65534 });
    await expect(shellFor(sshd, { fingerprint: sshd.hostKeyFingerprint }, { runAs: 'no-such-user-x' }).runner()).rejects.toThrow(/not known/);
  });

  it('asRunner goes through `sudo -n -u <runner> --` when the runner is not the SSH user', async () => {
    const shell = shellFor(sshd, { fingerprint: sshd.hostKeyFingerprint }, { runAs: 'nobody' });
    expect((await shell.exec(['id', '-un'])).stdout).toBe('executor-test\n');
    // This machine has no sudo: the prefix shows in the remote shell's complaint.
    const hasSudo = (await shell.exec(['sh', '-c', 'command -v sudo'])).code === 0;
    const asRunner = await shell.exec(['id', '-un'], { asRunner: true });
    if (hasSudo) expect(asRunner.stdout === 'nobody\n' || /sudo/.test(asRunner.stderr)).toBe(true);
    else expect(asRunner).toMatchObject({ code: 127, stderr: expect.stringContaining('sudo') });
    expect((await pinned().exec(['id', '-un'], { asRunner: true })).stdout).toBe('executor-test\n');
  });

  it('serves a second user on the same sshd (two "hosts")', async () => {
    const second = await sshd.authorize('executor-test2');
    const shell = shellFor(sshd, { fingerprint: sshd.hostKeyFingerprint }, { user: second.user, privateKeyPath: second.keyPath });
    expect((await shell.exec(['id', '-un'])).stdout).toBe('executor-test2\n');
    expect(shell.label).toBe(`executor-test2@127.0.0.1:${sshd.port}`);
  });

  it('names an unauthorized key AUTH_FAILED and an unreachable host CONNECT_FAILED', async () => {
    const strangerKey = join(work, 'stranger');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', strangerKey]);
    await expect(shellFor(sshd, { fingerprint: sshd.hostKeyFingerprint }, { privateKeyPath: strangerKey }).exec(['true'])).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await expect(shellFor(sshd, { fingerprint: sshd.hostKeyFingerprint }, { privateKeyPath: join(work, 'missing-key') }).exec(['true'])).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    const closed = shellFor(sshd, { fingerprint: sshd.hostKeyFingerprint }, { port: 1 });
    await expect(closed.exec(['true'])).rejects.toMatchObject({ code: 'CONNECT_FAILED' });
  });
});

describe('SshShell: host keys', () => {
  it('accepts the host pinned by its fingerprint, and the server sees the client authenticate', async () => {
    const offset = sshd.readLog().length;
    expect((await pinned().exec(['echo', 'ok'])).stdout).toBe('ok\n');
    const log = sshd.readLog().slice(offset);
    expect(log).toContain('Accepted publickey for executor-test');
    expect(log).toContain(sshd.keyFingerprint);
  });

  it('accepts the host pinned by a plain known_hosts entry', async () => {
    const file = join(work, 'known_hosts_plain');
    writeFileSync(file, `# pinned\n${sshd.knownHostsLine}\n`);
    expect((await shellFor(sshd, { knownHostsFile: file }).exec(['echo', 'ok'])).stdout).toBe('ok\n');
  });

  it('accepts the host pinned by a hashed known_hosts entry (ssh-keygen -H)', async () => {
    const file = join(work, 'known_hosts_hashed');
    writeFileSync(file, `${sshd.knownHostsLine}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    expect(readFileSync(file, 'utf8')).toMatch(/^\|1\|/);
    expect(readFileSync(file, 'utf8')).not.toContain('127.0.0.1');
    expect((await shellFor(sshd, { knownHostsFile: file }).exec(['echo', 'ok'])).stdout).toBe('ok\n');
  });

  it('refuses a mismatched fingerprint with HOST_KEY_MISMATCH before authentication: the server saw no key at all', async () => {
    const offset = sshd.readLog().length;
    const refused = pinned();
    const attempt = shellFor(sshd, { fingerprint: OTHER_FINGERPRINT }).exec(['touch', '/home/executor-test/should-not-exist']);
    await expect(attempt).rejects.toMatchObject({ name: 'ShellError', code: 'HOST_KEY_MISMATCH' });
    await expect(attempt).rejects.toThrow(sshd.hostKeyFingerprint);
    const { port, lines } = await connectionLog(sshd, offset);
    const all = lines.join('\n');
    // The server saw the connection end in the key exchange, before any user or key.
    expect(all).toContain(`Disconnected from 127.0.0.1 port ${port} [preauth]`);
    expect(all).not.toMatch(/Accepted publickey|Failed publickey|Postponed publickey|Accepted key/);
    expect(all).not.toContain(sshd.keyFingerprint);
    expect(all).not.toContain('for executor-test');
    expect(sshd.readLog().slice(offset)).not.toContain(sshd.keyFingerprint);
    expect((await refused.exec(['test', '-e', '/home/executor-test/should-not-exist'])).code).toBe(1);
  });

  it('refuses a known_hosts entry holding another key for the host, before authentication', async () => {
    const file = join(work, 'known_hosts_other');
    writeFileSync(file, `[127.0.0.1]:${sshd.port} ${OTHER_KEY_LINE_TAIL}\n`);
    const offset = sshd.readLog().length;
    await expect(shellFor(sshd, { knownHostsFile: file, acceptNew: true }).exec(['true'])).rejects.toMatchObject({ code: 'HOST_KEY_MISMATCH' });
    const { lines } = await connectionLog(sshd, offset);
    expect(lines.join('\n')).not.toMatch(/publickey|Accepted key/);
    expect(readFileSync(file, 'utf8')).toBe(`[127.0.0.1]:${sshd.port} ${OTHER_KEY_LINE_TAIL}\n`);
  });

  it('refuses a host with no pin as HOST_KEY_UNKNOWN, before authentication', async () => {
    const offset = sshd.readLog().length;
    await expect(shellFor(sshd, {}).exec(['true'])).rejects.toMatchObject({ code: 'HOST_KEY_UNKNOWN' });
    await expect(shellFor(sshd, { knownHostsFile: join(work, 'absent_known_hosts') }).exec(['true'])).rejects.toMatchObject({ code: 'HOST_KEY_UNKNOWN' });
    const { lines } = await connectionLog(sshd, offset);
    expect(lines.join('\n')).not.toMatch(/publickey|Accepted key/);
  });

  it('a server started with the same host key is the same host to a pin', async () => {
    const twin = await startSshd({ hostKeyPath: sshd.hostKeyPath });
    try {
      expect(twin.hostKeyFingerprint).toBe(sshd.hostKeyFingerprint);
      expect((await shellFor(twin, { fingerprint: sshd.hostKeyFingerprint }).exec(['echo', 'twin'])).stdout).toBe('twin\n');
    } finally {
      await twin.stop();
    }
  });

  it('accept-new records the key on first use, then pins it: another key on the same host:port is refused', async () => {
    const first = await startSshd();
    const file = join(work, 'known_hosts_accept_new');
    try {
      const policy = { knownHostsFile: file, acceptNew: true };
      expect((await shellFor(first, policy).exec(['echo', 'first use'])).stdout).toBe('first use\n');
      expect(readFileSync(file, 'utf8')).toBe(`${first.knownHostsLine}\n`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect((await shellFor(first, policy).exec(['echo', 'pinned'])).stdout).toBe('pinned\n');
      expect(readFileSync(file, 'utf8')).toBe(`${first.knownHostsLine}\n`);
    } finally {
      await first.stop();
    }
    const impostor = await startSshd({ port: first.port });
    try {
      expect(impostor.hostKeyFingerprint).not.toBe(first.hostKeyFingerprint);
      const offset = impostor.readLog().length;
      const attempt = shellFor(impostor, { knownHostsFile: file, acceptNew: true }).exec(['true']);
      await expect(attempt).rejects.toMatchObject({ code: 'HOST_KEY_MISMATCH' });
      const { lines } = await connectionLog(impostor, offset);
      expect(lines.join('\n')).not.toMatch(/publickey|Accepted key/);
      expect(readFileSync(file, 'utf8')).toBe(`${first.knownHostsLine}\n`);
    } finally {
      await impostor.stop();
    }
  });
});
