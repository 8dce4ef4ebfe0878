export interface DropletRegistration {
  dropletId: number;
  name: string;
  url: string | null;
  version: string;
  capabilities: string[];
  /** Provenance: the build and commit this registration came from. */
  buildId: string;
  commit: string;
}

export interface RegisteredDroplet extends DropletRegistration {
  registeredAt: string;
  updatedAt: string;
}

export interface Registry {
  /** `embedded`, `http`. */
  readonly id: string;
  /** Idempotent per build id: registering the same build twice changes nothing. */
  register(registration: DropletRegistration): Promise<{ droplet: RegisteredDroplet; changed: boolean }>;
  list(): Promise<RegisteredDroplet[]>;
}
