/**
 * Runs untrusted commands (a droplet's install, tests and server) as a plain process
 * group with an environment built from scratch. Isolation beyond that (no network,
 * read-only host) belongs to a bubblewrap variant, which overrides `wrap()`.
 */
import { mkdirSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { Sandbox, SandboxCommand, SandboxProcess, SandboxResult } from './types.js';
import { type ProcessGroupRecorder, SandboxedProcess } from './sandboxed-process.js';

export { isProcessAlive, isProcessGroupAlive } from './process-group.js';

/**
 * The only host variables a command may inherit, and only when the caller puts them in
 * `baseEnv`: the executable search path and what npm needs to reach a registry from
 * this network (mirror, proxy, CA bundle).
 */
export const HOST_VARIABLES_PASSED_THROUGH = [
  'PATH',
  'npm_config_registry',
  'npm_config_cafile',
  'NODE_EXTRA_CA_CERTS',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
] as const;

const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';
const DEFAULT_KILL_GRACE_MS = 2_000;

export interface ProcessSandboxOptions {
  /** Host variables offered to commands; only HOST_VARIABLES_PASSED_THROUGH are taken. */
  baseEnv: Readonly<Record<string, string | undefined>>;
  /** HOME of every command: a directory under the executor's data dir, never its own home. */
  homeDir: string;
  /** npm's cache, shared between builds so installs can run offline. */
  npmCacheDir: string;
  /** Between SIGTERM and SIGKILL when a command times out or is stopped. Default 2000. */
  killGraceMs?: number;
  /** Records live process groups (a ProcessLedger) so the next start can reap a crash's leftovers. */
  groups?: ProcessGroupRecorder;
}

/** The complete environment of a sandboxed command. */
export function sandboxEnvironment(
  options: Pick<ProcessSandboxOptions, 'baseEnv' | 'homeDir' | 'npmCacheDir'>,
  commandEnv: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of HOST_VARIABLES_PASSED_THROUGH) {
    const value = options.baseEnv[name];
    if (value !== undefined) env[name] = value;
  }
  return {
    ...env,
    PATH: env.PATH ?? DEFAULT_PATH,
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    HOME: options.homeDir,
    npm_config_cache: options.npmCacheDir,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    CI: 'true',
    ...commandEnv,
  };
}

/** What actually gets executed for a command: the seam an isolating sandbox wraps. */
export interface WrappedCommand {
  file: string;
  args: string[];
}

export class ProcessSandbox implements Sandbox {
  readonly kind: Sandbox['kind'] = 'process';
  protected readonly killGraceMs: number;

  constructor(protected readonly options: ProcessSandboxOptions) {
    this.killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    // npm and node write under HOME and the cache; an absent HOME makes them fall back to odd places.
    mkdirSync(options.homeDir, { recursive: true });
    mkdirSync(options.npmCacheDir, { recursive: true });
  }

  run(command: SandboxCommand): Promise<SandboxResult> {
    if (!Number.isFinite(command.timeoutMs) || command.timeoutMs <= 0) {
      throw new RangeError(`Sandbox timeoutMs must be a positive number, got ${command.timeoutMs}.`);
    }
    return this.launch(command).exited;
  }

  start(command: Omit<SandboxCommand, 'timeoutMs'> & { timeoutMs?: number }): SandboxProcess {
    return this.launch(command);
  }

  /**
   * The plain process sandbox runs the command as given. A bubblewrap sandbox returns
   * `bwrap … -- command args`, unsharing the network unless `network` is true.
   */
  protected wrap(command: string, args: readonly string[], _context: { cwd: string; network: boolean }): WrappedCommand {
    return { file: command, args: [...args] };
  }

  private launch(command: Omit<SandboxCommand, 'timeoutMs'> & { timeoutMs?: number }): SandboxedProcess {
    if (!isAbsolute(command.cwd)) throw new RangeError(`Sandbox cwd must be absolute, got "${command.cwd}".`);
    const wrapped = this.wrap(command.command, command.args, { cwd: command.cwd, network: command.network ?? false });
    return new SandboxedProcess({
      file: wrapped.file,
      args: wrapped.args,
      cwd: command.cwd,
      env: sandboxEnvironment(this.options, command.env),
      timeoutMs: command.timeoutMs,
      outputLimitBytes: command.outputLimitBytes,
      signal: command.signal,
      killGraceMs: this.killGraceMs,
      groups: this.options.groups,
    });
  }
}
