/** A release of a droplet, live on a host of a deploy target, and what is known of it. */

/** How a release stands: serving (or meant to), replaced by a newer one, never healthy, stopped on request, undeployed. */
export const DEPLOYMENT_STATUSES = ['active', 'replaced', 'failed', 'stopped', 'removed'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export interface Deployment {
  releaseId: string;
  dropletId: number;
  /** `local` or `ssh`. */
  target: string;
  /** The host it runs on: `local`, or `user@host:port`. */
  host: string;
  /** The droplet's stable public address (kept across releases). */
  url: string;
  /** The supervisor's pid on its host, when it is a plain process (null under systemd). */
  pid: number | null;
  /** The public port, kept across releases. */
  port: number | null;
  /** What keeps it running: `process` (the project's supervisor) or `systemd:<unit>` / `systemd-user:<unit>`. */
  supervisor: string;
  commit: string;
  deployedAt: string;
  /** When its current process started serving. */
  startedAt: string | null;
  /** True when this release was already live and nothing was started. */
  reused: boolean;
  /** Wall time spent starting and health-gating the release. */
  childProcessMs: number;
}

/** A release as stored, without the per-call facts. */
export interface ReleaseRecord extends Omit<Deployment, 'reused' | 'childProcessMs'> {
  status: DeploymentStatus;
}

/** The droplet's health as the executor last probed it on its public address. */
export interface LiveHealth {
  status: 'healthy' | 'unhealthy' | 'unreachable' | 'stopped' | 'not_deployed';
  checkedAt: string;
  /** What /health answered (its `status`), or why it could not be asked. */
  detail?: string;
}

export interface DropletDeploymentView {
  /** The droplet's current release (active or stopped), null once undeployed. */
  current: ReleaseRecord | null;
  health: LiveHealth;
  /** Its other releases, newest first, with whether the host still holds them (rollback targets). */
  releases: (ReleaseRecord & { onHost: boolean })[];
}

/** What reconciliation at executor start did for one deployment. */
export interface ReconcileOutcome {
  dropletId: number;
  name: string;
  host: string;
  /** `busy`: a deploy or an action held the droplet; it is looked at again next time. */
  action: 'running' | 'started' | 'unexpected_release' | 'failed' | 'busy';
  /** The release recorded live, and the one found running (unexpected_release). */
  expected: string;
  found?: string | null;
  detail?: string;
}
