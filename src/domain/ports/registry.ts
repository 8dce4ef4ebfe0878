/** The fleet registry. */
import type { DropletRegistration, RegisteredDroplet } from '../registration.js';

export interface Registry {
  /** `embedded`, `http`. */
  readonly id: string;
  /** Idempotent per build id: registering the same build twice changes nothing. */
  register(registration: DropletRegistration): Promise<{ droplet: RegisteredDroplet; changed: boolean }>;
  list(): Promise<RegisteredDroplet[]>;
  /** Takes an undeployed droplet out of the registry; false when it was not listed. */
  deregister(dropletId: number): Promise<boolean>;
}
