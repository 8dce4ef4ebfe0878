/**
 * The one way the deploy engine touches a host: run an argv, copy a file, learn the runner
 * user. `LocalShell` (child processes) and `SshShell` (node-ssh) implement it, so the
 * release, switch, supervision and rollback steps are the same code on every target.
 */

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Sent on stdin, then closed. */
  stdin?: string;
  /** Default 120_000; a timed-out command is killed and rejects with a ShellError. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Run as the droplet user (DEPLOY_RUN_AS) instead of the shell's own user. */
  asRunner?: boolean;
}

/** A host user: who runs the droplets there (for chown of `shared/`). */
export interface HostUser {
  user: string;
  uid: number;
  gid: number;
}

export interface HostShell {
  /** `local`, or `user@host:port`: the host's name in status, registry and locks. */
  readonly label: string;
  /** Host name for public URLs (`{host}` of DEPLOY_PUBLIC_URL_TEMPLATE). */
  readonly address: string;
  /** Runs argv (no shell on the local side; on SSH each element is POSIX-quoted). Never rejects for a non-zero exit. */
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Copies a local file to an absolute path on the host (parent must exist). */
  upload(localPath: string, remotePath: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** The runner user's identity on the host (for chown of shared/): {user, uid, gid}. */
  runner(): Promise<HostUser>;
  close(): Promise<void>;
}

export type ShellErrorCode =
  | 'HOST_KEY_MISMATCH'
  | 'HOST_KEY_UNKNOWN'
  | 'CONNECT_FAILED'
  | 'AUTH_FAILED'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'TRANSFER_FAILED';

/** A command that could not run to its end, or a host that could not be reached or trusted. */
export class ShellError extends Error {
  constructor(
    message: string,
    readonly code: ShellErrorCode,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ShellError';
  }
}

/** Commands run without a deadline of their own still end: two minutes. */
export const DEFAULT_EXEC_TIMEOUT_MS = 120_000;
