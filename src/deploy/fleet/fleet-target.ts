/**
 * The deploy target: every host (local, or SSH hosts) runs the same release, switch,
 * supervision and rollback logic through its shell. Releases are keyed by build id, so
 * a resumed deploy (after a crash or a retry) finds what is already on the host and goes
 * on from there: the upload, the install, the switch and the record are each idempotent.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { DropletIdentity } from '../../domain/build.js';
import type { Deployment, DropletDeploymentView, ReconcileOutcome } from '../../domain/deployment.js';
import { ConflictError, StepError, throwIfAborted } from '../../domain/errors.js';
import type { DeployRequest, DeployTarget } from '../../domain/ports/deploy.js';
import type { DeploymentRecord, NewDeployment } from '../../store/deployments.js';
import { acquireDeployLock, type HeldLock } from './deploy-lock.js';
import { dropletEnvFile, entriesOf, entryOf, supervisorConfig } from './droplet-config.js';
import { readRegularFile } from '../../support/files.js';
import { ShellError } from '../shell/types.js';
import type { FleetHost } from './fleet-host.js';
import { toDeployment, type FleetTargetOptions } from './fleet-options.js';
import { FleetLifecycle } from './fleet-lifecycle.js';
import { isReleaseId, type DropletLayout } from './layout.js';
import { pruneReleases } from './prune.js';
import { ensureRelease } from './release-upload.js';
import { switchRelease } from './release-switch.js';


type Progress = NonNullable<DeployRequest['onProgress']>;

export class FleetDeployTarget implements DeployTarget {
  readonly id: string;
  readonly hosts: readonly string[];
  private readonly lifecycle: FleetLifecycle;
  /** This run of the executor, in the locks it takes. */
  private readonly instance = randomUUID();

  constructor(private readonly options: FleetTargetOptions) {
    this.id = options.id;
    this.hosts = options.hosts.map((host) => host.label);
    this.lifecycle = new FleetLifecycle(options, (host, droplet, action, owner, work, waitMs) => this.locked(host, droplet, action, owner, work, waitMs));
  }

  async deploy(request: DeployRequest): Promise<Deployment> {
    const { releaseId, droplet: identity, signal } = request;
    const progress: Progress = request.onProgress ?? (() => {});
    throwIfAborted(signal);
    const host = this.place(identity, request.host ?? null);
    await this.connect(host);
    const droplet = host.layout.droplet(identity.name);
    return this.locked(host, droplet, 'deploy', releaseId, () => this.deployLocked(host, droplet, request, progress));
  }

  /** Under the droplet's lock on its host: release, config, supervisor, switch, record, prune. */
  private async deployLocked(host: FleetHost, droplet: DropletLayout, request: DeployRequest, progress: Progress): Promise<Deployment> {
    const { releaseId, droplet: identity, signal } = request;
    const startedAt = Date.now();
    await host.prepareDroplet(droplet);
    const port = await this.portFor(host, identity);
    const base: NewDeployment = {
      releaseId,
      dropletId: identity.dropletId,
      target: this.id,
      host: host.label,
      url: host.urlFor(port),
      pid: null,
      port,
      supervisor: (await host.launcher()).describe(identity.name),
      commit: request.commit,
      directory: droplet.release(releaseId),
      deployedAt: new Date().toISOString(),
      startedAt: null,
    };
    const live = this.options.store.findLive(identity.dropletId);
    try {
      // The supervisor is made ready while the release goes up: it starts nothing until the switch.
      const entry = entryOf(await readManifest(request.sourceDir));
      const [{ uploaded }, status] = await Promise.all([
        ensureRelease({ ...request, ops: host.ops, host: host.layout, droplet, installer: host.installer, installTimeoutMs: this.options.installTimeoutMs, progress }),
        this.writeConfig(host, droplet, identity, port, releaseId, entry).then(async () => (await host.launcher()).ensureRunning(droplet, identity.name)),
      ]);
      if (!uploaded) progress('Release already on the host', { host: host.label, release: releaseId });
      throwIfAborted(signal);
      progress('Supervisor running', { host: host.label, pid: status.pid, port });
      const { backend, switched } = await switchRelease(host, droplet, releaseId, this.options.settings, this.options.redact);
      progress(switched ? 'Traffic switched to the new release' : 'Release already live', { release: releaseId, url: base.url });
      const record = this.options.store.recordActive({ ...base, pid: status.pid, startedAt: backend.startedAt });
      await this.leaveOldHost(live, host, identity);
      await this.prune(host, droplet, identity, releaseId, progress);
      this.lifecycle.forgetHealth(identity.dropletId);
      return toDeployment(record, !switched, Date.now() - startedAt);
    } catch (error) {
      if (!(error instanceof ConflictError)) this.options.store.recordFailed(base);
      // A droplet stopped on request that this deploy's supervisor start woke up goes back to sleep.
      if (live?.status === 'stopped' && live.host === host.label) await (await host.launcher()).stop(droplet, identity.name).catch(() => {});
      throw error;
    }
  }

  /** The release serves already: a prune that fails is said, not a failed deploy. */
  private async prune(host: FleetHost, droplet: DropletLayout, identity: DropletIdentity, live: string, progress: Progress): Promise<void> {
    try {
      const pruned = await pruneReleases(host.ops, droplet, this.options.store.listForDroplet(identity.dropletId), live, this.options.keepReleases);
      if (pruned.length > 0) progress('Old releases removed', { releases: pruned });
    } catch (error) {
      progress('Old releases could not be removed', { reason: this.options.redact((error as Error).message) });
    }
  }

  rollback(droplet: DropletIdentity, to: string | null): Promise<Deployment> {
    return this.lifecycle.rollback(droplet, to, async (host, layout, identity, port, release) =>
      this.writeConfig(host, layout, identity, port, release, entryOf(await host.ops.readFile(`${layout.release(release)}/package.json`))),
    );
  }
  stop(droplet: DropletIdentity): Promise<Deployment> {
    return this.lifecycle.stop(droplet);
  }
  start(droplet: DropletIdentity): Promise<Deployment> {
    return this.lifecycle.start(droplet);
  }
  restart(droplet: DropletIdentity): Promise<Deployment> {
    return this.lifecycle.restart(droplet);
  }
  undeploy(droplet: DropletIdentity): Promise<void> {
    return this.lifecycle.undeploy(droplet);
  }
  describe(droplet: DropletIdentity): Promise<DropletDeploymentView | null> {
    return this.lifecycle.describe(droplet);
  }
  logs(droplet: DropletIdentity, lines: number): Promise<string> {
    return this.lifecycle.logs(droplet, lines);
  }
  reconcile(): Promise<ReconcileOutcome[]> {
    return this.lifecycle.reconcile();
  }

  async close(): Promise<{ running: number }> {
    const running = this.options.store.listLive(this.id).filter((record) => record.status === 'active').length;
    await Promise.allSettled(this.options.hosts.map((host) => host.close()));
    return { running };
  }

  /** The requested host; else where the droplet runs; else the host with the fewest droplets. */
  private place(identity: DropletIdentity, requested: string | null): FleetHost {
    const { hosts, store } = this.options;
    if (requested) {
      const host = hosts.find((candidate) => candidate.label === requested);
      if (!host) throw new StepError('DEPLOY_UNKNOWN_HOST', `Host "${requested}" is not one of DEPLOY_HOSTS (${this.hosts.join(', ')}).`, { host: requested });
      return host;
    }
    const live = store.findLive(identity.dropletId);
    const current = live && hosts.find((host) => host.label === live.host);
    if (current) return current;
    const load = new Map(hosts.map((host) => [host.label, 0]));
    for (const record of store.listLive(this.id)) load.set(record.host, (load.get(record.host) ?? 0) + 1);
    return [...hosts].sort((a, b) => load.get(a.label)! - load.get(b.label)!)[0]!;
  }

  /** The droplet's public port on this host (kept across releases), else a new one. */
  private async portFor(host: FleetHost, identity: DropletIdentity): Promise<number> {
    const kept = this.options.store.portOf(identity.dropletId, this.id, host.label);
    if (kept !== null) return kept;
    return this.options.allocatePort(host, this.options.store.portsOn(this.id, host.label));
  }

  /**
   * `.env` and `supervisor.json`, with `release`'s entry point added to those of the releases
   * already there: each release starts from its own `main`, whichever was deployed last.
   */
  private async writeConfig(host: FleetHost, droplet: DropletLayout, identity: DropletIdentity, port: number, release: string, entry: string): Promise<void> {
    const { settings } = this.options;
    const kept = new Set((await host.ops.list(droplet.releasesDir)).filter(isReleaseId));
    const entries = Object.fromEntries(Object.entries(entriesOf(await host.ops.readFile(droplet.config))).filter(([id]) => kept.has(id)));
    entries[release] = entry;
    await host.writeEnv(droplet, dropletEnvFile(identity, droplet, settings));
    await host.ops.writeFile(droplet.config, `${JSON.stringify(supervisorConfig(identity, droplet, port, entries, settings), null, 2)}\n`, { mode: '644' });
  }

  /** A droplet moved to another host: its copy on the old one is stopped and removed once the new one serves. */
  private async leaveOldHost(previous: DeploymentRecord | null, host: FleetHost, identity: DropletIdentity): Promise<void> {
    if (!previous || previous.host === host.label) return;
    await this.lifecycle.removeFrom(previous.host, identity).catch(() => {});
  }

  /** Connected, with a failure to reach or trust the host said as a step error. */
  private async connect(host: FleetHost): Promise<void> {
    await host.connect().catch((error: unknown) => {
      throw asHostError(error, host.label);
    });
  }

  private async locked<T>(host: FleetHost, droplet: DropletLayout, action: string, owner: string, work: () => Promise<T>, waitMs = this.options.lockWaitMs): Promise<T> {
    await this.connect(host);
    await host.ops.mkdirs([droplet.dir], { mode: '755' });
    const lock: HeldLock = await acquireDeployLock(host.ops, droplet, { release: owner, action, executor: this.instance, dataDir: this.options.dataDir }, {
      staleMs: this.options.lockStaleMs,
      waitMs,
    });
    try {
      return await work();
    } catch (error) {
      throw asHostError(error, host.label);
    } finally {
      await lock.release().catch(() => {});
    }
  }
}

/** A shell failure (host key, connection, timeout) as the step error a user can act on; others unchanged. */
function asHostError(error: unknown, host: string): unknown {
  if (!(error instanceof ShellError)) return error;
  const code = error.code === 'HOST_KEY_MISMATCH' || error.code === 'HOST_KEY_UNKNOWN' ? 'DEPLOY_HOST_KEY_REFUSED' : 'DEPLOY_HOST_UNREACHABLE';
  return new StepError(code, `${host}: ${error.message}`, { host, reason: error.code });
}

/** The verified working copy's package.json (restored to the commit the release is made of), read like any file generated code wrote. */
async function readManifest(sourceDir: string): Promise<string | null> {
  const read = await readRegularFile(join(sourceDir, 'package.json'), { maxBytes: 1024 * 1024, within: sourceDir });
  return read.status === 'read' ? read.content.toString('utf8') : null;
}
