/**
 * One host of the fleet as the deploy engine uses it: its shell, where droplets live on
 * it, how supervisors are kept running there, and how dependencies are installed.
 * Connections and the supervisor upload happen on first use, not at executor start.
 */
import { StepError } from '../../domain/errors.js';
import type { HostShell } from '../shell/types.js';
import type { DependencyInstaller } from './dependencies.js';
import { HostOps } from './host-ops.js';
import { ProcessLauncher, SystemdLauncher, type SupervisionMode, type SupervisorLauncher } from './launcher.js';
import { type DropletLayout, HostLayout } from './layout.js';
import { SupervisorClient } from './supervisor.js';

export interface FleetHostOptions {
  shell: HostShell;
  baseDir: string;
  nodePath: string;
  /** `auto` asks the host whether systemd runs there. */
  supervision: SupervisionMode | 'auto';
  installer: DependencyInstaller;
  /** The public address's template: `{host}` and `{port}`. */
  urlTemplate: string;
  /** The host is this machine: supervisors are asked over their control sockets, not through a node process each time. */
  local?: boolean;
}

interface Ready {
  supervisor: SupervisorClient;
  launcher: SupervisorLauncher;
  runner: { user: string; uid: number; gid: number };
  deployerUid: number;
}

export class FleetHost {
  readonly ops: HostOps;
  private resolvedLayout?: HostLayout;
  private ready?: Promise<Ready>;

  constructor(private readonly options: FleetHostOptions) {
    this.ops = new HostOps(options.shell);
    if (options.baseDir.startsWith('/')) this.resolvedLayout = new HostLayout(options.baseDir);
  }

  /** Where droplets live here; a relative DEPLOY_BASE_DIR is resolved against the login's home on connect. */
  get layout(): HostLayout {
    if (!this.resolvedLayout) throw new Error(`${this.label} is not connected yet: its base directory is not known.`);
    return this.resolvedLayout;
  }

  get label(): string {
    return this.options.shell.label;
  }

  get installer(): DependencyInstaller {
    return this.options.installer;
  }

  urlFor(port: number): string {
    return this.options.urlTemplate.replaceAll('{host}', this.options.shell.address).replaceAll('{port}', String(port));
  }

  /** Connected, the supervisor program in place, the supervision mode known. Retried after a failure. */
  connect(): Promise<Ready> {
    this.ready ??= this.prepare().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  async supervisor(): Promise<SupervisorClient> {
    return (await this.connect()).supervisor;
  }

  async launcher(): Promise<SupervisorLauncher> {
    return (await this.connect()).launcher;
  }

  /**
   * The droplet's directories: the droplet dir, releases and shared/ belong to the deploying
   * user; shared/data, run/ and logs/ to the droplet's user, which writes nothing else.
   */
  async prepareDroplet(droplet: DropletLayout): Promise<void> {
    const { runner, deployerUid } = await this.connect();
    await this.ops.mkdirs([droplet.dir, droplet.releasesDir, droplet.sharedDir], { mode: '755' });
    await this.ops.mkdirs([droplet.dataDir, droplet.runDir, droplet.logsDir], { mode: '700' });
    if (runner.uid !== deployerUid) {
      // A deploying user that is not root hands them over through sudo, as it runs the droplet's commands.
      const chown = ['chown', `${runner.uid}:${runner.gid}`, droplet.dataDir, droplet.runDir, droplet.logsDir];
      await this.ops.run(deployerUid === 0 ? chown : ['sudo', '-n', ...chown], { what: 'handing shared/data, run/ and logs/ to the droplet user' });
    }
  }

  /** Writes shared/.env: the deploying user's, readable by the droplet's group only. */
  async writeEnv(droplet: DropletLayout, content: string): Promise<void> {
    const { runner, deployerUid } = await this.connect();
    // Read-only even to an owner that runs the droplet (SSH without DEPLOY_RUN_AS): no accidental rewrite.
    const group = runner.uid !== deployerUid ? { group: String(runner.gid), sudo: deployerUid !== 0 } : {};
    await this.ops.writeFile(droplet.envFile, content, { mode: '440', ...group });
  }

  async close(): Promise<void> {
    await this.options.shell.close();
  }

  private async prepare(): Promise<Ready> {
    const deployerUid = Number((await this.ops.run(['id', '-u'], { what: 'id' })).stdout.trim());
    const runner = await this.options.shell.runner();
    if (!this.resolvedLayout) {
      const home = (await this.ops.sh('cd && pwd', [], { what: 'finding the home directory' })).stdout.trim();
      this.resolvedLayout = new HostLayout(`${home.replace(/\/+$/, '')}/${this.options.baseDir}`);
    }
    await this.ops.mkdirs([this.layout.base], { mode: '711' });
    const supervisor = await SupervisorClient.install(this.ops, this.layout, this.options.nodePath, this.options.local === true);
    if (runner.uid === 0) {
      throw new StepError('DEPLOY_RUNNER_IS_ROOT', `${this.label}: droplets would run as root; set DEPLOY_RUN_AS to an unprivileged user.`, { host: this.label });
    }
    const mode = this.options.supervision === 'auto' ? await this.detectSupervision(deployerUid) : this.options.supervision;
    if (mode === 'systemd-user' && runner.uid !== deployerUid) {
      throw new StepError('DEPLOY_RUNNER_UNSUPPORTED', `${this.label}: a systemd --user unit runs as the SSH user, not ${runner.user}; log in as root or set DEPLOY_SUPERVISOR=process.`, { host: this.label });
    }
    const launcher: SupervisorLauncher = mode === 'process' ? new ProcessLauncher(supervisor) : new SystemdLauncher(mode, this.ops, supervisor, runner.user);
    return { supervisor, launcher, runner, deployerUid };
  }

  /** systemd when it runs the host (/run/systemd/system exists): a system unit as root, a user unit otherwise. */
  private async detectSupervision(deployerUid: number): Promise<SupervisionMode> {
    if (!(await this.ops.isDirectory('/run/systemd/system'))) return 'process';
    return deployerUid === 0 ? 'systemd' : 'systemd-user';
  }
}
