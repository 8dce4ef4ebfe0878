/** Which process serves which droplet release, per deploy target. */
import { ConflictError } from '../domain/errors.js';
import type { Deployment } from '../domain/deployment.js';
import type { Db } from './db.js';

export const DEPLOYMENT_STATUSES = ['active', 'replaced', 'failed', 'stopped'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/** A deployment as stored: the release (its id is the build id), where it runs from and how it stands. */
export interface DeploymentRecord extends Omit<Deployment, 'reused' | 'childProcessMs'> {
  directory: string | null;
  status: DeploymentStatus;
}

export type NewDeployment = Omit<DeploymentRecord, 'status'>;

interface DeploymentRow {
  release_id: string;
  droplet_id: number;
  target: string;
  url: string;
  pid: number | null;
  port: number | null;
  commit_sha: string;
  directory: string | null;
  status: DeploymentStatus;
  deployed_at: string;
}

function toRecord(row: DeploymentRow): DeploymentRecord {
  return {
    releaseId: row.release_id,
    dropletId: row.droplet_id,
    target: row.target,
    url: row.url,
    pid: row.pid,
    port: row.port,
    commit: row.commit_sha,
    directory: row.directory,
    status: row.status,
    deployedAt: row.deployed_at,
  };
}

function toParams(record: NewDeployment): Record<string, unknown> {
  return {
    release_id: record.releaseId,
    droplet_id: record.dropletId,
    target: record.target,
    url: record.url,
    pid: record.pid,
    port: record.port,
    commit_sha: record.commit,
    directory: record.directory,
    deployed_at: record.deployedAt,
  };
}

const UPSERT_COLUMNS = `(release_id, droplet_id, target, url, pid, port, commit_sha, directory, status, deployed_at)
  VALUES (@release_id, @droplet_id, @target, @url, @pid, @port, @commit_sha, @directory, @status, @deployed_at)
  ON CONFLICT (release_id) DO UPDATE SET droplet_id = excluded.droplet_id, target = excluded.target,
    url = excluded.url, pid = excluded.pid, port = excluded.port, commit_sha = excluded.commit_sha,
    directory = excluded.directory, status = excluded.status, deployed_at = excluded.deployed_at`;

export class DeploymentStore {
  private readonly byRelease;
  private readonly activeForDroplet;
  private readonly activeForTarget;
  private readonly upsertActive;
  private readonly upsertFailed;
  private readonly transition;
  private readonly activateTx;

  constructor(db: Db) {
    this.byRelease = db.prepare<[string], DeploymentRow>('SELECT * FROM deployments WHERE release_id = ?');
    this.activeForDroplet = db.prepare<[number, string], DeploymentRow>(
      `SELECT * FROM deployments WHERE droplet_id = ? AND target = ? AND status = 'active'
       ORDER BY deployed_at DESC LIMIT 1`,
    );
    this.activeForTarget = db.prepare<[string], DeploymentRow>(
      `SELECT * FROM deployments WHERE target = ? AND status = 'active' ORDER BY deployed_at`,
    );
    this.upsertActive = db.prepare(`INSERT INTO deployments ${UPSERT_COLUMNS}`);
    // A failed attempt never overwrites a release that is still recorded as serving.
    this.upsertFailed = db.prepare(`INSERT INTO deployments ${UPSERT_COLUMNS} WHERE deployments.status <> 'active'`);
    this.transition = db.prepare<{ release_id: string; from: DeploymentStatus; to: DeploymentStatus }>(
      'UPDATE deployments SET status = @to WHERE release_id = @release_id AND status = @from',
    );
    this.activateTx = db.transaction((record: NewDeployment, replacedReleaseId: string | null) => {
      if (replacedReleaseId !== null && replacedReleaseId !== record.releaseId) {
        this.markReplaced(replacedReleaseId);
      }
      this.upsertActive.run({ ...toParams(record), status: 'active' });
    });
  }

  findByRelease(releaseId: string): DeploymentRecord | null {
    const row = this.byRelease.get(releaseId);
    return row ? toRecord(row) : null;
  }

  /** The release currently serving this droplet on this target, if any. */
  findActive(dropletId: number, target: string): DeploymentRecord | null {
    const row = this.activeForDroplet.get(dropletId, target);
    return row ? toRecord(row) : null;
  }

  listActive(target: string): DeploymentRecord[] {
    return this.activeForTarget.all(target).map(toRecord);
  }

  /**
   * Records a release as serving, and in the same transaction the release it replaced
   * (which must still be active, else ConflictError and nothing is written).
   */
  recordActive(record: NewDeployment, replacedReleaseId: string | null = null): DeploymentRecord {
    this.activateTx.immediate(record, replacedReleaseId);
    return this.findByRelease(record.releaseId)!;
  }

  /** Records an attempt that never became healthy. Returns false when the release is recorded active. */
  recordFailed(record: NewDeployment): boolean {
    return this.upsertFailed.run({ ...toParams(record), status: 'failed' }).changes === 1;
  }

  /** @throws ConflictError when the release is not active. */
  markReplaced(releaseId: string): void {
    this.move(releaseId, 'active', 'replaced');
  }

  /** @throws ConflictError when the release is not active. */
  markFailed(releaseId: string): void {
    this.move(releaseId, 'active', 'failed');
  }

  /** @throws ConflictError when the release is not active. */
  markStopped(releaseId: string): void {
    this.move(releaseId, 'active', 'stopped');
  }

  private move(releaseId: string, from: DeploymentStatus, to: DeploymentStatus): void {
    const result = this.transition.run({ release_id: releaseId, from, to });
    if (result.changes !== 1) {
      const current = this.byRelease.get(releaseId);
      throw new ConflictError(
        current
          ? `Deployment ${releaseId} is ${current.status}, not ${from}.`
          : `No deployment ${releaseId} is recorded.`,
        { release_id: releaseId, status: current?.status ?? null },
        'DEPLOYMENT_STATE_CONFLICT',
      );
    }
  }
}
