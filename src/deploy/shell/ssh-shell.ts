/**
 * A host reached over SSH (node-ssh over ssh2): one connection, opened on first use and
 * again when it dropped. The host key is judged in ssh2's `hostVerifier`, which runs in
 * the key exchange, before any authentication: a host that is not the pinned one never
 * sees the key or the agent. Commands are argv, each element POSIX-quoted for the
 * remote login shell (which must be a POSIX shell: sh, bash, dash, zsh).
 */
import { readFile } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import { posix } from 'node:path';
import type { NodeSSH } from 'node-ssh';
import { decideHostKey, assertHostKeyPolicy, type HostKeyPolicy, knownHostsName, loadKnownHosts, preferredHostKeyAlgorithms } from './host-keys.js';
import { quoteArgv } from './quote.js';
import { killGroupArgv, NotConnected, openChannel, remoteCommand, runChannel, type Ssh2Channel, type Ssh2Client } from './ssh-channel.js';
import { sshTargetLabel } from './ssh-target-spec.js';
import { DEFAULT_EXEC_TIMEOUT_MS, type ExecOptions, type ExecResult, type HostShell, type HostUser, ShellError } from './types.js';

export interface SshShellOptions {
  host: string;
  port: number;
  user: string;
  /** SSH_KEY_PATH: the private key (read at each connect, never logged). */
  privateKeyPath?: string;
  /** SSH_AUTH_SOCK: an agent's socket, used instead of (or after) the key file. */
  agent?: string;
  hostKey: HostKeyPolicy;
  /** DEPLOY_RUN_AS: the droplet user; when not the SSH user, `asRunner` commands go through `sudo -n -u`. */
  runAs?: string;
  /** Host name for public URLs; default the host (IPv6 in brackets). */
  address?: string;
  /** The handshake and authentication must finish within this; default 20 s. */
  connectTimeoutMs?: number;
  /** Channels open at once on the connection (sshd's MaxSessions defaults to 10); default 8. */
  maxSessions?: number;
}

interface Connection {
  ssh: NodeSSH;
  client: Ssh2Client;
  /** Set when the socket closed (a drop, a server restart, keepalives unanswered). */
  closed: boolean;
}

/** The part of ssh2's SFTPWrapper used here (ssh2 ships no types of its own). */
interface SftpSession {
  end(): void;
}

const KILL_TIMEOUT_MS = 10_000;

/** Waits for a free channel slot, so a burst of commands never exceeds the server's session limit. */
class SessionSlots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  async use<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free += 1;
    }
  }
}

export class SshShell implements HostShell {
  readonly label: string;
  readonly address: string;
  private connection: Promise<Connection> | null = null;
  private readonly slots: SessionSlots;
  private identity: Promise<HostUser> | null = null;

