/** Which release serves which droplet, on which host of which deploy target. */
import { ConflictError } from '../domain/errors.js';
import type { DeploymentStatus, ReleaseRecord } from '../domain/deployment.js';
import type { Db } from './db.js';


/** A deployment as stored: the release (its id is the build id), where it runs from and how it stands. */
export interface DeploymentRecord extends ReleaseRecord {
  directory: string | null;
}

export type NewDeployment = Omit<DeploymentRecord, 'status'>;

interface DeploymentRow {
  release_id: string;
  droplet_id: number;
  target: string;
  host: string;
  url: string;
  pid: number | null;
  port: number | null;
  supervisor: string;
  commit_sha: string;
  directory: string | null;
  status: DeploymentStatus;
  deployed_at: string;
  started_at: string | null;
}

function toRecord(row: DeploymentRow): DeploymentRecord {
  return {
    releaseId: row.release_id,
    dropletId: row.droplet_id,
    target: row.target,
    host: row.host,
    url: row.url,
    pid: row.pid,
    port: row.port,
    supervisor: row.supervisor,
    commit: row.commit_sha,
    directory: row.directory,
    status: row.status,
    deployedAt: row.deployed_at,
    startedAt: row.started_at,
  };
}

function toParams(record: NewDeployment): Omit<DeploymentRow, 'status'> {
  return {
    release_id: record.releaseId,
    droplet_id: record.dropletId,
    target: record.target,
    host: record.host,
    url: record.url,
    pid: record.pid,
    port: record.port,
    supervisor: record.supervisor,
    commit_sha: record.commit,
    directory: record.directory,
    deployed_at: record.deployedAt,
    started_at: record.startedAt,
  };
}

const COLUMNS = ['droplet_id', 'target', 'host', 'url', 'pid', 'port', 'supervisor', 'commit_sha', 'directory', 'status', 'deployed_at', 'started_at'];
const UPSERT = `(release_id, ${COLUMNS.join(', ')}) VALUES (@release_id, ${COLUMNS.map((c) => `@${c}`).join(', ')})
  ON CONFLICT (release_id) DO UPDATE SET ${COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}`;

/** Live means meant to serve: active, or stopped on request (it comes back with start). */
const LIVE = `status IN ('active', 'stopped')`;

export class DeploymentStore {
  private readonly statements;
  private readonly activateTx;

  constructor(db: Db) {
    this.statements = {
      byRelease: db.prepare<[string], DeploymentRow>('SELECT * FROM deployments WHERE release_id = ?'),
      liveForDroplet: db.prepare<[number], DeploymentRow>(
        `SELECT * FROM deployments WHERE droplet_id = ? AND ${LIVE} ORDER BY deployed_at DESC LIMIT 1`,
      ),
      forDroplet: db.prepare<[number], DeploymentRow>('SELECT * FROM deployments WHERE droplet_id = ? ORDER BY deployed_at DESC, rowid DESC'),
      liveForTarget: db.prepare<[string], DeploymentRow>(`SELECT * FROM deployments WHERE target = ? AND ${LIVE} ORDER BY deployed_at`),
      portOnHost: db.prepare<[number, string, string], { port: number | null }>(
        `SELECT port FROM deployments WHERE droplet_id = ? AND target = ? AND host = ? AND port IS NOT NULL AND status <> 'removed'
         ORDER BY deployed_at DESC LIMIT 1`,
      ),
      portsOnHost: db.prepare<[string, string], { port: number }>(
        `SELECT DISTINCT port FROM deployments WHERE target = ? AND host = ? AND port IS NOT NULL AND status <> 'removed'`,
      ),
      upsertLive: db.prepare(`INSERT INTO deployments ${UPSERT}`),
      // A failed attempt never overwrites a release that is recorded as serving.
      upsertFailed: db.prepare(`INSERT INTO deployments ${UPSERT} WHERE deployments.status NOT IN ('active', 'stopped')`),
      transition: db.prepare<{ release_id: string; from: DeploymentStatus; to: DeploymentStatus }>(
        'UPDATE deployments SET status = @to WHERE release_id = @release_id AND status = @from',
      ),
      started: db.prepare<{ release_id: string; pid: number | null; started_at: string }>(
        `UPDATE deployments SET status = 'active', pid = @pid, started_at = @started_at WHERE release_id = @release_id AND ${LIVE}`,
      ),
      removeAll: db.prepare<[number]>(`UPDATE deployments SET status = 'removed' WHERE droplet_id = ? AND status <> 'failed'`),
    };
    this.activateTx = db.transaction((record: NewDeployment) => {
      // Whatever served this droplet before (on any host) is replaced: one live release per droplet.
      for (const row of this.statements.forDroplet.all(record.dropletId)) {
        if (row.release_id !== record.releaseId && (row.status === 'active' || row.status === 'stopped')) {
          this.statements.transition.run({ release_id: row.release_id, from: row.status, to: 'replaced' });
        }
      }
      this.statements.upsertLive.run({ ...toParams(record), status: 'active' });
    });
  }

