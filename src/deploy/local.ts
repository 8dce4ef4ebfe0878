/**
 * Deploys a droplet as a detached Node process on this machine, health-gated: the new
 * release must answer /health before the previous one is stopped, so a release that never
 * becomes healthy leaves the previous one serving.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { CancelledError, StepError, throwIfAborted } from '../domain/errors.js';
import type { DeploymentRecord, DeploymentStore, NewDeployment } from '../store/deployments.js';
import type { DependencyStore } from '../sandbox/dependency-store.js';
import { freePort } from '../sandbox/ports.js';
import { isHealthy, waitUntilHealthy, type HealthOutcome } from './health.js';
import { isProcessAlive, runsFrom, stopProcessGroup } from './process-group.js';
import { copyRelease, dropletDataDirFor, entryPointOf, LOG_FILE, logTail, releaseDirFor } from './release.js';
import type { DeployRequest, DeployTarget } from '../domain/ports/deploy.js';
import type { Deployment } from '../domain/deployment.js';

export interface LocalDeployOptions {
  /** Releases live under `${dataDir}/deployments/`. */
  dataDir: string;
  deployments: DeploymentStore;
  /** Interface the droplet binds and the URL names. Default 127.0.0.1. */
  host?: string;
  /** How long a new release has to answer /health with `healthy`. */
  healthTimeoutMs: number;
  /** Installed dependencies shared with verification: a release links the entry its lockfile names. */
  dependencies?: DependencyStore;
  /** The only executor settings a droplet sees. */
  env: { LOG_LEVEL: string; REGISTRY_URL?: string; API_TOKEN?: string };
  /** PATH given to the droplet. Default: the running Node's directory and the system bin directories. */
  pathEnv?: string;
  /** SIGTERM → SIGKILL grace when stopping a release. Default 5000. */
  stopGraceMs?: number;
  /** Default: the Node binary running the executor. */
  nodeBinary?: string;
  /**
   * Told of a release's process group until it is recorded live, so a droplet started
   * by an executor that crashed before the health gate passed is reaped at the next start.
   */
  groups?: { record(pgid: number): void; forget(pgid: number): void };
}

const TARGET = 'local';

type ProgressFn = NonNullable<DeployRequest['onProgress']>;

/** A started release: its record-to-be, its pid, and whether its process still runs. */
interface Launched {
  record: NewDeployment;
  pid: number;
  releaseDir: string;
  startedAt: number;
  isRunning: () => boolean;
}

/** Where a release runs: its port, its identity, and the records it keeps across releases. */
interface DropletPlace {
  port: number;
  droplet: DeployRequest['droplet'];
  dataDir: string;
}

const OUTCOME_REASONS: Record<Exclude<HealthOutcome, 'healthy'>, string> = {
  timeout: 'did not answer /health with status "healthy" in time',
  exited: 'exited before it became healthy',
  aborted: 'was cancelled before it became healthy',
};

export class LocalDeployTarget implements DeployTarget {
  readonly id = TARGET;
  private readonly host: string;
  private readonly stopGraceMs: number;
  private readonly nodeBinary: string;
  private readonly pathEnv: string;

  constructor(private readonly options: LocalDeployOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.stopGraceMs = options.stopGraceMs ?? 5_000;
    this.nodeBinary = options.nodeBinary ?? process.execPath;
    this.pathEnv = options.pathEnv ?? [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter);
  }

  async deploy(request: DeployRequest): Promise<Deployment> {
    const { releaseId, droplet, signal } = request;
    const progress = request.onProgress ?? (() => {});
    const store = this.options.deployments;
    throwIfAborted(signal);

    const live = await this.reuseLiveRelease(releaseId, signal, progress);
    if (live) return live;
    const previous = store.findActive(droplet.dropletId, TARGET);

    const releaseDir = releaseDirFor(this.options.dataDir, droplet, releaseId);
    progress('Copying release', { directory: releaseDir });
    await copyRelease(request.sourceDir, releaseDir, this.options.dependencies);
    const entry = await entryPointOf(releaseDir);
    throwIfAborted(signal);

    const launched = await this.launch(request, entry, releaseDir, progress);
    await this.passHealthGate(launched, previous, signal);
    const childProcessMs = Date.now() - launched.startedAt;
    if (signal.aborted) {
      // Cancelled while the health gate passed: the previous release stays, this one goes.
      await this.discard(launched.record);
      throw new CancelledError();
    }
    progress('Droplet healthy', { url: launched.record.url, ms: childProcessMs });
    return this.switchOver(launched, previous, childProcessMs, progress);
  }

