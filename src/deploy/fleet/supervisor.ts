/**
 * The executor's side of the droplet supervisor (`host-agent/droplet-supervisor.mjs`):
 * puts the program on a host once per version, and speaks its control protocol by
 * running its CLI there, so local and SSH hosts are driven by the same commands.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StepError } from '../../domain/errors.js';
import type { HostOps } from './host-ops.js';
import { askControlSocket, controlSocketOf } from './control-socket.js';
import type { DropletLayout, HostLayout } from './layout.js';

/** `host-agent/` at the project root, found from src/ (tsx) and dist/ alike. */
export const SUPERVISOR_SOURCE = fileURLToPath(new URL('../../../host-agent/droplet-supervisor.mjs', import.meta.url));

export interface Backend {
  release: string;
  pid: number;
  port: number;
  startedAt: string;
  restarts: number;
  healthy: boolean;
}

export interface SupervisorStatus {
  ok: true;
  pid: number;
  listen: { host: string; port: number };
  state: 'running' | 'idle' | 'restarting' | 'stopping';
  active: Backend | null;
  candidate: Backend | null;
}

export interface SupervisorError {
  ok: false;
  error: { code: string; message?: string; log?: string };
}

type Answer<T> = (T & { ok: true }) | SupervisorError;

export interface SwitchResult {
  active: Backend;
  stopped: { release: string; pid: number } | null;
}

/** The supervisor's settings for one droplet (supervisor.json). */
export interface SupervisorConfig {
  version: 1;
  droplet: string;
  listen: { host: string; port: number };
  launch: { argv: string[]; cwd: string; envFile: string; env: Record<string, string>; entries: Record<string, string> };
  health: { path: string; timeoutMs: number };
  restart: { initialDelayMs: number; maxDelayMs: number; resetAfterMs: number };
  stopGraceMs: number;
  drainTimeoutMs: number;
  holdRequestsMs: number;
}

interface Program {
  text: string;
  /** sha256 of the text, hex. */
  sha256: string;
}

let program: Promise<Program> | undefined;
function supervisorProgram(): Promise<Program> {
  return (program ??= readFile(SUPERVISOR_SOURCE, 'utf8').then((text) => ({ text, sha256: createHash('sha256').update(text).digest('hex') })));
}

export class SupervisorClient {
  constructor(
    private readonly ops: HostOps,
    private readonly nodePath: string,
    private readonly programPath: string,
    /** The host is this machine: requests go straight to the control socket. */
    private readonly direct = false,
  ) {}