  constructor(private readonly options: SshShellOptions) {
    assertHostKeyPolicy(options.hostKey);
    if (!options.privateKeyPath && !options.agent) throw new Error('An SSH host needs a private key path or an agent socket.');
    this.label = sshTargetLabel(options.user, options.host, options.port);
    this.address = options.address ?? (isIPv6(options.host) ? `[${options.host}]` : options.host);
    this.slots = new SessionSlots(options.maxSessions ?? 8);
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0 || !argv[0]) throw new Error('A command needs at least a program name.');
    const name = argv[0];
    const runAs = this.options.runAs;
    const full = options.asRunner && runAs && runAs !== this.options.user ? ['sudo', '-n', '-u', runAs, '--', ...argv] : argv;
    const command = remoteCommand(full);
    return this.slots.use(async () => {
      if (options.signal?.aborted) throw new ShellError(`${this.label}: \`${name}\` was aborted before it started.`, 'ABORTED');
      const channel = await this.open(command);
      return runChannel({
        channel,
        stdin: options.stdin,
        timeoutMs: options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS,
        signal: options.signal,
        name: `${this.label}: ${name}`,
        killGroup: (pgid) => this.killGroup(pgid),
      });
    });
  }

  async upload(localPath: string, remotePath: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (!posix.isAbsolute(remotePath)) throw new ShellError(`${this.label}: upload target ${remotePath} is not an absolute path.`, 'TRANSFER_FAILED');
    await this.slots.use(async () => {
      if (options.signal?.aborted) throw new ShellError(`${this.label}: upload of ${remotePath} was aborted.`, 'ABORTED');
      const { ssh } = await this.connected();
      const sftp = (await ssh.requestSFTP().catch((cause: unknown) => {
        throw new ShellError(`${this.label}: could not open SFTP: ${(cause as Error).message}`, 'TRANSFER_FAILED', { cause });
      })) as SftpSession;
      // Ending the SFTP session makes the transfer fail at once: that is how an upload is aborted.
      const onAbort = (): void => sftp.end();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await ssh.putFile(localPath, remotePath, sftp);
      } catch (cause) {
        if (options.signal?.aborted) throw new ShellError(`${this.label}: upload of ${remotePath} was aborted.`, 'ABORTED', { cause });
        throw new ShellError(`${this.label}: could not upload ${localPath} to ${remotePath}: ${(cause as Error).message}`, 'TRANSFER_FAILED', { cause });
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
        sftp.end();
      }
    });
  }

  /** The runner (DEPLOY_RUN_AS, else the SSH user) as the host knows it; asked once. */
  runner(): Promise<HostUser> {
    if (!this.identity) {
      const lookup = this.lookUpUser(this.options.runAs ?? this.options.user);
      this.identity = lookup;
      lookup.catch(() => {
        if (this.identity === lookup) this.identity = null;
      });
    }
    return this.identity;
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = null;
    if (connection) (await connection.catch(() => null))?.ssh.dispose();
  }

  private async lookUpUser(user: string): Promise<HostUser> {
    const result = await this.exec(['sh', '-c', 'id -u -- "$1" && id -g -- "$1"', 'sh', user], { timeoutMs: 30_000 });
    const [uid, gid] = result.stdout.trim().split('\n').map(Number);
    if (result.code !== 0 || !Number.isInteger(uid) || !Number.isInteger(gid)) {
      throw new Error(`${this.label}: user ${user} is not known on the host: ${result.stderr.trim()}`);
    }
    return { user, uid: uid as number, gid: gid as number };
  }

  /** An exec channel; a connection found dead before anything ran is replaced once. */
  private async open(command: string): Promise<Ssh2Channel> {
    const connection = await this.connected();
    try {
      return await openChannel(connection.client, command);
    } catch (error) {
      if (!(error instanceof NotConnected)) throw this.channelError(error);
      connection.closed = true;
      return openChannel((await this.connected()).client, command).catch((retryError: unknown) => {
        throw this.channelError(retryError);
      });
    }
  }

  private channelError(cause: unknown): ShellError {
    return new ShellError(`${this.label}: could not start a command: ${(cause as Error).message}`, 'CONNECT_FAILED', { cause });
  }

  private async killGroup(pgid: number): Promise<void> {
    // Not counted against the slots: the command being killed still holds one.
    const channel = await this.open(quoteArgv(killGroupArgv(pgid)));
    await runChannel({ channel, timeoutMs: KILL_TIMEOUT_MS, name: 'kill', killGroup: async () => {} }).catch(() => undefined);
  }

  /** The open connection, or a new one when there is none or it closed. */
  private connected(): Promise<Connection> {
    const current = this.connection;
    if (!current) return this.reconnect(null);
    return current.then((live) => (live.closed ? this.reconnect(current) : live));
  }

  private reconnect(stale: Promise<Connection> | null): Promise<Connection> {
    // Callers that found the same stale connection share one new attempt.
    if (this.connection && this.connection !== stale) return this.connection;
    const attempt = this.connect();
    this.connection = attempt;
    attempt.catch(() => {
      if (this.connection === attempt) this.connection = null;
    });
    return attempt;
  }

  private async connect(): Promise<Connection> {
    const { host, port, user, hostKey } = this.options;
    const entries = loadKnownHosts(hostKey.knownHostsFile);
    const serverHostKey = preferredHostKeyAlgorithms(entries, knownHostsName(host, port));
    let refusal: ShellError | null = null;
    const target = { host, port, label: this.label };
    // Loaded on the first connection: a local-only executor never pays for ssh2 at start-up.
    const { NodeSSH: Client } = await import('node-ssh');
    const ssh = new Client();
    try {
      await ssh.connect({
        host,
        port,
        username: user,
        ...(await this.credentials()),
        readyTimeout: this.options.connectTimeoutMs ?? 20_000,
        keepaliveInterval: 15_000,
        keepaliveCountMax: 3,
        ...(serverHostKey ? { algorithms: { serverHostKey } } : {}),
        hostVerifier: (key: Buffer, verify: (accepted: boolean) => void) => {
          const decision = decideHostKey(hostKey, entries, target, key);
          if (!decision.accepted) refusal = decision.error;
          verify(decision.accepted);
        },
      });
    } catch (error) {
      ssh.dispose();
      throw refusal ?? this.connectError(error);
    }
    return this.watch(ssh);
  }

  private async credentials(): Promise<{ privateKey?: string; agent?: string }> {
    const { privateKeyPath, agent } = this.options;
    if (!privateKeyPath) return { agent };
    try {
      return { privateKey: await readFile(privateKeyPath, 'utf8'), agent };
    } catch (cause) {
      throw new ShellError(`${this.label}: cannot read the private key ${privateKeyPath}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, 'AUTH_FAILED');
    }
  }

  private connectError(error: unknown): ShellError {
    if (error instanceof ShellError) return error;
    const { message, level } = error as Error & { level?: string };
    const authentication = level === 'client-authentication' || /privateKey|authentication/i.test(message);
    const code = authentication ? 'AUTH_FAILED' : 'CONNECT_FAILED';
    return new ShellError(`${this.label}: ${authentication ? 'authentication failed' : 'could not connect'}: ${message}`, code);
  }

  /** Marks the connection closed when it is; its later errors end in 'close' instead of crashing the process. */
  private watch(ssh: NodeSSH): Connection {
    const connection: Connection = { ssh, client: ssh.connection as Ssh2Client, closed: false };
    connection.client.on('error', () => {});
    connection.client.on('close', () => {
      connection.closed = true;
    });
    connection.client.on('end', () => {
      connection.closed = true;
    });
    return connection;
  }
}
