/** The runner of untrusted commands: generated code runs only through a Sandbox. */

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
  /**
   * An installed `node_modules` (a dependency store entry) that appears as
   * `<cwd>/node_modules`: bound read-only under bubblewrap, linked for a plain process.
   */
  dependencies?: string;
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




