/** The fleet registry. */
import type { DropletRegistration, RegisteredDroplet } from '../registration.js';

export interface Registry {
  /** `embedded`, `http`. */
  readonly id: string;
  /** Idempotent per build id: registering the same build twice changes nothing. */
  register(registration: DropletRegistration): Promise<{ droplet: RegisteredDroplet; changed: boolean }>;
  list(): Promise<RegisteredDroplet[]>;
}