  /** Uploads this executor's version of the program unless the host has it; returns a client for it. */
  static async install(ops: HostOps, host: HostLayout, nodePath: string, direct = false): Promise<SupervisorClient> {
    const { text, sha256 } = await supervisorProgram();
    const path = posix.join(host.executorDir, `supervisor-${sha256.slice(0, 12)}.mjs`);
    if (!(await ops.exists(path))) {
      await ops.mkdirs([host.executorDir], { mode: '755' });
      // A private directory: a name in /tmp that others can guess could be planted as a link or a writable file.
      const dir = await mkdtemp(join(tmpdir(), 'executor-supervisor-'));
      const local = join(dir, 'droplet-supervisor.mjs');
      try {
        await writeFile(local, text, { mode: 0o600, flag: 'wx' });
        await ops.shell.upload(local, `${path}.tmp`);
        // What runs for every droplet on the host is exactly this executor's program.
        const uploaded = (await ops.run(['sha256sum', '--', `${path}.tmp`], { what: 'checking the uploaded supervisor' })).stdout.split(' ')[0];
        if (uploaded !== sha256) {
          await ops.remove([`${path}.tmp`]);
          throw new StepError('DEPLOY_SUPERVISOR_FAILED', `The supervisor uploaded to ${ops.shell.label} does not match this executor's (sha256 ${uploaded ?? 'unknown'}).`, { host: ops.shell.label });
        }
        await ops.run(['chmod', '644', `${path}.tmp`]);
        await ops.run(['mv', '-f', `${path}.tmp`, path]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    return new SupervisorClient(ops, nodePath, path, direct);
  }

  /** The command line that runs the supervisor in the foreground (systemd's ExecStart). */
  runCommand(droplet: DropletLayout): string[] {
    return [this.nodePath, this.programPath, 'run', droplet.dir];
  }

  /** Starts it detached from this session (it outlives the executor); its status once it answers. */
  async start(droplet: DropletLayout): Promise<SupervisorStatus> {
    const result = await this.ops.shell.exec([this.nodePath, this.programPath, 'start', droplet.dir], { asRunner: true, timeoutMs: 30_000 });
    const answer = parse<SupervisorStatus>(result.stdout);
    if (!answer?.ok) throw supervisorFailure('start', this.ops.shell.label, answer, result.stderr);
    return answer;
  }

  /** The status, or null when no supervisor runs for the droplet. */
  async status(droplet: DropletLayout): Promise<SupervisorStatus | null> {
    const answer = await this.request<SupervisorStatus>(droplet, { cmd: 'status' }, 10_000);
    if (answer.ok) return answer;
    if (answer.error.code === 'NOT_RUNNING') return null;
    throw supervisorFailure('status', this.ops.shell.label, answer);
  }

  /** Starts the release beside the active one and health-gates it; the failure (with the log tail) is returned. */
  prepare(droplet: DropletLayout, release: string, timeoutMs: number): Promise<Answer<{ candidate?: Backend; alreadyActive?: boolean; active?: Backend }>> {
    return this.request(droplet, { cmd: 'prepare', release }, timeoutMs + 15_000);
  }

  async promote(droplet: DropletLayout, release: string, drainMs: number): Promise<SwitchResult> {
    return this.expect<SwitchResult>('promote', droplet, { cmd: 'promote', release }, drainMs + 30_000);
  }

  async discard(droplet: DropletLayout, release: string): Promise<void> {
    await this.request(droplet, { cmd: 'discard', release }, 30_000);
  }

  async restart(droplet: DropletLayout, timeoutMs: number): Promise<SwitchResult> {
    return this.expect<SwitchResult>('restart', droplet, { cmd: 'restart' }, timeoutMs + 45_000);
  }

  /** Stops the droplet and its supervisor; nothing running is fine. */
  async shutdown(droplet: DropletLayout): Promise<void> {
    const answer = await this.request(droplet, { cmd: 'shutdown' }, 30_000);
    if (!answer.ok && answer.error.code !== 'NOT_RUNNING') throw supervisorFailure('shutdown', this.ops.shell.label, answer);
    // It answers before it exits: wait until the socket is gone so a start right after is not refused.
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (await this.status(droplet).catch(() => null))) await new Promise((resolve) => setTimeout(resolve, 100));
  }

  private async expect<T>(what: string, droplet: DropletLayout, request: Record<string, unknown>, timeoutMs: number): Promise<T> {
    const answer = await this.request<T>(droplet, request, timeoutMs);
    if (!answer.ok) throw supervisorFailure(what, this.ops.shell.label, answer);
    return answer;
  }

  private async request<T>(droplet: DropletLayout, request: Record<string, unknown>, timeoutMs: number): Promise<Answer<T>> {
    const socket = this.direct ? controlSocketOf(droplet.dir) : null;
    if (socket) {
      const line = await askControlSocket(socket, request, timeoutMs).catch((error: unknown) => `{"ok":false,"error":{"code":"CONTROL_FAILED","message":${JSON.stringify((error as Error).message)}}}`);
      if (line === null) return { ok: false, error: { code: 'NOT_RUNNING', message: `no supervisor runs for ${droplet.dir}` } };
      return parse<T>(line) ?? { ok: false, error: { code: 'NO_ANSWER', message: 'the supervisor closed the connection without an answer' } };
    }
    const result = await this.ops.shell.exec([this.nodePath, this.programPath, 'ctl', droplet.dir, JSON.stringify(request)], {
      asRunner: true,
      timeoutMs,
    });
    return (
      parse<T>(result.stdout) ?? {
        ok: false,
        error: { code: 'NO_ANSWER', message: (result.stderr || result.stdout).slice(-1_000).trim() || `exit ${result.code}` },
      }
    );
  }
}

function parse<T>(stdout: string): Answer<T> | null {
  const line = stdout.trim().split('\n').pop();
  if (!line) return null;
  try {
    const value = JSON.parse(line) as Answer<T>;
    return typeof value === 'object' && value !== null && typeof value.ok === 'boolean' ? value : null;
  } catch {
    return null;
  }
}

function supervisorFailure(what: string, host: string, answer: SupervisorError | null, stderr = ''): StepError {
  const message = answer?.error.message ?? answer?.error.code ?? (stderr.trim().slice(-500) || 'no answer');
  return new StepError('DEPLOY_SUPERVISOR_FAILED', `The droplet supervisor on ${host} could not ${what}: ${message}`, {
    host,
    code: answer?.error.code ?? null,
  });
}
