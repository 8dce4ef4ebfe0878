import type { DropletIdentity } from '../build.js';

export interface DeployRequest {
  /** The build id: deploying the same release twice is a no-op. */
  releaseId: string;
  droplet: DropletIdentity;
  /** The verified working copy to deploy from. */
  sourceDir: string;
  commit: string;
  signal: AbortSignal;
  onProgress?: (message: string, data?: Record<string, unknown>) => void;
}

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

export interface DeployTarget {
  /** `local`, `ssh`, … */
  readonly id: string;
  deploy(request: DeployRequest): Promise<Deployment>;
}
