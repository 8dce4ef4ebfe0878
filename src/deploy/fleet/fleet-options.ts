/** What the fleet target is built from, shared by the target and its lifecycle. */
import type { Deployment } from '../../domain/deployment.js';
import type { DeploymentRecord, DeploymentStore } from '../../store/deployments.js';
import type { DropletRuntimeSettings } from './droplet-config.js';
import type { FleetHost } from './fleet-host.js';

export interface FleetTargetOptions {
  id: 'local' | 'ssh';
  hosts: readonly FleetHost[];
  store: DeploymentStore;
  settings: DropletRuntimeSettings;
  /** Releases kept on a host per droplet, the live one included. */
  keepReleases: number;
  lockStaleMs: number;
  /** The executor's data dir: a lock left by an earlier run of the executor owning it is abandoned. */
  dataDir: string;
  lockWaitMs: number;
  installTimeoutMs: number;
  /** A free public port on the host, not among `taken`. */
  allocatePort(host: FleetHost, taken: ReadonlySet<number>): Promise<number>;
  redact: (text: string) => string;
}

/** A stored release as the Deployment a caller sees. */
export function toDeployment(record: DeploymentRecord, reused: boolean, childProcessMs: number): Deployment {
  const { directory: _directory, status: _status, ...deployment } = record;
  return { ...deployment, reused, childProcessMs };
}
