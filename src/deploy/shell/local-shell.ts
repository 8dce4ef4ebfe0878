/**
 * The executor's own host as a HostShell: child processes without a shell, in an
 * environment built from scratch (nothing of the executor's own environment, where its
 * tokens and keys live, reaches a command), each in its own process group so a timeout
 * or an abort kills everything the command started in it.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { copyFile, readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, isAbsolute } from 'node:path';
import { exitCode, OutputCollector } from './output.js';
import { DEFAULT_EXEC_TIMEOUT_MS, type ExecOptions, type ExecResult, type HostShell, type HostUser, ShellError } from './types.js';

export interface LocalShellOptions {
  /** Who `asRunner` commands run as (spawned with its uid/gid, supplementary groups cleared). */
  runAs?: HostUser;
  /** Host name for public URLs; default 127.0.0.1. */
  address?: string;
}

const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** PATH for commands: the executor's own node first (the same runtime on every spawn), then the system's. */
function commandPath(): string {
  return [...new Set([dirname(process.execPath), ...SYSTEM_PATH])].join(':');
}

interface Home {
  /** HOME: the uid's home directory from /etc/passwd (which may not exist, as for a system user). */
  home: string;
  /** Where its commands start: that home, or / when it does not exist. */
  cwd: string;
}

async function homeOf(uid: number): Promise<Home> {
  let home: string | undefined;
  try {
    const passwd = await readFile('/etc/passwd', 'utf8');
    home = passwd
      .split('\n')
      .map((line) => line.split(':'))
      .find((fields) => fields[2] === String(uid))?.[5];
  } catch {
    // no passwd file: no home
  }
  if (!home) return { home: '/', cwd: '/' };
  return { home, cwd: existsSync(home) && statSync(home).isDirectory() ? home : '/' };
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is already gone
  }
}

interface SpawnPlan {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  identity: HostUser | undefined;
  options: ExecOptions;
}

function runChild(plan: SpawnPlan): Promise<ExecResult> {
  const { argv, options } = plan;
  const timeoutMs = options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), {
      env: plan.env,
      cwd: plan.cwd,
      detached: true, // its own process group, killed as one
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(plan.identity ? { uid: plan.identity.uid, gid: plan.identity.gid } : {}),
    });
    const stdout = new OutputCollector();
    const stderr = new OutputCollector();
    let failure: ShellError | null = null;
    const stop = (error: ShellError): void => {
      if (failure) return;
      failure = error;
      killGroup(child.pid);
      // A grandchild holding the pipes open must not keep the caller waiting.
      child.stdout?.destroy();
      child.stderr?.destroy();
      if (child.exitCode !== null || child.signalCode !== null) finish();
    };
    const timer = setTimeout(() => stop(new ShellError(`\`${argv[0]}\` timed out after ${timeoutMs} ms and was killed.`, 'TIMEOUT')), timeoutMs);
    const onAbort = (): void => stop(new ShellError(`\`${argv[0]}\` was aborted and killed.`, 'ABORTED'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    const finish = (result?: ExecResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (failure) reject(failure);
      else resolve(result as ExecResult);
    };
    child.stdout?.on('data', (chunk: Buffer) => stdout.add(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.add(chunk));
    child.on('exit', () => {
      if (failure) finish();
    });
    child.on('close', (code, signal) => finish({ code: exitCode(code, signal), stdout: stdout.text(), stderr: stderr.text() }));
    child.on('error', (error: NodeJS.ErrnoException) => {
      // A program that cannot be started reads as a shell would report it: 127 not found, 126 not executable.
      const code = error.code === 'ENOENT' ? 127 : 126;
      finish({ code, stdout: '', stderr: `${argv[0]}: ${error.message}\n` });
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // a command that exits without reading its stdin is not an error
      child.stdin.end(options.stdin);
    }
  });
}

export class LocalShell implements HostShell {
  readonly label = 'local';
  readonly address: string;
  private readonly runAs: HostUser | undefined;
  private readonly homes = new Map<number, Promise<Home>>();

  constructor(options: LocalShellOptions = {}) {
    this.runAs = options.runAs;
    this.address = options.address ?? '127.0.0.1';
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0 || !argv[0]) throw new Error('A command needs at least a program name.');
    if (options.signal?.aborted) throw new ShellError(`\`${argv[0]}\` was aborted before it started.`, 'ABORTED');
    const identity = options.asRunner ? this.runAs : undefined;
    const { home, cwd } = await this.home(identity?.uid ?? process.getuid?.() ?? 0);
    const env = { PATH: commandPath(), LANG: 'C.UTF-8', HOME: home };
    return runChild({ argv, env, cwd, identity, options });
  }

  async upload(localPath: string, remotePath: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (!isAbsolute(remotePath)) throw new ShellError(`Upload target ${remotePath} is not an absolute path.`, 'TRANSFER_FAILED');
    if (options.signal?.aborted) throw new ShellError(`Upload of ${remotePath} was aborted.`, 'ABORTED');
    try {
      await copyFile(localPath, remotePath);
    } catch (cause) {
      throw new ShellError(`Could not copy ${localPath} to ${remotePath}: ${(cause as Error).message}`, 'TRANSFER_FAILED', { cause });
    }
  }

  async runner(): Promise<HostUser> {
    if (this.runAs) return { ...this.runAs };
    const self = userInfo();
    return { user: self.username, uid: self.uid, gid: self.gid };
  }

  async close(): Promise<void> {}

  private home(uid: number): Promise<Home> {
    let home = this.homes.get(uid);
    if (!home) {
      home = homeOf(uid);
      this.homes.set(uid, home);
    }
    return home;
  }
}