  findByRelease(releaseId: string): DeploymentRecord | null {
    const row = this.statements.byRelease.get(releaseId);
    return row ? toRecord(row) : null;
  }

  /** The release meant to serve this droplet (active or stopped), if any. */
  findLive(dropletId: number): DeploymentRecord | null {
    const row = this.statements.liveForDroplet.get(dropletId);
    return row ? toRecord(row) : null;
  }

  /** Every release of the droplet, newest first. */
  listForDroplet(dropletId: number): DeploymentRecord[] {
    return this.statements.forDroplet.all(dropletId).map(toRecord);
  }

  /** Active and stopped releases of the target, one per droplet. */
  listLive(target: string): DeploymentRecord[] {
    return this.statements.liveForTarget.all(target).map(toRecord);
  }

  /** The public port this droplet had on this host, so a redeploy keeps its address. */
  portOf(dropletId: number, target: string, host: string): number | null {
    return this.statements.portOnHost.get(dropletId, target, host)?.port ?? null;
  }

  /** Public ports taken on a host by droplets not undeployed. */
  portsOn(target: string, host: string): Set<number> {
    return new Set(this.statements.portsOnHost.all(target, host).map((row) => row.port));
  }

  /** Records a release as serving; every other live release of the droplet becomes `replaced`, in one transaction. */
  recordActive(record: NewDeployment): DeploymentRecord {
    this.activateTx.immediate(record);
    return this.findByRelease(record.releaseId)!;
  }

  /** Records an attempt that never became healthy. Returns false when the release is recorded live. */
  recordFailed(record: NewDeployment): boolean {
    return this.statements.upsertFailed.run({ ...toParams(record), status: 'failed' }).changes === 1;
  }

  /** @throws ConflictError when the release is not active. */
  markStopped(releaseId: string): void {
    this.move(releaseId, 'active', 'stopped');
  }

  /** The live release runs again (started, restarted or brought back by reconciliation). */
  markStarted(releaseId: string, pid: number | null, startedAt: string): void {
    if (this.statements.started.run({ release_id: releaseId, pid, started_at: startedAt }).changes !== 1) {
      throw this.conflict(releaseId, 'active or stopped');
    }
  }

  /** Undeployed: none of its releases is live or kept any more. */
  markRemoved(dropletId: number): void {
    this.statements.removeAll.run(dropletId);
  }

  private move(releaseId: string, from: DeploymentStatus, to: DeploymentStatus): void {
    if (this.statements.transition.run({ release_id: releaseId, from, to }).changes !== 1) throw this.conflict(releaseId, from);
  }

  private conflict(releaseId: string, expected: string): ConflictError {
    const current = this.statements.byRelease.get(releaseId);
    return new ConflictError(
      current ? `Deployment ${releaseId} is ${current.status}, not ${expected}.` : `No deployment ${releaseId} is recorded.`,
      { release_id: releaseId, status: current?.status ?? null },
      'DEPLOYMENT_STATE_CONFLICT',
    );
  }
}
