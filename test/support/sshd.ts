/**
 * A REAL OpenSSH server on loopback for tests: `/usr/sbin/sshd -D -e -f <own config>` on
 * a free port, with its own freshly generated ed25519 host key, public-key authentication
 * only, and a test user (created for the purpose, idempotently) whose client key pair is
 * generated here. Its VERBOSE log goes to a file the test can read, so a test can prove
 * what the server saw (an authentication attempt or none).
 *
 * Several servers (and several users per server) may run at once. The tests run as root on
 * a machine without systemd; CI installs openssh-server.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../src/sandbox/ports.js';

export const SSHD_BINARY = '/usr/sbin/sshd';
export const DEFAULT_TEST_USER = 'executor-test';

/**
 * The authorized_keys files live under a root-owned 0755 directory outside /tmp: sshd's
 * StrictModes walks every parent of the file up to `/` and refuses a group- or
 * world-writable one (/tmp and /var/tmp are 1777).
 */
const SERVERS_ROOT = '/run/executor-test-sshd';
const START_TIMEOUT_MS = 10_000;

export interface SshClientIdentity {
  user: string;
  /** The client's private key (0600), authorized for `user` on this server. */
  keyPath: string;
  /** `SHA256:…` of the client key, as sshd logs it on "Accepted publickey". */
  keyFingerprint: string;
}

export interface TestSshd extends SshClientIdentity {
  host: string;
  port: number;
  /** The sshd master process (each connection is a child of it); changes on restart. */
  readonly pid: number;
  /** `SHA256:<base64>` of the host key, as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  /** `[127.0.0.1]:<port> ssh-ed25519 <base64>`: a known_hosts line for this server. */
  knownHostsLine: string;
  /** The host's private key (pass it as `hostKeyPath` to start a server with the same identity; copied at start). */
  hostKeyPath: string;
  /** sshd's stderr (-e, LogLevel VERBOSE). */
  logFile: string;
  readLog(): string;
  /** Creates (if needed) another user and authorizes a fresh client key for it. */
  authorize(user: string): Promise<SshClientIdentity>;
  /** Stops sshd (and its connections) and starts it again: same port, same host key, same users. */
  restart(): Promise<void>;
  /** Ends every open connection (the per-connection sshd children), as a network drop would. */
  dropConnections(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartSshdOptions {
  /** The user to create and authorize (default `executor-test`). */
  user?: string;
  /** A fixed port (e.g. to restart "the same host" with another key); default a free one. */
  port?: number;
  /** Reuse this host private key (and its `.pub` beside it) instead of generating one; it is copied. */
  hostKeyPath?: string;
}

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `SHA256:…` from `ssh-keygen -lf` (the reference the shell's own computation is tested against). */
export function sshKeygenFingerprint(publicKeyPath: string): string {
  const match = /\b(SHA256:[A-Za-z0-9+/]+)/.exec(run('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicKeyPath]));
  if (!match?.[1]) throw new Error(`ssh-keygen printed no fingerprint for ${publicKeyPath}`);
  return match[1];
}

function userExists(user: string): boolean {
  try {
    run('id', ['-u', user]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates the user if missing. Parallel test files may race for it (or for the lock on
 * /etc/passwd), so a failed useradd is retried and a user that appeared meanwhile is fine.
 * The password field is set to `*`: without PAM, sshd refuses an account whose password
 * starts with `!` (useradd's default) as locked.
 */
export async function ensureTestUser(user: string): Promise<void> {
  if (!userExists(user)) await editPasswd(() => userExists(user), ['useradd', '--create-home', '--shell', '/bin/bash', user]);
  await editPasswd(() => false, ['usermod', '-p', '*', user]);
}

/** Runs useradd/usermod, retrying while another process holds the lock on /etc/passwd. */
async function editPasswd(done: () => boolean, [command, ...args]: [string, ...string[]]): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      run(command, args);
      return;
    } catch (error) {
      if (done()) return;
      if (attempt >= 30) throw error;
      await sleep(100);
    }
  }
}

function generateKey(path: string, comment: string): void {
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  chmodSync(path, 0o600);
}

function sshdConfig(dir: string, port: number, hostKeyPath: string): string {
  return [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKeyPath}`,
    'PidFile none',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin no',
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}/%u`,
    'StrictModes yes',
    'LogLevel VERBOSE',
    'Subsystem sftp internal-sftp',
    'X11Forwarding no',
    'AllowTcpForwarding no',
    'PrintMotd no',
    '',
  ].join('\n');
}

function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return children;
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() >= deadline) return false;
    await sleep(25);
  }
  return true;
}

/** Waits for "Server listening on 127.0.0.1 port N." (no probe connection to clutter the log). */
async function waitForListening(child: ChildProcess, logFile: string, port: number, offset: number): Promise<void> {
  const listening = `Server listening on 127.0.0.1 port ${port}.`;
  const ready = await waitUntil(
    () => child.exitCode !== null || child.signalCode !== null || readFileSync(logFile, 'utf8').slice(offset).includes(listening),
    START_TIMEOUT_MS,
  );
  if (ready && child.exitCode === null && child.signalCode === null) return;
  child.kill('SIGKILL');
  throw new Error(`sshd did not start on port ${port}:\n${readFileSync(logFile, 'utf8')}`);
}

async function launch(dir: string, port: number, hostKeyPath: string): Promise<{ child: ChildProcess; logFile: string }> {
  const configPath = join(dir, 'sshd_config');
  writeFileSync(configPath, sshdConfig(dir, port, hostKeyPath), { mode: 0o600 });
  const logFile = join(dir, `sshd-${port}.log`);
  const logFd = openSync(logFile, 'a', 0o600);
  const offset = readFileSync(logFile, 'utf8').length; // a restart appends to the same log
  try {
    const child = spawn(SSHD_BINARY, ['-D', '-e', '-f', configPath], { stdio: ['ignore', logFd, logFd] });
    await waitForListening(child, logFile, port, offset);
    return { child, logFile };
  } finally {
    closeSync(logFd);
  }
}

async function authorizeIn(dir: string, keysDir: string, user: string): Promise<SshClientIdentity> {
  await ensureTestUser(user);
  const keyPath = join(keysDir, `id_ed25519_${user}`);
  if (!existsSync(keyPath)) generateKey(keyPath, `${user}@executor-tests`);
  const authorizedKeys = join(dir, 'authorized_keys', user);
  writeFileSync(authorizedKeys, readFileSync(`${keyPath}.pub`), { mode: 0o644 });
  chmodSync(authorizedKeys, 0o644);
  return { user, keyPath, keyFingerprint: sshKeygenFingerprint(`${keyPath}.pub`) };
}

function serverDirectories(): { dir: string; keysDir: string } {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation directory
  mkdirSync(SERVERS_ROOT, { recursive: true, mode: 0o755 });
  chmodSync(SERVERS_ROOT, 0o755);
  const dir = mkdtempSync(join(SERVERS_ROOT, 'server-'));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'authorized_keys'), { mode: 0o755 });
  const keysDir = mkdtempSync(join(tmpdir(), 'executor-ssh-client-')); // 0700
  return { dir, keysDir };
}

