/**
 * One untrusted command in its own process group, from spawn until every process of
 * the group is gone. Timeout, abort and stop() all end the whole group; when the main
 * process exits on its own, whatever it left behind (`sleep 9999 &`) is ended too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { SandboxProcess, SandboxResult } from './types.js';
import { OutputCapture } from './output-capture.js';
import { isProcessGroupAlive, signalProcessGroup } from './process-group.js';

export interface LaunchSpec {
  file: string;
  args: readonly string[];
  cwd: string;
  /** The complete environment of the child; nothing is inherited. */
  env: Record<string, string>;
  /** No limit when absent (long-running servers). */
  timeoutMs?: number;
  outputLimitBytes?: number;
  signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** Told of the group while it lives, so a crashed executor's leftovers can be reaped. */
  groups?: ProcessGroupRecorder;
}

export interface ProcessGroupRecorder {
  record(pgid: number): void;
  forget(pgid: number): void;
}

const GROUP_POLL_MS = 20;
/** How long stdio may stay open after the group is gone (a process that escaped it with setsid). */
const STDIO_CLOSE_WAIT_MS = 1_000;
/** After SIGKILL a process dies at once unless stuck in the kernel; do not wait forever for that. */
const GROUP_GONE_WAIT_AFTER_KILL_MS = 10_000;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The process half of a SandboxProcess; the sandbox adds the exposed port and what the run holds. */
export class SandboxedProcess implements Omit<SandboxProcess, 'exposedPort'> {
  /** 0 when the command could not be started. */
  readonly pid: number;
  readonly exited: Promise<SandboxResult>;

  private readonly capture: OutputCapture;
  private readonly startedAt = performance.now();
  private child: ChildProcess | null = null;
  private exitCode: number | null = null;
  private exitSignal: string | null = null;
  private timedOut = false;
  private aborted = false;
  private finished = false;
  private stdioClosed = false;
  private killTimer: NodeJS.Timeout | null = null;
  private timeoutTimer: NodeJS.Timeout | null = null;
  private resolveExited!: (result: SandboxResult) => void;
  private readonly onAbort = () => {
    this.aborted = true;
    // Cancellation is immediate: untrusted code gets no grace period.
    this.terminate('SIGKILL');
  };

  constructor(private readonly spec: LaunchSpec) {
    this.capture = new OutputCapture(spec.outputLimitBytes);
    this.exited = new Promise((resolve) => {
      this.resolveExited = resolve;
    });
    if (spec.signal?.aborted) {
      this.pid = 0;
      this.aborted = true;
      this.finish();
      return;
    }
    this.pid = this.spawnChild();
    if (this.pid > 0 && !this.finished) spec.groups?.record(this.pid);
  }

  output(): string {
    return this.capture.text();
  }

  async stop(): Promise<SandboxResult> {
    this.terminate('SIGTERM');
    return this.exited;
  }

  private spawnChild(): number {
    let child: ChildProcess;
    try {
      child = spawn(this.spec.file, [...this.spec.args], {
        cwd: this.spec.cwd,
        env: this.spec.env,
        detached: true,
        shell: false,
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
    } catch (error) {
      this.noteStartFailure(error);
      this.finish();
      return 0;
    }
    this.child = child;
    const append = (chunk: Buffer) => this.capture.append(chunk);
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    child.once('close', () => {
      this.stdioClosed = true;
    });
    if (child.pid === undefined) {
      // spawn failed (missing command or cwd); Node reports why on 'error'.
      child.once('error', (error) => {
        this.noteStartFailure(error);
        this.finish();
      });
      return 0;
    }
    child.on('error', () => undefined); // kill() errors after exit are irrelevant here
    child.once('exit', (code, signal) => {
      this.exitCode = code;
      this.exitSignal = signal;
      void this.reapGroup(child.pid!);
    });
    this.spec.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (this.spec.timeoutMs !== undefined) {
      this.timeoutTimer = setTimeout(() => {
        this.timedOut = true;
        this.terminate('SIGTERM');
      }, this.spec.timeoutMs);
    }
    return child.pid;
  }

  private noteStartFailure(error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.capture.append(Buffer.from(`[sandbox] could not start ${this.spec.file}: ${reason}\n`));
  }

  /** SIGTERM escalates to SIGKILL after the grace period; SIGKILL is sent at once. */
  private terminate(signal: 'SIGTERM' | 'SIGKILL'): void {
    if (this.finished || this.pid <= 0) return;
    signalProcessGroup(this.pid, signal);
    if (signal === 'SIGTERM' && this.killTimer === null) {
      this.killTimer = setTimeout(() => this.terminate('SIGKILL'), this.spec.killGraceMs);
    }
  }

  /** After the main process exited: end what it left behind, then wait for the group and stdio. */
  private async reapGroup(pgid: number): Promise<void> {
    if (isProcessGroupAlive(pgid)) this.terminate('SIGTERM');
    const giveUpAt = performance.now() + this.spec.killGraceMs + GROUP_GONE_WAIT_AFTER_KILL_MS;
    while (isProcessGroupAlive(pgid) && performance.now() < giveUpAt) await delay(GROUP_POLL_MS);
    const stdioDeadline = performance.now() + STDIO_CLOSE_WAIT_MS;
    while (!this.stdioClosed && performance.now() < stdioDeadline) await delay(GROUP_POLL_MS);
    if (!this.stdioClosed) {
      this.child?.stdout?.destroy();
      this.child?.stderr?.destroy();
    }
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.pid > 0) this.spec.groups?.forget(this.pid);
    if (this.killTimer) clearTimeout(this.killTimer);
    if (this.timeoutTimer) clearTimeout(this.timeoutTimer);
    this.spec.signal?.removeEventListener('abort', this.onAbort);
    this.resolveExited({
      exitCode: this.exitCode,
      signal: this.exitSignal,
      output: this.capture.text(),
      truncated: this.capture.truncated,
      timedOut: this.timedOut,
      aborted: this.aborted,
      durationMs: Math.round(performance.now() - this.startedAt),
    });
  }
}