  /**
   * The same release already recorded live: reused when it still serves. When it does
   * not, it is cleared out (stopped, marked failed) so it can be started again; null then.
   */
  private async reuseLiveRelease(releaseId: string, signal: AbortSignal, progress: ProgressFn): Promise<Deployment | null> {
    const store = this.options.deployments;
    const existing = store.findByRelease(releaseId);
    if (existing?.status !== 'active' || existing.target !== TARGET) return null;
    if (await this.isServing(existing, signal)) {
      progress('Release already live', { url: existing.url, pid: existing.pid });
      return toDeployment(existing, true, 0);
    }
    await this.stopProcessOf(existing);
    store.markFailed(releaseId);
    return null;
  }

  /** Starts the release on a free port. */
  private async launch(request: DeployRequest, entry: string, releaseDir: string, progress: ProgressFn): Promise<Launched> {
    const { releaseId, droplet } = request;
    const port = await freePort(this.host);
    const url = `http://${this.host}:${port}`;
    const startedAt = Date.now();
    const dataDir = await dropletDataDirFor(this.options.dataDir, droplet);
    const child = this.start(entry, releaseDir, { port, droplet, dataDir });
    const pid = await spawned(child);
    let running = true;
    child.once('exit', () => (running = false));
    this.options.groups?.record(pid);
    progress('Droplet started', { pid, port });

    const record: NewDeployment = {
      releaseId,
      dropletId: droplet.dropletId,
      target: TARGET,
      url,
      pid,
      port,
      commit: request.commit,
      directory: releaseDir,
      deployedAt: new Date().toISOString(),
    };
    return { record, pid, releaseDir, startedAt, isRunning: () => running && isProcessAlive(pid) };
  }

  /** Waits for /health; a release that never becomes healthy is discarded and the step fails. */
  private async passHealthGate(launched: Launched, previous: DeploymentRecord | null, signal: AbortSignal): Promise<void> {
    const { record, releaseDir, isRunning } = launched;
    const { releaseId, url } = record;
    const outcome = await waitUntilHealthy({ baseUrl: url, timeoutMs: this.options.healthTimeoutMs, signal, isRunning });
    if (outcome === 'healthy') return;
    await this.discard(record);
    if (outcome === 'aborted') throw new CancelledError();
    const rollback = previous ? `; release ${previous.releaseId} keeps serving` : '';
    throw new StepError('DEPLOY_UNHEALTHY', `Release ${releaseId} ${OUTCOME_REASONS[outcome]}${rollback}.`, {
      release_id: releaseId,
      url,
      reason: outcome,
      health_timeout_ms: this.options.healthTimeoutMs,
      previous_release_id: previous?.releaseId ?? null,
      log_tail: await logTail(releaseDir, this.secrets()),
    });
  }

