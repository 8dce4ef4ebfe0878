/**
 * What can be done with a deployed droplet: rollback, stop, start, restart, undeploy,
 * its live view, and reconciliation at executor start. Every action runs under the
 * droplet's deploy lock on its host, as a deploy does.
 */
import type { DropletIdentity } from '../../domain/build.js';
import type { Deployment, DropletDeploymentView, LiveHealth, ReconcileOutcome, ReleaseRecord } from '../../domain/deployment.js';
import { ConflictError, NotFoundError, StepError } from '../../domain/errors.js';
import type { DeploymentRecord } from '../../store/deployments.js';
import { isHealthy } from '../health.js';
import type { FleetHost } from './fleet-host.js';
import { toDeployment, type FleetTargetOptions } from './fleet-options.js';
import type { DropletLayout } from './layout.js';
import { switchRelease } from './release-switch.js';

type Locked = <T>(host: FleetHost, droplet: DropletLayout, action: string, owner: string, work: () => Promise<T>, waitMs?: number) => Promise<T>;

/** Reconciliation gives way to a deploy or an action in progress: it comes round again. */
const RECONCILE_LOCK_WAIT_MS = 2_000;
type WriteConfig = (host: FleetHost, droplet: DropletLayout, identity: DropletIdentity, port: number, release: string) => Promise<void>;

const HEALTH_TTL_MS = 3_000;
const START_WAIT_MS = 30_000;

export class FleetLifecycle {
  private readonly health = new Map<number, { at: number; value: LiveHealth }>();

  constructor(
    private readonly options: FleetTargetOptions,
    private readonly locked: Locked,
  ) {}

  forgetHealth(dropletId: number): void {
    this.health.delete(dropletId);
  }

  async rollback(identity: DropletIdentity, to: string | null, writeConfig: WriteConfig): Promise<Deployment> {
    const { live, host, droplet } = await this.where(identity);
    const target = await this.rollbackTarget(identity, live, host, droplet, to);
    return this.locked(host, droplet, 'rollback', `rollback-${Date.now()}`, async () => {
      const started = Date.now();
      await writeConfig(host, droplet, identity, live.port!, target.releaseId);
      const status = await (await host.launcher()).ensureRunning(droplet, identity.name);
      const { backend } = await switchRelease(host, droplet, target.releaseId, this.options.settings, this.options.redact);
      // The release keeps its deploy time, so "previous" keeps meaning the one deployed before it.
      const record = this.options.store.recordActive({ ...target, url: live.url, port: live.port, host: live.host, pid: status.pid, startedAt: backend.startedAt });
      this.forgetHealth(identity.dropletId);
      return toDeployment(record, false, Date.now() - started);
    });
  }

  async stop(identity: DropletIdentity): Promise<Deployment> {
    const { live, host, droplet } = await this.where(identity);
    return this.locked(host, droplet, 'stop', `stop-${Date.now()}`, async () => {
      await (await host.launcher()).stop(droplet, identity.name);
      if (live.status === 'active') this.options.store.markStopped(live.releaseId);
      this.forgetHealth(identity.dropletId);
      return toDeployment(this.options.store.findByRelease(live.releaseId)!, false, 0);
    });
  }

  async start(identity: DropletIdentity): Promise<Deployment> {
    const { live, host, droplet } = await this.where(identity);
    return this.locked(host, droplet, 'start', `start-${Date.now()}`, async () => {
      const started = Date.now();
      const status = await this.startSupervised(host, droplet, identity, live.releaseId);
      this.options.store.markStarted(live.releaseId, status.pid, status.startedAt);
      this.forgetHealth(identity.dropletId);
      return toDeployment(this.options.store.findByRelease(live.releaseId)!, false, Date.now() - started);
    });
  }

  async restart(identity: DropletIdentity): Promise<Deployment> {
    const { live, host, droplet } = await this.where(identity);
    if (live.status === 'stopped') return this.start(identity);
    return this.locked(host, droplet, 'restart', `restart-${Date.now()}`, async () => {
      const started = Date.now();
      const supervisor = await host.supervisor();
      const running = await (await host.launcher()).ensureRunning(droplet, identity.name);
      const result = await supervisor.restart(droplet, this.options.settings.healthTimeoutMs);
      this.options.store.markStarted(live.releaseId, running.pid, result.active.startedAt);
      this.forgetHealth(identity.dropletId);
      return toDeployment(this.options.store.findByRelease(live.releaseId)!, false, Date.now() - started);
    });
  }