async function dropConnectionsOf(pid: number): Promise<void> {
  const connections = childrenOf(pid);
  for (const connection of connections) killQuietly(connection, 'SIGTERM');
  await waitUntil(() => !childrenOf(pid).some((live) => connections.includes(live)), 5_000);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (const pid of childrenOf(child.pid)) killQuietly(pid, 'SIGTERM');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

async function launchOnFreePort(dir: string, hostKeyPath: string): Promise<{ child: ChildProcess; logFile: string; port: number }> {
  // Another process may take the port between freePort and sshd's bind: try a few.
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    try {
      return { ...(await launch(dir, port, hostKeyPath)), port };
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

function hostKeyIn(dir: string, reuse: string | undefined): string {
  const hostKeyPath = join(dir, 'ssh_host_ed25519_key');
  if (reuse === undefined) {
    generateKey(hostKeyPath, '');
  } else {
    copyFileSync(reuse, hostKeyPath);
    copyFileSync(`${reuse}.pub`, `${hostKeyPath}.pub`);
    chmodSync(hostKeyPath, 0o600);
  }
  return hostKeyPath;
}

/** Starts an sshd on 127.0.0.1 and authorizes a fresh client key for the test user. */
export async function startSshd(options: StartSshdOptions = {}): Promise<TestSshd> {
  const { dir, keysDir } = serverDirectories();
  const hostKeyPath = hostKeyIn(dir, options.hostKeyPath);
  const identity = await authorizeIn(dir, keysDir, options.user ?? DEFAULT_TEST_USER);
  const started =
    options.port === undefined ? await launchOnFreePort(dir, hostKeyPath) : { ...(await launch(dir, options.port, hostKeyPath)), port: options.port };
  const { logFile, port } = started;
  let child = started.child;
  const killOnExit = (): void => killQuietly(child.pid as number, 'SIGKILL');
  process.on('exit', killOnExit);
  const hostPublicKey = readFileSync(`${hostKeyPath}.pub`, 'utf8').trim().split(/\s+/);
  return {
    ...identity,
    host: '127.0.0.1',
    port,
    get pid() {
      return child.pid as number;
    },
    hostKeyFingerprint: sshKeygenFingerprint(`${hostKeyPath}.pub`),
    knownHostsLine: `[127.0.0.1]:${port} ${hostPublicKey[0]} ${hostPublicKey[1]}`,
    hostKeyPath,
    logFile,
    readLog: () => readFileSync(logFile, 'utf8'),
    authorize: (user) => authorizeIn(dir, keysDir, user),
    dropConnections: () => dropConnectionsOf(child.pid as number),
    restart: async () => {
      await stopProcess(child);
      child = (await launch(dir, port, hostKeyPath)).child;
    },
    stop: async () => {
      await stopProcess(child);
      process.removeListener('exit', killOnExit);
      rmSync(keysDir, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