  /** Stops the previous release and records the new one live. */
  private async switchOver(launched: Launched, previous: DeploymentRecord | null, childProcessMs: number, progress: ProgressFn): Promise<Deployment> {
    const { record, pid } = launched;
    const { releaseId } = record;
    try {
      if (previous && previous.releaseId !== releaseId) {
        progress('Stopping previous release', { release_id: previous.releaseId, pid: previous.pid });
        await this.stopProcessOf(previous);
      }
      const active = this.options.deployments.recordActive({ ...record, deployedAt: new Date().toISOString() }, previous?.releaseId ?? null);
      // Recorded live: from now on it is meant to outlive the executor.
      this.options.groups?.forget(pid);
      return toDeployment(active, false, childProcessMs);
    } catch (error) {
      // Never leave a process the store does not know about.
      await this.discard(record);
      if (error instanceof StepError) throw error;
      throw new StepError('DEPLOY_SWITCH_FAILED', `Release ${releaseId} could not replace the previous release.`, {
        release_id: releaseId,
        previous_release_id: previous?.releaseId ?? null,
        cause: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** Stops one active release (process group and record). False when it was not active. */
  async stopDeployment(releaseId: string): Promise<boolean> {
    const record = this.options.deployments.findByRelease(releaseId);
    if (record?.status !== 'active' || record.target !== TARGET) return false;
    await this.stopProcessOf(record);
    this.options.deployments.markStopped(releaseId);
    return true;
  }

  /** Stops every active local release. Returns the release ids stopped. */
  async stopAll(): Promise<string[]> {
    const stopped: string[] = [];
    for (const record of this.options.deployments.listActive(TARGET)) {
      if (await this.stopDeployment(record.releaseId)) stopped.push(record.releaseId);
    }
    return stopped;
  }

  private async isServing(record: DeploymentRecord, signal: AbortSignal): Promise<boolean> {
    if (record.pid === null || !isProcessAlive(record.pid)) return false;
    if (record.directory !== null && !runsFrom(record.pid, record.directory)) return false;
    return isHealthy(record.url, signal);
  }

  /** Kills a recorded release's group, only when the pid is still that release's process. */
  private async stopProcessOf(record: DeploymentRecord | NewDeployment): Promise<void> {
    if (record.pid === null) return;
    if (record.directory !== null && !runsFrom(record.pid, record.directory)) return;
    try {
      await stopProcessGroup(record.pid, this.stopGraceMs);
    } catch (error) {
      throw new StepError('DEPLOY_STOP_FAILED', `Release ${record.releaseId} (pid ${record.pid}) could not be stopped.`, {
        release_id: record.releaseId,
        pid: record.pid,
        cause: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** Kills a release that never went live and records it failed. */
  private async discard(record: NewDeployment): Promise<void> {
    if (record.pid !== null) await stopProcessGroup(record.pid, this.stopGraceMs).catch(() => {});
    if (record.pid !== null) this.options.groups?.forget(record.pid);
    this.options.deployments.recordFailed(record);
  }

  private start(entry: string, releaseDir: string, place: DropletPlace): ChildProcess {
    const log = openSync(join(releaseDir, LOG_FILE), 'a');
    try {
      const child = spawn(this.nodeBinary, [entry], {
        cwd: releaseDir,
        env: this.dropletEnv(place),
        // Own process group, not tied to the executor: the droplet outlives it.
        detached: true,
        stdio: ['ignore', log, log],
      });
      child.unref();
      return child;
    } finally {
      closeSync(log);
    }
  }

  /** Built from scratch: the executor's own environment (and its secrets) never reaches a droplet. */
  private dropletEnv({ port, droplet, dataDir }: DropletPlace): Record<string, string> {
    const { env } = this.options;
    return {
      PATH: this.pathEnv,
      LANG: 'C.UTF-8',
      TZ: 'UTC',
      NODE_ENV: 'production',
      SERVICE_NAME: droplet.name,
      SERVICE_PORT: String(port),
      HOST: this.host,
      DROPLET_ID: String(droplet.dropletId),
      ENVIRONMENT: 'production',
      LOG_LEVEL: env.LOG_LEVEL,
      DATA_DIR: dataDir,
      ...(env.REGISTRY_URL ? { REGISTRY_URL: env.REGISTRY_URL } : {}),
      ...(env.API_TOKEN ? { API_TOKEN: env.API_TOKEN } : {}),
    };
  }

  private secrets(): string[] {
    return this.options.env.API_TOKEN ? [this.options.env.API_TOKEN] : [];
  }
}

/** Resolves with the pid once the process exists; a spawn failure is a StepError. */
function spawned(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    // Kept attached for the child's whole life: a late 'error' must not crash the executor.
    child.on('error', (error) =>
      reject(new StepError('DEPLOY_SPAWN_FAILED', `The droplet process could not be started: ${error.message}`)),
    );
    child.once('spawn', () => resolve(child.pid!));
  });
}

function toDeployment(record: DeploymentRecord, reused: boolean, childProcessMs: number): Deployment {
  return {
    releaseId: record.releaseId,
    dropletId: record.dropletId,
    target: record.target,
    url: record.url,
    pid: record.pid,
    port: record.port,
    commit: record.commit,
    deployedAt: record.deployedAt,
    reused,
    childProcessMs,
  };
}
