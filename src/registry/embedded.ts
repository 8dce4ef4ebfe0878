/** The built-in registry: the executor's own SQLite table of droplets. */
import type { DropletStore } from '../store/droplets.js';
import type { Registry } from '../domain/ports/registry.js';
import type { DropletRegistration, RegisteredDroplet } from '../domain/registration.js';

export class EmbeddedRegistry implements Registry {
  readonly id = 'embedded';

  constructor(private readonly droplets: DropletStore) {}

  /** Idempotent per build id; a new build of a known droplet keeps its `registeredAt`. */
  async register(registration: DropletRegistration): Promise<{ droplet: RegisteredDroplet; changed: boolean }> {
    return this.droplets.upsert(registration);
  }

  async list(): Promise<RegisteredDroplet[]> {
    return this.droplets.list();
  }

  async deregister(dropletId: number): Promise<boolean> {
    return this.droplets.deregister(dropletId);
  }

  async get(dropletId: number): Promise<RegisteredDroplet | null> {
    return this.droplets.get(dropletId);
  }
}