  async undeploy(identity: DropletIdentity): Promise<void> {
    const live = this.options.store.findLive(identity.dropletId);
    if (!live) throw new NotFoundError(`Droplet ${identity.name} is not deployed.`, { droplet: identity.name });
    await this.removeFrom(live.host, identity);
    this.options.store.markRemoved(identity.dropletId);
    this.forgetHealth(identity.dropletId);
  }

  /** Stops the droplet on `hostLabel` and removes everything of it there. */
  async removeFrom(hostLabel: string, identity: DropletIdentity): Promise<void> {
    const host = this.hostNamed(hostLabel);
    await host.connect();
    const droplet = host.layout.droplet(identity.name);
    await this.locked(host, droplet, 'undeploy', `undeploy-${Date.now()}`, async () => {
      await (await host.launcher()).remove(droplet, identity.name);
      // The lock lives inside the droplet's directory: everything but it goes now, it goes on release.
      const entries = (await host.ops.list(droplet.dir)).filter((name) => name !== '.deploy-lock');
      await host.ops.remove(entries.map((name) => `${droplet.dir}/${name}`));
    });
    await host.ops.remove([droplet.dir]).catch(() => {});
  }

  async describe(identity: DropletIdentity): Promise<DropletDeploymentView | null> {
    const records = this.options.store.listForDroplet(identity.dropletId);
    if (records.length === 0) return null;
    const live = records.find((record) => record.status === 'active' || record.status === 'stopped') ?? null;
    const host = live && this.options.hosts.find((candidate) => candidate.label === live.host);
    const onHost = new Set(host ? await host.connect().then(() => host.ops.list(host.layout.droplet(identity.name).releasesDir)).catch(() => []) : []);
    return {
      current: live && releaseOf(live),
      health: await this.probe(live),
      releases: records
        .filter((record) => record !== live)
        .map((record) => ({ ...releaseOf(record), onHost: live !== null && record.host === live.host && onHost.has(record.releaseId) })),
    };
  }

  /** Health of the droplet's public address, probed at most every few seconds. */
  async probe(live: DeploymentRecord | null): Promise<LiveHealth> {
    const now = new Date().toISOString();
    if (!live) return { status: 'not_deployed', checkedAt: now };
    if (live.status === 'stopped') return { status: 'stopped', checkedAt: now };
    const cached = this.health.get(live.dropletId);
    if (cached && Date.now() - cached.at < HEALTH_TTL_MS) return cached.value;
    const healthy = await isHealthy(live.url, undefined, 2_000);
    const value: LiveHealth = { status: healthy ? 'healthy' : 'unreachable', checkedAt: now };
    this.health.set(live.dropletId, { at: Date.now(), value });
    return value;
  }

  async logs(identity: DropletIdentity, lines: number): Promise<string> {
    const { live, host, droplet } = await this.where(identity);
    return this.options.redact(await host.ops.tail(droplet.log(live.releaseId), lines, { asRunner: true }));
  }

  /** Every live deployment brought to its recorded state: started when it should run and does not. */
  async reconcile(): Promise<ReconcileOutcome[]> {
    const outcomes: ReconcileOutcome[] = [];
    for (const live of this.options.store.listLive(this.options.id)) {
      if (live.status !== 'active') continue;
      outcomes.push(await this.reconcileOne(live));
    }
    return outcomes;
  }

