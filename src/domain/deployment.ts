/** A release of a droplet, live on a target. */
export interface Deployment {
  releaseId: string;
  dropletId: number;
  target: string;
  url: string;
  pid: number | null;
  port: number | null;
  commit: string;
  deployedAt: string;
  /** True when this release was already live and nothing was started. */
  reused: boolean;
  /** Wall time spent in child processes (starting and health-gating the droplet). */
  childProcessMs: number;
}
