/**
 * The registry as the executor uses it: its own directory of droplets (the `droplets`
 * table: ids and names for good, each droplet's latest registration) kept in step with a
 * fleet registry other droplets read (the embedded one, or REGISTRY_URL). A deployed
 * build is registered in both; a heartbeat renews the fleet entry and, when the fleet
 * answers 404 (expired, or a registry that restarted empty), registers it again from the
 * registration the fleet last accepted. Calls for one droplet run one after another, so a
 * heartbeat cannot bring back an entry its undeploy is removing. Every write presents the
 * droplet's entry token (kept in the droplets table, chosen before the first registration
 * is sent): a credential, handed to `onEntryToken` (the redactor) and to nothing else.
 */
import type { Logger } from 'pino';
import { AppError } from '../domain/errors.js';
import { REGISTRY_ENTRY_NOT_FOUND, type FleetRegistry, type RegisterOutcome, type ServiceRegistration } from '../domain/ports/fleet-registry.js';
import type { HeartbeatHealth, HeartbeatOutcome, RegisterResult, Registry } from '../domain/ports/registry.js';
import type { DropletRegistration, RegisteredDroplet } from '../domain/registration.js';
import type { DropletStore } from '../store/droplets.js';
import { newEntryToken } from './entry-token.js';

export interface DropletRegistryOptions {
  /** `embedded` or `http`: what /executor/health reports. */
  id: string;
  droplets: DropletStore;
  fleet: FleetRegistry;
  /** REGISTRY_TTL_SECONDS: how long the fleet keeps an entry without heartbeats. */
  ttlSeconds: number;
  log: Pick<Logger, 'warn'>;
  /** Told of every entry token the executor comes to hold, so it is redacted wherever it could surface. */
  onEntryToken?: (token: string) => void;
}

/** The wire's registration of a deployed droplet. */
export function serviceRegistrationOf(registration: DropletRegistration & { url: string }, ttlSeconds: number): ServiceRegistration {
  return {
    name: registration.name,
    droplet_id: registration.dropletId,
    url: registration.url,
    health_endpoint: '/health',
    capabilities: registration.capabilities,
    version: registration.version,
    build_id: registration.buildId,
    host: registration.host,
    provenance: registration.provenance ?? { build_id: registration.buildId, commit: registration.commit },
    ttl_seconds: ttlSeconds,
  };
}

const isEntryGone = (error: unknown) => error instanceof AppError && error.code === REGISTRY_ENTRY_NOT_FOUND;

export class DropletRegistry implements Registry {
  readonly id: string;
  private readonly turns = new Map<number, Promise<unknown>>();

  constructor(private readonly options: DropletRegistryOptions) {
    this.id = options.id;
  }

  /**
   * The directory first (its name and id checks run before anything leaves the executor),
   * then the fleet, asked every time: it is idempotent by build id, and a step retried
   * after a refused registration must reach it again.
   */
  register(registration: DropletRegistration): Promise<RegisterResult> {
    return this.inTurn(registration.dropletId, async () => {
      const local = this.options.droplets.upsert(registration);
      const { url } = registration;
      if (url === null) return { droplet: local.droplet, changed: local.changed, fleet: null };
      const service = serviceRegistrationOf({ ...registration, url }, this.options.ttlSeconds);
      const { outcome } = await this.registerInFleet(registration.dropletId, service, this.tokenFor(registration.dropletId));
      return {
        droplet: local.droplet,
        changed: local.changed || outcome.changed,
        fleet: { entryId: outcome.entry.id, changed: outcome.changed, created: outcome.created },
      };
    });
  }

  async lastRegistration(dropletId: number): Promise<RegisteredDroplet | null> {
    return this.options.droplets.get(dropletId);
  }

  async list(): Promise<RegisteredDroplet[]> {
    return this.options.droplets.list();
  }

  /** Out of the directory, then out of the fleet; a fleet that cannot be reached lets the entry expire. */
  deregister(dropletId: number): Promise<boolean> {
    return this.inTurn(dropletId, async () => {
      const entry = this.options.droplets.fleetEntry(dropletId);
      const listed = this.options.droplets.deregister(dropletId);
      if (!entry) return listed;
      try {
        return (await this.options.fleet.deregister(entry.entryId, { entryToken: entry.entryToken ?? undefined })) || listed;
      } catch (error) {
        this.options.log.warn({ droplet_id: dropletId, entry_id: entry.entryId, err: error }, 'the fleet registry could not deregister the droplet: its entry expires without heartbeats');
        return listed;
      }
    });
  }

  heartbeat(dropletId: number, health: HeartbeatHealth): Promise<HeartbeatOutcome> {
    return this.inTurn(dropletId, async () => {
      const entry = this.options.droplets.fleetEntry(dropletId);
      if (!entry) return 'not_registered';
      try {
        // By entry id, not name: once ours expired, the name may be another's.
        await this.options.fleet.heartbeat(entry.entryId, health, { entryToken: entry.entryToken ?? undefined });
        return 'renewed';
      } catch (error) {
        if (!isEntryGone(error)) throw error;
      }
      const again = await this.registerInFleet(dropletId, entry.registration, entry.entryToken ?? this.tokenFor(dropletId));
      await this.options.fleet.heartbeat(again.outcome.entry.id, health, { entryToken: again.entryToken });
      return 'reregistered';
    });
  }

  /** The droplet's entry token; a new one is kept before any registration presents it. */
  private tokenFor(dropletId: number): string {
    const kept = this.options.droplets.entryToken(dropletId);
    if (kept !== null) return kept;
    const token = newEntryToken();
    this.options.onEntryToken?.(token);
    this.options.droplets.recordEntryToken(dropletId, token);
    return token;
  }

  /** Registers with the droplet's token and records the entry, with the token the fleet answered (a registry may issue its own). */
  private async registerInFleet(dropletId: number, service: ServiceRegistration, token: string): Promise<{ outcome: RegisterOutcome; entryToken: string }> {
    const outcome = await this.options.fleet.register(service, { entryToken: token, ownDroplet: true });
    const entryToken = outcome.entry_token ?? token;
    if (entryToken !== token) this.options.onEntryToken?.(entryToken);
    this.options.droplets.recordFleetEntry(dropletId, { entryId: outcome.entry.id, registration: service, entryToken });
    return { outcome, entryToken };
  }

  /** Runs `work` after every earlier call for the droplet has settled. */
  private inTurn<T>(dropletId: number, work: () => Promise<T>): Promise<T> {
    const previous = this.turns.get(dropletId) ?? Promise.resolve();
    const run = previous.catch(() => {}).then(work);
    this.turns.set(dropletId, run);
    const forget = () => {
      if (this.turns.get(dropletId) === run) this.turns.delete(dropletId);
    };
    run.then(forget, forget);
    return run;
  }
}
