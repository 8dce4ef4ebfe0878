/**
 * The registry the configuration asks for. REGISTRY_URL unset: the executor is the fleet
 * registry (EmbeddedFleetRegistry over its own database), served to peers under
 * `/registry`. Set: the registry at that URL (HttpFleetRegistry), and no `/registry`
 * routes here. Either way the executor's view is one DropletRegistry over its droplets
 * table and that fleet registry, and heartbeats keep the droplets it deployed alive there.
 */
import type { Logger } from 'pino';
import type { DeployTarget } from '../domain/ports/deploy.js';
import type { FleetRegistry } from '../domain/ports/fleet-registry.js';
import type { Registry } from '../domain/ports/registry.js';
import { startHeartbeats, type Heartbeats } from '../pipeline/heartbeats.js';
import { DropletRegistry } from '../registry/droplet-registry.js';
import { EmbeddedFleetRegistry } from '../registry/embedded-fleet-registry.js';
import { HttpFleetRegistry } from '../registry/http-fleet-registry.js';
import type { Db } from '../store/db.js';
import type { DropletStore } from '../store/droplets.js';
import { RegistryEntryStore } from '../store/registry-entries.js';
import type { Config } from './config.js';

export interface RegistryChoice {
  registry: Registry;
  /** The embedded fleet registry, for the `/registry` routes; undefined with REGISTRY_URL. */
  served: FleetRegistry | undefined;
  /** Where deployed droplets (and peers) find the fleet registry: REGISTRY_URL, else this executor's `/registry`. */
  url: string;
  /** Heartbeats for the deployed droplets from now on (the first round at once). */
  startHeartbeats(target: DeployTarget | null): void;
  close(): Promise<void>;
}

function fleetRegistryOf(config: Config, db: Db, droplets: DropletStore, redact: (text: string) => string, log: Logger): { fleet: EmbeddedFleetRegistry | HttpFleetRegistry; embedded: boolean } {
  if (config.REGISTRY_URL) {
    const fleet = new HttpFleetRegistry({
      url: config.REGISTRY_URL,
      ...(config.REGISTRY_TOKEN ? { token: config.REGISTRY_TOKEN } : {}),
      timeoutMs: config.REGISTRY_TIMEOUT_SECONDS * 1000,
      maxAttempts: config.REGISTRY_MAX_ATTEMPTS,
      redact,
      onRetry: (retry) => log.warn({ request: retry.request, attempt: retry.attempt, reason: retry.reason, delay_ms: retry.delayMs }, 'the fleet registry did not answer: retrying'),
    });
    return { fleet, embedded: false };
  }
  // The names of this executor's droplets stay theirs, also while their entries have expired.
  const fleet = new EmbeddedFleetRegistry(new RegistryEntryStore(db), {
    defaultTtlSeconds: config.REGISTRY_TTL_SECONDS,
    isReservedName: (name) => droplets.getByName(name) !== null,
  });
  // Expired entries are never answered; the sweep only keeps the table small.
  fleet.startSweeping(Math.max(1, config.REGISTRY_HEARTBEAT_SECONDS) * 1000);
  return { fleet, embedded: true };
}

/** Where deployed droplets (and peers) find the fleet registry: REGISTRY_URL, else this executor's `/registry`. */
export function fleetRegistryUrl(config: Pick<Config, 'REGISTRY_URL' | 'publicUrl'>): string {
  if (!config.REGISTRY_URL) return `${config.publicUrl}/registry`;
  // Credentials in REGISTRY_URL are the executor's: generated code never receives them.
  const url = new URL(config.REGISTRY_URL);
  url.username = '';
  url.password = '';
  return url.href.replace(/\/+$/, '');
}

/** Where the entry tokens the executor holds are made secrets (the redactor behind the log, events and errors). */
export interface HeldSecrets {
  add(values: Iterable<string>): void;
}

export function createRegistry(config: Config, db: Db, droplets: DropletStore, redact: (text: string) => string, log: Logger, secrets?: HeldSecrets): RegistryChoice {
  const { fleet, embedded } = fleetRegistryOf(config, db, droplets, redact, log);
  // Entry tokens are credentials: redacted like the configured secrets, those held from earlier runs too.
  secrets?.add(droplets.entryTokens());
  const registry = new DropletRegistry({
    id: embedded ? 'embedded' : 'http',
    ...{ droplets, fleet, ttlSeconds: config.REGISTRY_TTL_SECONDS, log },
    ...(secrets ? { onEntryToken: (token: string) => secrets.add([token]) } : {}),
  });
  let heartbeats: Heartbeats | undefined;
  return {
    registry,
    served: embedded ? fleet : undefined,
    url: fleetRegistryUrl(config),
    startHeartbeats(target) {
      if (!target || heartbeats) return;
      heartbeats = startHeartbeats({ registry, target, log }, config.REGISTRY_HEARTBEAT_SECONDS);
      void heartbeats.beat();
    },
    async close() {
      const stopping = heartbeats?.stop();
      // Requests in flight are aborted first: a registry that hangs does not hold the stop.
      if (fleet instanceof HttpFleetRegistry) fleet.close();
      else fleet.stop();
      await stopping;
    },
  };
}
