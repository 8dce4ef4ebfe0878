/**
 * The registry as the executor sees it: its own directory of droplets (ids, names, the
 * latest registration of each) kept in step with the fleet registry (embedded, or the one
 * at REGISTRY_URL) that other droplets read.
 */
import type { DropletRegistration, RegisteredDroplet } from '../registration.js';

/** What a heartbeat reports: the health probe's answer. */
export type HeartbeatHealth = 'healthy' | 'degraded' | 'unhealthy';

/**
 * `renewed`: the fleet entry's lease was extended. `reregistered`: the fleet had lost the
 * entry (expired, or the registry restarted empty) and it was registered again from the
 * last registration. `not_registered`: the droplet has no fleet entry to keep alive
 * (never deployed, or undeployed).
 */
export type HeartbeatOutcome = 'renewed' | 'reregistered' | 'not_registered';

export interface RegisterResult {
  droplet: RegisteredDroplet;
  /** False when this build was already the droplet's registration, locally and in the fleet. */
  changed: boolean;
  /** The fleet registry's entry; null when nothing was sent to it (the build deployed nothing). */
  fleet: { entryId: number; changed: boolean; created: boolean } | null;
}

export interface Registry {
  /** `embedded` (the executor is the fleet registry) or `http` (REGISTRY_URL). */
  readonly id: string;
  /**
   * Idempotent per build id: registering the same build twice changes nothing. A deployed
   * build (with a url) is registered in the fleet too, with its provenance.
   */
  register(registration: DropletRegistration): Promise<RegisterResult>;
  /** The droplet's latest registration, also after it was deregistered (its version goes on from there). */
  lastRegistration(dropletId: number): Promise<RegisteredDroplet | null>;
  /** The registered (not deregistered) droplets, by id. */
  list(): Promise<RegisteredDroplet[]>;
  /** Takes an undeployed droplet out of the directory and the fleet; false when it was not listed. */
  deregister(dropletId: number): Promise<boolean>;
  /** Renews the droplet's fleet entry with the probed health; re-registers it when the fleet answers 404. */
  heartbeat(dropletId: number, health: HeartbeatHealth): Promise<HeartbeatOutcome>;
}
