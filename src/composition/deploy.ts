/**
 * The deploy target the configuration asks for: `local` (this machine, one host) or
 * `ssh` (SSH_HOST, or every DEPLOY_HOSTS entry). Both are the same fleet engine over a
 * different shell; only what differs is chosen here: who droplets run as, the sandbox
 * they run in, how dependencies reach a release, and which ports they get.
 */
import { homedir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { HostNpmInstaller, StoreLinkInstaller } from '../deploy/fleet/dependencies.js';
import type { DropletRuntimeSettings } from '../deploy/fleet/droplet-config.js';
import { FleetHost } from '../deploy/fleet/fleet-host.js';
import { FleetDeployTarget } from '../deploy/fleet/fleet-target.js';
import type { DropletLayout } from '../deploy/fleet/layout.js';
import { portAllocator, type PortRange } from '../deploy/fleet/public-ports.js';
import { ensureRunnerUser } from '../deploy/runner-user.js';
import { LocalShell } from '../deploy/shell/local-shell.js';
import { SshShell } from '../deploy/shell/ssh-shell.js';
import { parseSshTargets } from '../deploy/shell/ssh-target-spec.js';
import { StepError } from '../domain/errors.js';
import type { DeployTarget } from '../domain/ports/deploy.js';
import { executorSecretPaths } from '../sandbox/bubblewrap.js';
import type { DependencyStore } from '../sandbox/dependency-store.js';
import { freePort } from '../sandbox/ports.js';
import { DROPLET_HOME, probeServiceSandbox, serviceSandboxArgv } from '../sandbox/service-sandbox.js';
import type { SandboxChoice } from '../sandbox/sandbox-factory.js';
import type { Db } from '../store/db.js';
import { DeploymentStore } from '../store/deployments.js';
import type { Config } from './config.js';
import { fleetRegistryUrl } from './registry.js';

export interface DeployInputs {
  config: Config;
  db: Db;
  dependencies: DependencyStore;
  sandbox: SandboxChoice;
  redact: (text: string) => string;
  log: Logger;
}

const SYSTEM_PATH = '/usr/local/bin:/usr/bin:/bin';

function portRange(text: string | undefined): PortRange | null {
  if (!text) return null;
  const [min, max] = text.split('-').map(Number) as [number, number];
  if (!(min >= 1 && max <= 65_535 && min <= max)) throw new Error(`DEPLOY_PORTS=${text}: must be min-max within 1-65535.`);
  return { min, max };
}

function runtimeSettings(config: Config, nodePath: string, pathEnv: string, bindHost: string, launchPrefix: (droplet: DropletLayout) => string[], home?: string): DropletRuntimeSettings {
  return {
    nodePath,
    pathEnv,
    bindHost,
    logLevel: config.LOG_LEVEL === 'silent' ? 'info' : config.LOG_LEVEL,
    registryUrl: fleetRegistryUrl(config),
    ...(config.DROPLET_API_TOKEN ? { apiToken: config.DROPLET_API_TOKEN } : {}),
    healthTimeoutMs: config.START_TIMEOUT_SECONDS * 1000,
    stopGraceMs: 5_000,
    drainTimeoutMs: 10_000,
    holdRequestsMs: 10_000,
    launchPrefix,
    ...(home ? { home } : {}),
  };
}

function targetOptions(config: Config, inputs: DeployInputs, hosts: FleetHost[], settings: DropletRuntimeSettings, range: PortRange | null) {
  return {
    hosts,
    store: new DeploymentStore(inputs.db),
    settings,
    keepReleases: config.DEPLOY_KEEP_RELEASES,
    lockStaleMs: config.DEPLOY_LOCK_STALE_SECONDS * 1000,
    dataDir: config.dataDir,
    lockWaitMs: config.DEPLOY_LOCK_WAIT_SECONDS * 1000,
    installTimeoutMs: config.INSTALL_TIMEOUT_SECONDS * 1000,
    // No range (only `local` may go without): this machine's kernel hands out a free port, asked in-process.
    allocatePort: range ? portAllocator(settings.bindHost, settings.nodePath, range) : () => freePort(settings.bindHost),
    redact: inputs.redact,
  };
}

/** This machine: droplets as an unprivileged user, in a long-lived bubblewrap sandbox when bubblewrap works here. */
async function localTarget(config: Config, inputs: DeployInputs): Promise<DeployTarget> {
  const runner = await ensureRunnerUser(config.DEPLOY_RUN_AS);
  const own = userInfo();
  if (runner.uid === own.uid) inputs.log.warn({ user: runner.user }, 'droplets run as the executor user: run the executor as root to give them a user of their own');
  // Verification's probe ran as root; the droplet's sandbox runs as the runner, whose user namespaces may be off.
  const refused = inputs.sandbox.kind === 'bubblewrap' ? await probeServiceSandbox(runner, config.BWRAP_PATH) : 'verification runs without bubblewrap';
  const sandboxed = refused === null;
  const required = !sandboxed && config.SANDBOX === 'required';
  if (required) inputs.log.error({ reason: refused }, `SANDBOX=required, but droplets cannot run in bubblewrap as ${runner.user}: deploys are refused`);
  else if (!sandboxed) inputs.log.warn({ reason: refused }, 'droplets run without bubblewrap: only file permissions keep them from the executor data dir');
  if (!config.API_TOKEN) inputs.log.warn('API_TOKEN is not set: deployed droplets share this machine\'s loopback and can call the executor API; set API_TOKEN');
  const dependenciesDir = join(config.dataDir, 'dependencies');
  const baseDir = config.DEPLOY_BASE_DIR ?? join(config.dataDir, 'deployments');
  // Every droplet's directory is hidden from every droplet; its own release and shared/ are bound back.
  const hiddenPaths = [...executorSecretPaths({ dataDir: config.dataDir, homeDir: homedir(), cwd: process.cwd() }), baseDir];
  const launchPrefix = (droplet: DropletLayout) => {
    if (required) throw new StepError('DEPLOY_SANDBOX_UNAVAILABLE', `SANDBOX=required, but droplets cannot run in bubblewrap as ${runner.user}: ${refused}.`);
    return sandboxed
      ? serviceSandboxArgv({ bwrapPath: config.BWRAP_PATH, hiddenPaths, release: '{release}', shared: droplet.sharedDir, readOnly: [dependenciesDir], nodePath: process.execPath })
      : [];
  };
  const bindHost = config.DEPLOY_BIND_HOST ?? config.DEPLOY_HOST;
  const pathEnv = [...new Set([dirname(process.execPath), ...SYSTEM_PATH.split(':')])].join(':');
  const settings = runtimeSettings(config, process.execPath, pathEnv, bindHost, launchPrefix, sandboxed ? DROPLET_HOME : undefined);
  const host = new FleetHost({
    shell: new LocalShell({ runAs: runner, address: config.DEPLOY_HOST }),
    baseDir,
    nodePath: process.execPath,
    supervision: config.DEPLOY_SUPERVISOR,
    installer: new StoreLinkInstaller(inputs.dependencies, new HostNpmInstaller(config.DEPLOY_NPM_PATH)),
    urlTemplate: config.DEPLOY_PUBLIC_URL_TEMPLATE,
    local: true,
  });
  return new FleetDeployTarget({ id: 'local', ...targetOptions(config, inputs, [host], settings, portRange(config.DEPLOY_PORTS)) });
}

/** SSH hosts: droplets run as the SSH user (or DEPLOY_RUN_AS through sudo), installed with npm on the host. */
function sshTarget(config: Config, inputs: DeployInputs): DeployTarget {
  const list = config.DEPLOY_HOSTS ?? `${config.SSH_USER ? `${config.SSH_USER}@` : ''}${config.SSH_HOST}:${config.SSH_PORT}`;
  const targets = parseSshTargets(list, { ...(config.SSH_USER ? { user: config.SSH_USER } : {}), port: config.SSH_PORT });
  const hostKey = {
    ...(config.SSH_HOST_FINGERPRINT ? { fingerprint: config.SSH_HOST_FINGERPRINT } : {}),
    knownHostsFile: config.SSH_KNOWN_HOSTS ?? join(config.dataDir, 'known_hosts'),
    acceptNew: config.SSH_ACCEPT_NEW_HOST_KEY,
  };
  const hosts = targets.map(
    (target) =>
      new FleetHost({
        shell: new SshShell({
          host: target.host,
          port: target.port,
          user: target.user,
          ...(config.SSH_KEY_PATH ? { privateKeyPath: config.SSH_KEY_PATH } : {}),
          ...(config.SSH_AUTH_SOCK ? { agent: config.SSH_AUTH_SOCK } : {}),
          hostKey,
          ...(config.DEPLOY_RUN_AS ? { runAs: config.DEPLOY_RUN_AS } : {}),
        }),
        baseDir: config.DEPLOY_BASE_DIR ?? 'droplets',
        nodePath: config.DEPLOY_NODE_PATH,
        supervision: config.DEPLOY_SUPERVISOR,
        installer: new HostNpmInstaller(config.DEPLOY_NPM_PATH),
        urlTemplate: config.DEPLOY_PUBLIC_URL_TEMPLATE,
      }),
  );
  const settings = runtimeSettings(config, config.DEPLOY_NODE_PATH, SYSTEM_PATH, config.DEPLOY_BIND_HOST ?? '0.0.0.0', () => []);
  return new FleetDeployTarget({ id: 'ssh', ...targetOptions(config, inputs, hosts, settings, portRange(config.DEPLOY_PORTS ?? '20000-29999')) });
}

export async function createDeployTarget(config: Config, inputs: Omit<DeployInputs, 'config'>): Promise<DeployTarget | null> {
  if (config.DEPLOY_TARGET === 'none') return null;
  return config.DEPLOY_TARGET === 'ssh' ? sshTarget(config, { ...inputs, config }) : localTarget(config, { ...inputs, config });
}
