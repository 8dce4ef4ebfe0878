/** The droplet's working copy and the runner of untrusted commands. */
import type { DropletIdentity } from '../domain/build.js';
import type { FileChange, RepoFile } from '../domain/ports/author.js';

export interface SandboxCommand {
  command: string;
  args: readonly string[];
  /** Must be inside the droplet's workspace. */
  cwd: string;
  /** Added to the allowlisted base environment; never the executor's own env. */
  env?: Readonly<Record<string, string>>;
  timeoutMs: number;
  /** Combined stdout+stderr kept; beyond it a visible truncation marker. Default 1 MiB. */
  outputLimitBytes?: number;
  signal?: AbortSignal;
  /** Whether the command may use the network (only dependency installs). Default false. */
  network?: boolean;
  /**
   * A TCP port the command listens on at 127.0.0.1 that the host must reach (a droplet
   * started for its contract check). The host side is `SandboxProcess.exposedPort`.
   */
  exposePort?: number;
}

export interface SandboxResult {
  exitCode: number | null;
  /** The signal that ended it, when one did. */
  signal: string | null;
  output: string;
  truncated: boolean;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
}

/** A long-running sandboxed process (a droplet started for its contract check). */
export interface SandboxProcess {
  readonly pid: number;
  /**
   * The host port at 127.0.0.1 where `exposePort` answers: the same port for a plain
   * process, a forwarder when the command has its own network. Null without `exposePort`.
   */
  readonly exposedPort: Promise<number | null>;
  /** Output so far, capped. */
  output(): string;
  /** Resolves when the whole process group is gone. */
  readonly exited: Promise<SandboxResult>;
  /** Kills the whole process group and waits until it is gone. */
  stop(): Promise<SandboxResult>;
}

export interface Sandbox {
  /** `bubblewrap` when bwrap isolates commands, `process` for a plain process group. */
  readonly kind: 'process' | 'bubblewrap';
  run(command: SandboxCommand): Promise<SandboxResult>;
  start(command: Omit<SandboxCommand, 'timeoutMs'> & { timeoutMs?: number }): SandboxProcess;
}

export interface CommitInfo {
  sha: string;
  message: string;
}

export interface Trailers {
  /** Recorded in every commit as `Executor-Step:`. */
  step: string;
  /** Recorded as `Executor-Build:`. */
  buildId: string;
}

/** One commit of a batch: its changes, message and trailers. */
export interface CommitEntry {
  changes: readonly FileChange[];
  message: string;
  trailers: Trailers;
}

/** A droplet's git repository. All paths it accepts are untrusted and re-checked. */
export interface DropletRepo {
  readonly path: string;
  /** Creates the repository (idempotent: an existing repo is reused). */
  ensure(): Promise<void>;
  /** Applies the changes (safe paths only) and commits them; null when nothing changed. */
  commitChanges(changes: readonly FileChange[], message: string, trailers: Trailers): Promise<CommitInfo | null>;
  /**
   * One commit per entry, in order, in a single pass (every path and secret checked
   * before anything is written); an entry that changes nothing gets null.
   */
  commitEach(entries: readonly CommitEntry[]): Promise<(CommitInfo | null)[]>;
  /** Commits whatever is in the working tree (e.g. a lockfile written by install). */
  commitWorkingTree(message: string, trailers: Trailers, options?: { allowEmpty?: boolean }): Promise<CommitInfo | null>;
  /**
   * Regular files only, each at most 1 MiB; anything else (missing, a FIFO, a link,
   * too large) is left out. A path leading out of the repository throws UnsafePathError.
   */
  readFiles(paths: readonly string[]): Promise<RepoFile[]>;
  /**
   * Puts the working tree back to HEAD: tracked files restored, untracked and ignored
   * files removed except the root `node_modules` (no reinstall needed). Run it while
   * nothing of the droplet runs. Throws StepError NOTHING_TO_RESTORE before the first commit.
   */
  restoreWorkingTree(): Promise<void>;
  /** Tracked files, repository-relative. */
  listFiles(): Promise<string[]>;
  head(): Promise<string | null>;
  tag(name: string, message: string): Promise<void>;
  log(): Promise<CommitInfo[]>;
}

export interface Workspace {
  /** Where the droplet's repository lives: `${DATA_DIR}/repos/<id>-<name>`. */
  repoFor(droplet: DropletIdentity): DropletRepo;
}
