/**
 * What keeps a droplet's supervisor running on its host. With systemd, a unit per
 * droplet (system, or --user) that restarts it on failure and starts it at boot.
 * Without (this machine and CI have none), the supervisor runs as a detached process
 * of its own session: it outlives the executor, and the executor's reconciliation at
 * start brings back one that died with its host.
 */
import { posix } from 'node:path';
import { StepError } from '../../domain/errors.js';
import type { HostOps } from './host-ops.js';
import type { DropletLayout } from './layout.js';
import type { SupervisorClient, SupervisorStatus } from './supervisor.js';

export type SupervisionMode = 'process' | 'systemd' | 'systemd-user';

export interface SupervisorLauncher {
  readonly mode: SupervisionMode;
  /** `process`, or `systemd:<unit>` / `systemd-user:<unit>`. */
  describe(name: string): string;
  /** Running (started when it was not), with its status. */
  ensureRunning(droplet: DropletLayout, name: string): Promise<SupervisorStatus>;
  /** Stopped, and not started again at boot. */
  stop(droplet: DropletLayout, name: string): Promise<void>;
  /** Stopped and forgotten (undeploy). */
  remove(droplet: DropletLayout, name: string): Promise<void>;
}

export class ProcessLauncher implements SupervisorLauncher {
  readonly mode = 'process' as const;
  constructor(private readonly client: SupervisorClient) {}

  describe(): string {
    return 'process';
  }

  async ensureRunning(droplet: DropletLayout): Promise<SupervisorStatus> {
    return (await this.client.status(droplet)) ?? (await this.client.start(droplet));
  }

  stop(droplet: DropletLayout): Promise<void> {
    return this.client.shutdown(droplet);
  }

  remove(droplet: DropletLayout): Promise<void> {
    return this.client.shutdown(droplet);
  }
}

/**
 * One word of ExecStart as systemd reads it back: it splits on blanks and unquotes
 * C-style ("…" with \\ and \" escapes), and it expands `%` specifiers and `$` variables
 * inside quotes too, so those are doubled everywhere.
 */
function execWord(part: string): string {
  const control = [...part].some((character) => character.charCodeAt(0) < 0x20 || character.charCodeAt(0) === 0x7f);
  if (control) throw new Error(`A control character cannot be written into a unit's ExecStart: ${JSON.stringify(part)}`);
  const word = /^[A-Za-z0-9_@+=:,./-]+$/.test(part) ? part : `"${part.replace(/["\\]/g, '\\$&')}"`;
  return word.replace(/[%$]/g, (character) => character + character);
}

export const unitName = (name: string) => `executor-droplet-${name}.service`;

/** The unit: the supervisor in the foreground, restarted on failure, as the droplet's user for a system unit. */
export function unitFile(options: { name: string; command: readonly string[]; user?: string; userUnit: boolean }): string {
  const quoted = options.command.map(execWord);
  return [
    '[Unit]',
    `Description=Droplet ${options.name} (supervised by the Autonomous Executor)`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${quoted.join(' ')}`,
    'Restart=on-failure',
    'RestartSec=1',
    'KillMode=control-group',
    'TimeoutStopSec=30',
    ...(options.userUnit || !options.user ? [] : [`User=${options.user}`]),
    'NoNewPrivileges=yes',
    '',
    '[Install]',
    `WantedBy=${options.userUnit ? 'default.target' : 'multi-user.target'}`,
    '',
  ].join('\n');
}

const UNIT_START_WAIT_MS = 15_000;

export class SystemdLauncher implements SupervisorLauncher {
  private userUnitDir?: Promise<string>;

  constructor(
    readonly mode: 'systemd' | 'systemd-user',
    private readonly ops: HostOps,
    private readonly client: SupervisorClient,
    private readonly runnerUser: string,
    private readonly startWaitMs = UNIT_START_WAIT_MS,
  ) {}

  describe(name: string): string {
    return `${this.mode}:${unitName(name)}`;
  }

  private systemctl(...args: string[]): string[] {
    return ['systemctl', ...(this.mode === 'systemd-user' ? ['--user'] : []), ...args];
  }

  /** Absolute: a relative path would land under whatever directory the shell started in (the executor's own on local). */
  private async unitPath(name: string): Promise<string> {
    if (this.mode === 'systemd') return posix.join('/etc/systemd/system', unitName(name));
    this.userUnitDir ??= this.ops.sh('cd && pwd', [], { what: 'finding the home directory' }).then(
      (result) => posix.join(result.stdout.trim().replace(/\/+$/, '') || '/', '.config', 'systemd', 'user'),
      (error: unknown) => {
        this.userUnitDir = undefined;
        throw error;
      },
    );
    return posix.join(await this.userUnitDir, unitName(name));
  }

  async ensureRunning(droplet: DropletLayout, name: string): Promise<SupervisorStatus> {
    const running = await this.client.status(droplet);
    if (running) return running;
    const unit = unitFile({ name, command: this.client.runCommand(droplet), user: this.runnerUser, userUnit: this.mode === 'systemd-user' });
    const path = await this.unitPath(name);
    await this.ops.mkdirs([posix.dirname(path)]);
    await this.ops.writeFile(path, unit, { mode: '644' });
    await this.ops.run(this.systemctl('daemon-reload'), { what: 'systemctl daemon-reload' });
    await this.ops.run(this.systemctl('enable', '--now', unitName(name)), { what: `systemctl enable ${unitName(name)}` });
    return this.waitForStatus(droplet, name);
  }

  async stop(_droplet: DropletLayout, name: string): Promise<void> {
    await this.ops.run(this.systemctl('disable', '--now', unitName(name)), { what: `systemctl disable ${unitName(name)}` });
  }

  async remove(droplet: DropletLayout, name: string): Promise<void> {
    await this.stop(droplet, name);
    await this.ops.remove([await this.unitPath(name)]);
    await this.ops.run(this.systemctl('daemon-reload'), { what: 'systemctl daemon-reload' });
  }

  /**
   * The unit's supervisor answering. One that does not is systemd's to explain: starting
   * another supervisor here would run a second one beside the unit's, fighting for the port.
   */
  private async waitForStatus(droplet: DropletLayout, name: string): Promise<SupervisorStatus> {
    const deadline = Date.now() + this.startWaitMs;
    for (;;) {
      const status = await this.client.status(droplet);
      if (status) return status;
      if (Date.now() > deadline) {
        const unit = unitName(name);
        const journal = `journalctl ${this.mode === 'systemd-user' ? '--user ' : ''}-u ${unit}`;
        throw new StepError(
          'DEPLOY_SUPERVISOR_FAILED',
          `systemd started ${unit} on ${this.ops.shell.label}, but its supervisor did not answer within ${Math.round(this.startWaitMs / 1000)} s: see \`${journal}\` there.`,
          { host: this.ops.shell.label, unit },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
