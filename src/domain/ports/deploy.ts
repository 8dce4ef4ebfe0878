/** Where verified droplets are deployed. */
import type { DropletIdentity } from '../build.js';
import type { Deployment } from '../deployment.js';

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


export interface DeployTarget {
  /** `local`, `ssh`, … */
  readonly id: string;
  deploy(request: DeployRequest): Promise<Deployment>;
}
