/**
 * Runs untrusted commands (a droplet's install, tests and server) as a plain process
 * group with an environment built from scratch, under the memory and process caps of a
 * ResourceLimiter. Isolation beyond that (no network, read-only host) belongs to the
 * bubblewrap variant, which overrides `wrap()`.
 */
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Sandbox, SandboxCommand, SandboxProcess, SandboxResult } from './types.js';
import type { ResourceLimiter, RunLimits } from './resource-limits.js';
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
  /** Where each command's private HOME lives (a fresh directory per run, or a tmpfs mounted here by bubblewrap); never the executor's own home. */
  homeDir: string;
  /** npm's cache, shared between builds so installs can run offline. */
  npmCacheDir: string;
  /** Between SIGTERM and SIGKILL when a command times out or is stopped. Default 2000. */
  killGraceMs?: number;
  /** Records live process groups (a ProcessLedger) so the next start can reap a crash's leftovers. */
  groups?: ProcessGroupRecorder;
  /** Memory and process caps of every command; none when absent. */
  limiter?: ResourceLimiter;
}

/** The complete environment of a sandboxed command. */
export function sandboxEnvironment(
  options: Pick<ProcessSandboxOptions, 'baseEnv' | 'homeDir' | 'npmCacheDir'>,
  commandEnv: Readonly<Record<string, string>> = {},
  network = true,
): Record<string, string> {
  const env: Record<string, string> = {};
  // Proxy and registry settings (which may carry credentials) only reach commands that use the network.
  for (const name of network ? HOST_VARIABLES_PASSED_THROUGH : (['PATH'] as const)) {
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

/** What `wrap()` knows of the command it wraps. */
export interface WrapContext {
  cwd: string;
  network: boolean;
  exposePort?: number;
  /** The dependency store entry to show as `<cwd>/node_modules`. */
  dependencies?: string;
}

/** What actually gets executed for a command: the seam an isolating sandbox wraps. */
export interface WrappedCommand {
  file: string;
  args: string[];
  /** Host port where `exposePort` answers; the port itself when absent. */
  exposedPort?: Promise<number>;
  /** Undoes what wrapping set up (a bridge, temp dirs), after the command's group is gone. */
  release?: () => Promise<void>;
}

/** A started command plus what its run holds (caps, a bridge), released once it is gone. */
class ReleasingProcess implements SandboxProcess {
  readonly exited: Promise<SandboxResult>;
  constructor(
    private readonly inner: SandboxedProcess,
    readonly exposedPort: Promise<number | null>,
    release: () => Promise<void>,
  ) {
    this.exited = inner.exited.then(async (result) => {
      await release();
      return result;
    });
    // Nobody may ask for the port (a run that ends first); its failure is reported when someone does.
    exposedPort.catch(() => undefined);
  }

  get pid(): number {
    return this.inner.pid;
  }

  output(): string {
    return this.inner.output();
  }

  async stop(): Promise<SandboxResult> {
    await this.inner.stop();
    return this.exited;
  }
}

/** In a copied `node_modules`: which store entry it was copied from. */
const COPIED_FROM = '.executor-copied-from';

/** A small regular file's text, else null (the workspace's code may have planted a link or a FIFO there). */
function readOrNull(path: string): string | null {
  try {
    const entry = lstatSync(path);
    return entry.isFile() && entry.size < 4096 ? readFileSync(path, 'utf8') : null;
  } catch {
    return null;
  }
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

  /** Which caps are in force, in words. */
  get limits(): string {
    return this.options.limiter?.description ?? 'memory and process count not limited';
  }

  /**
   * HOME for one run: a fresh directory, removed afterwards, so nothing one build
   * leaves there (an .npmrc with node-options) reaches the next. Bubblewrap mounts an
   * empty tmpfs over `homeDir` instead.
   */
  protected privateHome(): { path: string; release: () => void } {
    const path = mkdtempSync(join(this.options.homeDir, 'run-'));
    return { path, release: () => rmSync(path, { recursive: true, force: true }) };
  }

  /**
   * Puts the store entry in place as `<cwd>/node_modules` before the command runs. A plain
   * process is not isolated, so it gets a copy: a link would let its code write into the
   * entry every other droplet runs with. A bubblewrap sandbox binds the entry read-only.
   */
  protected placeDependencies(cwd: string, dependencies: string): void {
    const target = join(cwd, 'node_modules');
    const marker = join(target, COPIED_FROM);
    // One copy per workspace and entry: the tests and the contract run of an attempt share it.
    if (readOrNull(marker) === dependencies) return;
    rmSync(target, { recursive: true, force: true });
    cpSync(dependencies, target, { recursive: true, verbatimSymlinks: true });
    writeFileSync(marker, dependencies);
  }

  /**
   * The plain process sandbox runs the command as given: a port it listens on is
   * reachable as it is. A bubblewrap sandbox returns `bwrap … -- command args`.
   */
  protected wrap(command: string, args: readonly string[], _context: WrapContext): WrappedCommand {
    return { file: command, args: [...args] };
  }

  private launch(command: Omit<SandboxCommand, 'timeoutMs'> & { timeoutMs?: number }): SandboxProcess {
    if (!isAbsolute(command.cwd)) throw new RangeError(`Sandbox cwd must be absolute, got "${command.cwd}".`);
    const { exposePort } = command;
    if (exposePort !== undefined && !(Number.isInteger(exposePort) && exposePort > 0 && exposePort < 65_536)) {
      throw new RangeError(`Sandbox exposePort must be a TCP port, got ${exposePort}.`);
    }
    const limits: RunLimits = this.options.limiter?.acquire() ?? { prefix: [], release: () => Promise.resolve() };
    const home = this.privateHome();
    let wrapped: WrappedCommand;
    try {
      if (command.dependencies) this.placeDependencies(command.cwd, command.dependencies);
      wrapped = this.wrap(command.command, command.args, {
        cwd: command.cwd,
        network: command.network ?? false,
        exposePort,
        ...(command.dependencies ? { dependencies: command.dependencies } : {}),
      });
    } catch (error) {
      home.release();
      void limits.release();
      throw error;
    }
    const [file, ...args] = [...limits.prefix, wrapped.file, ...wrapped.args] as [string, ...string[]];
    const started = new SandboxedProcess({
      file,
      args,
      cwd: command.cwd,
      env: sandboxEnvironment({ ...this.options, homeDir: home.path }, command.env, command.network ?? false),
      timeoutMs: command.timeoutMs,
      outputLimitBytes: command.outputLimitBytes,
      signal: command.signal,
      killGraceMs: this.killGraceMs,
      groups: this.options.groups,
    });
    const exposedPort = exposePort === undefined ? Promise.resolve(null) : (wrapped.exposedPort ?? Promise.resolve(exposePort));
    return new ReleasingProcess(started, exposedPort, async () => {
      await wrapped.release?.();
      await limits.release();
      home.release();
    });
  }
}
