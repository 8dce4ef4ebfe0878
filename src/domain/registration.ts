/** A droplet as the fleet registry knows it. */
export interface DropletRegistration {
  dropletId: number;
  name: string;
  url: string | null;
  /** The host it is deployed on (`local`, `user@host:port`), null when not deployed. */
  host: string | null;
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

