/** The executor's registry as composition builds it with REGISTRY_URL unset: the droplets table and the embedded fleet registry, on one database. */
import pino from 'pino';
import { DropletRegistry } from '../../src/registry/droplet-registry.js';
import { EmbeddedFleetRegistry } from '../../src/registry/embedded-fleet-registry.js';
import type { FleetRegistry } from '../../src/domain/ports/fleet-registry.js';
import type { Db } from '../../src/store/db.js';
import { DropletStore } from '../../src/store/droplets.js';
import { RegistryEntryStore } from '../../src/store/registry-entries.js';

export interface TestRegistry {
  registry: DropletRegistry;
  fleet: EmbeddedFleetRegistry;
  droplets: DropletStore;
}

export function embeddedRegistry(db: Db, options: { now?: () => Date; ttlSeconds?: number; fleet?: FleetRegistry } = {}): TestRegistry {
  const droplets = new DropletStore(db, options.now);
  // As the composition wires it: the droplets' names are reserved for them.
  const fleet = new EmbeddedFleetRegistry(new RegistryEntryStore(db), {
    defaultTtlSeconds: options.ttlSeconds ?? 90,
    isReservedName: (name) => droplets.getByName(name) !== null,
    ...(options.now ? { now: options.now } : {}),
  });
  const registry = new DropletRegistry({ id: 'embedded', droplets, fleet: options.fleet ?? fleet, ttlSeconds: options.ttlSeconds ?? 90, log: pino({ level: 'silent' }) });
  return { registry, fleet, droplets };
}
