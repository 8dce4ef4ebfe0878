/**
 * One remote command on an open SSH connection: the channel's output, its exit, and how
 * it is killed. sshd starts every session's command in a new session (setsid), so the
 * remote shell's pid is the process group of everything the command starts; the shell
 * reports it on stderr before `exec`ing the command, and a timeout or an abort kills
 * that group through a second channel (closing a channel kills nothing remotely).
 */
import type { Duplex, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { OutputCollector, exitCode } from './output.js';
import { quoteArgv } from './quote.js';
import { type ExecResult, ShellError } from './types.js';

/** The part of ssh2's ClientChannel used here (ssh2 ships no types of its own). */
export type Ssh2Channel = Duplex & {
  stderr: Readable;
  signal(name: string): void;
  close(): void;
};

/** The part of ssh2's Client used here. */
export interface Ssh2Client {
  exec(command: string, callback: (error: Error | undefined, channel: Ssh2Channel) => void): void;
  on(event: 'close' | 'end', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

const PGID_MARK = '__executor_pgid=';
const PGID_WAIT_MS = 2_000;
const PGID_LINE = new RegExp(`${PGID_MARK}(\\d+)\\n`);

/** The remote command line: report the process group, then become the command. */
export function remoteCommand(argv: readonly string[]): string {
  return `echo "${PGID_MARK}$$" >&2; exec ${quoteArgv(argv)}`;
}

/**
 * ssh2 fails a channel still waiting to open with this when the socket closes (a channel
 * that did open fails its exec request with "Unable to exec" instead, and may have run).
 */
const NEVER_OPENED = 'No response from server';

function openOnce(client: Ssh2Client, command: string): Promise<Ssh2Channel> {
  return new Promise((resolve, reject) => {
    try {
      client.exec(command, (error, channel) => {
        if (!error) resolve(channel);
        else reject(error.message === NEVER_OPENED && !('reason' in error) ? new NotConnected(error.message) : error);
      });
    } catch (error) {
      reject(new NotConnected((error as Error).message));
    }
  });
}

const OPEN_ATTEMPTS = 20;

/**
 * Opens an exec channel. A connection found dead before the channel opened throws
 * `NotConnected` (nothing ran). A refused channel open (ssh2 gives it a `reason`) is
 * asked again a few times, since nothing ran either: sshd at its MaxSessions refuses
 * one ("no more sessions") and frees a closed session only a moment after the client
 * saw it close.
 */
export async function openChannel(client: Ssh2Client, command: string): Promise<Ssh2Channel> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await openOnce(client, command);
    } catch (error) {
      const refusedOpen = error instanceof Error && 'reason' in error;
      if (attempt >= OPEN_ATTEMPTS || !refusedOpen) throw error;
      await sleep(Math.min(25 * attempt, 250));
    }
  }
}

export class NotConnected extends Error {}

/** stderr with the process-group line taken out (it is always the shell's first line there). */
class RemoteStderr {
  readonly output = new OutputCollector();
  pgid: number | null = null;
  private pending: Buffer | null = Buffer.alloc(0);

  add(chunk: Buffer): void {
    if (this.pending === null) return this.output.add(chunk);
    this.pending = Buffer.concat([this.pending, chunk]);
    const text = this.pending.toString('latin1');
    const match = PGID_LINE.exec(text);
    if (match) {
      this.pgid = Number(match[1]);
      this.output.add(this.pending.subarray(0, match.index));
      this.output.add(this.pending.subarray(match.index + match[0].length));
      this.pending = null;
    } else if (this.pending.length > 64 * 1024) {
      this.flush(); // a login script that talks this much: give up on the mark, keep the text
    }
  }

  flush(): void {
    if (this.pending !== null) this.output.add(this.pending);
    this.pending = null;
  }
}

export interface ChannelRun {
  channel: Ssh2Channel;
  stdin?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** What the command is called in errors. */
  name: string;
  /** Kills the remote process group (a separate channel); resolves when that ran. */
  killGroup(pgid: number): Promise<void>;
}

/** Collects the command's output until its channel closes; a timeout or an abort kills it and rejects. */
export function runChannel(run: ChannelRun): Promise<ExecResult> {
  const { channel } = run;
  const stdout = new OutputCollector();
  const stderr = new RemoteStderr();
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    let closed = false;
    const kill = (error: ShellError): void => {
      settle(() => {
        void killRemote().then(() => {
          channel.close();
          reject(error);
        });
      });
    };
    const killRemote = async (): Promise<void> => {
      // Killed right after it opened: the group's line may still be on its way.
      for (let waited = 0; stderr.pgid === null && !closed && waited < PGID_WAIT_MS; waited += 50) await sleep(50);
      if (stderr.pgid !== null) {
        // Even after the command's own exit: what it started may still hold the group.
        await run.killGroup(stderr.pgid).catch(() => undefined);
        return;
      }
      try {
        channel.signal('KILL'); // no group known: at least the command itself (sshd's "signal" request)
      } catch {
        // the channel is already gone
      }
    };
    const timer = setTimeout(() => kill(new ShellError(`\`${run.name}\` timed out after ${run.timeoutMs} ms and was killed.`, 'TIMEOUT')), run.timeoutMs);
    const onAbort = (): void => kill(new ShellError(`\`${run.name}\` was aborted and killed.`, 'ABORTED'));
    run.signal?.addEventListener('abort', onAbort, { once: true });
    if (run.signal?.aborted) onAbort(); // aborted while the channel was opening
    channel.on('data', (chunk: Buffer) => stdout.add(chunk));
    channel.stderr.on('data', (chunk: Buffer) => stderr.add(chunk));
    channel.on('error', () => {}); // a dropped connection ends in 'close' below
    // The exit comes with 'close' (ssh2 passes it on, like a child process's 'close'): an
    // 'exit' event may have fired before these listeners were attached, 'close' cannot
    // (it waits for the output streams, which buffer until read).
    channel.on('close', (code: number | null | undefined, signal?: string) => {
      closed = true;
      stderr.flush();
      if (code === null && !signal) code = undefined;
      if (code === undefined) {
        settle(() => reject(new ShellError(`\`${run.name}\`: the connection ended before the command did.`, 'CONNECT_FAILED')));
        return;
      }
      settle(() => resolve({ code: exitCode(code ?? null, signal ?? null), stdout: stdout.text(), stderr: stderr.output.text() }));
    });
    channel.end(run.stdin);
  });
}

/** The argv that kills a remote process group (as the SSH user). */
export function killGroupArgv(pgid: number): string[] {
  return ['kill', '-KILL', '--', `-${pgid}`];
}
