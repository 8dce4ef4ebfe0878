/** Where verified droplets are deployed, and what can be done with them once they are. */
import type { DropletIdentity } from '../build.js';
import type { Deployment, DropletDeploymentView, ReconcileOutcome } from '../deployment.js';

export interface DeployRequest {
  /** The build id: deploying the same release twice is a no-op. */
  releaseId: string;
  droplet: DropletIdentity;
  /** The verified working copy (restored to the commit): its lockfile picks the installed dependencies. */
  sourceDir: string;
  commit: string;
  /** Writes a tar of the verified commit (`git archive`, never the working tree) to `file`. */
  archive(file: string): Promise<void>;
  /** The host the build asked for (a DEPLOY_HOSTS entry); default: where the droplet runs, else the least loaded. */
  host?: string | null;
  signal: AbortSignal;
  onProgress?: (message: string, data?: Record<string, unknown>) => void;
}

export interface DeployTarget {
  /** `local`, `ssh`. */
  readonly id: string;
  /** The hosts it deploys to (labels), for validation of a build's request. */
  readonly hosts: readonly string[];
  deploy(request: DeployRequest): Promise<Deployment>;
  /** Back to the previous release (or the named one), health-gated and atomic. */
  rollback(droplet: DropletIdentity, to: string | null): Promise<Deployment>;
  stop(droplet: DropletIdentity): Promise<Deployment>;
  start(droplet: DropletIdentity): Promise<Deployment>;
  /** Rolling: a new process of the same release is health-gated before the old one stops. */
  restart(droplet: DropletIdentity): Promise<Deployment>;
  /** Stops it and removes its releases and shared data from the host. */
  undeploy(droplet: DropletIdentity): Promise<void>;
  /** The live release, its health (probed, cached a few seconds) and its other releases; null when never deployed. */
  describe(droplet: DropletIdentity): Promise<DropletDeploymentView | null>;
  /** The last lines of the live release's log. */
  logs(droplet: DropletIdentity, lines: number): Promise<string>;
  /** Brings every deployment on record to its recorded state (run at executor start). */
  reconcile(): Promise<ReconcileOutcome[]>;
  /** Lets go of connections; droplets keep running under their supervisors. Returns how many. */
  close(): Promise<{ running: number }>;
}