  /**
   * Under the droplet's lock, so it never undoes a stop or an undeploy in progress, and
   * only while the record still says the release should serve.
   */
  private async reconcileOne(live: DeploymentRecord): Promise<ReconcileOutcome> {
    const name = dropletNameOf(live);
    const outcome = { dropletId: live.dropletId, name, host: live.host, expected: live.releaseId };
    const stillActive = () => this.options.store.findByRelease(live.releaseId)?.status === 'active';
    try {
      const host = this.hostNamed(live.host);
      await host.connect();
      const droplet = host.layout.droplet(name);
      const reconcile = async (): Promise<ReconcileOutcome> => {
        if (!stillActive()) return { ...outcome, action: 'running' };
        const supervisor = await host.supervisor();
        const before = await supervisor.status(droplet);
        // A candidate nobody will promote: its deploy was cut off and is not running (we hold the lock).
        if (before?.candidate) await supervisor.discard(droplet, before.candidate.release);
        if (before?.active?.release === live.releaseId) return { ...outcome, action: 'running' };
        if (before?.active) return { ...outcome, action: 'unexpected_release', found: before.active.release };
        const status = await this.startSupervised(host, droplet, { dropletId: live.dropletId, name }, live.releaseId);
        this.options.store.markStarted(live.releaseId, status.pid, status.startedAt);
        this.forgetHealth(live.dropletId);
        return { ...outcome, action: 'started' };
      };
      return await this.locked(host, droplet, 'reconcile', `reconcile-${Date.now()}`, reconcile, RECONCILE_LOCK_WAIT_MS);
    } catch (error) {
      if (error instanceof StepError && error.code === 'DEPLOY_LOCKED') return { ...outcome, action: 'busy' };
      return { ...outcome, action: 'failed', detail: this.options.redact((error as Error).message) };
    }
  }

  /** Starts the supervisor (which starts `current`) and waits until it serves `release`. */
  private async startSupervised(host: FleetHost, droplet: DropletLayout, identity: DropletIdentity, release: string) {
    const status = await (await host.launcher()).ensureRunning(droplet, identity.name);
    const supervisor = await host.supervisor();
    const deadline = Date.now() + Math.max(START_WAIT_MS, this.options.settings.healthTimeoutMs + 5_000);
    for (let current = status; ; current = (await supervisor.status(droplet)) ?? current) {
      if (current.active?.healthy) {
        if (current.active.release !== release) {
          throw new ConflictError(`${identity.name} started release ${current.active.release}, not ${release}.`, { found: current.active.release }, 'UNEXPECTED_RELEASE');
        }
        return { pid: current.pid, startedAt: current.active.startedAt };
      }
      if (Date.now() > deadline) throw new ConflictError(`${identity.name} did not become healthy on ${host.label}.`, {}, 'DROPLET_NOT_HEALTHY');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  private async rollbackTarget(identity: DropletIdentity, live: DeploymentRecord, host: FleetHost, droplet: DropletLayout, to: string | null): Promise<DeploymentRecord> {
    const onHost = new Set(await host.ops.list(droplet.releasesDir));
    const candidates = this.options.store
      .listForDroplet(identity.dropletId)
      .filter((record) => record.host === live.host && record.releaseId !== live.releaseId && record.status !== 'failed' && onHost.has(record.releaseId));
    const target = to === null ? candidates.find((record) => record.deployedAt <= live.deployedAt) : candidates.find((record) => record.releaseId === to);
    if (!target) {
      throw new ConflictError(
        to === null ? `${identity.name} has no earlier release on ${live.host} to roll back to.` : `Release ${to} of ${identity.name} is not on ${live.host} (kept: ${[...onHost].filter((id) => !id.startsWith('.')).join(', ') || 'none'}).`,
        { release: to, available: candidates.map((record) => record.releaseId) },
        'NO_ROLLBACK_TARGET',
      );
    }
    return target;
  }

  private async where(identity: DropletIdentity): Promise<{ live: DeploymentRecord; host: FleetHost; droplet: DropletLayout }> {
    const live = this.options.store.findLive(identity.dropletId);
    if (!live) throw new NotFoundError(`Droplet ${identity.name} is not deployed.`, { droplet: identity.name });
    const host = this.hostNamed(live.host);
    await host.connect();
    return { live, host, droplet: host.layout.droplet(identity.name) };
  }

  private hostNamed(label: string): FleetHost {
    const host = this.options.hosts.find((candidate) => candidate.label === label);
    if (!host) throw new ConflictError(`Host ${label} is no longer configured (DEPLOY_HOSTS).`, { host: label }, 'UNKNOWN_HOST');
    return host;
  }
}

/** A stored release as clients see it: where it runs from stays the engine's. */
function releaseOf({ directory: _directory, ...release }: DeploymentRecord): ReleaseRecord {
  return release;
}

/** The droplet's name, from where its release lives: `{base}/{name}/releases/{release}`. */
function dropletNameOf(record: DeploymentRecord): string {
  return record.directory?.split('/').slice(-3, -2)[0] ?? '';
}
