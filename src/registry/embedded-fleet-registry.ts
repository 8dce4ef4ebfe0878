/**
 * The fleet registry the executor serves itself (REGISTRY_URL unset): entries in SQLite,
 * kept alive by heartbeats. An entry past its `expires_at` is never answered and its name
 * is free again (unless one of this executor's droplets holds it); `sweep` deletes such
 * entries (the composition runs it on an interval). Writes on an entry need its entry
 * token (see the port): the droplet_id a caller sends proves nothing.
 */
import { ConflictError, InputError } from '../domain/errors.js';
import {
  REGISTRY_NAME_TAKEN,
  registryEntryForbidden,
  registryEntryNotFound,
  type EntryCredential,
  type FleetRegistry,
  type RegisterOutcome,
  type RegistryEntry,
  type ServiceHealth,
  type ServiceQuery,
  type ServiceRegistration,
} from '../domain/ports/fleet-registry.js';
import type { EntryFields, RegistryEntryStore } from '../store/registry-entries.js';
import { entryTokenDigest, entryTokenMatches, newEntryToken } from './entry-token.js';

export interface EmbeddedFleetRegistryOptions {
  /** Lifetime of an entry without heartbeats, when the registration names none (REGISTRY_TTL_SECONDS). */
  defaultTtlSeconds: number;
  /** Whether a name is one of this executor's droplets' (its droplets table): only they may register it. */
  isReservedName?: (name: string) => boolean;
  now?: () => Date;
}

function nameTaken(name: string, reserved: boolean): ConflictError {
  const why = reserved
    ? 'is reserved for a droplet of the executor serving this registry'
    : "is registered by another service (re-registering it needs the entry's token, X-Registry-Entry-Token)";
  return new ConflictError(`The name "${name}" ${why}.`, { name }, REGISTRY_NAME_TAKEN);
}

export class EmbeddedFleetRegistry implements FleetRegistry {
  readonly id = 'embedded';
  private readonly now: () => Date;
  private readonly defaultTtlSeconds: number;
  private readonly isReservedName: (name: string) => boolean;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly entries: RegistryEntryStore,
    options: EmbeddedFleetRegistryOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.defaultTtlSeconds = options.defaultTtlSeconds;
    this.isReservedName = options.isReservedName ?? (() => false);
  }

  /**
   * Idempotent by build id: the same build again writes nothing (`changed: false`). A new
   * build of a live name updates the entry and keeps its id. A free name becomes a new
   * entry owned by the credential's token, or by a new one answered once as `entry_token`.
   * @throws ConflictError REGISTRY_NAME_TAKEN when the name is live and the credential holds not its token, or is reserved.
   * @throws InputError when neither a url was given nor resolved from a port (the routes resolve ports).
   */
  async register(registration: ServiceRegistration, credential: EntryCredential = {}): Promise<RegisterOutcome> {
    if (!registration.url) throw new InputError('A registration needs a url (or a port, resolved by the HTTP route).', { name: registration.name });
    const url = registration.url;
    return this.entries.atomically(() => {
      const now = this.now();
      const existing = this.live(this.entries.find(registration.name), now, true);
      const fields = this.fieldsOf(registration, url, now);
      if (!existing) {
        if (!credential.ownDroplet && this.isReservedName(registration.name)) throw nameTaken(registration.name, true);
        const token = credential.entryToken ?? newEntryToken();
        return { entry: this.entries.insert(fields, entryTokenDigest(token)), changed: true, created: true, entry_token: token };
      }
      if (!this.holdsToken(existing.id, credential)) throw nameTaken(registration.name, false);
      if (fields.build_id !== null && existing.build_id === fields.build_id) return { entry: existing, changed: false, created: false };
      return { entry: this.entries.update(fields), changed: true, created: false };
    });
  }

  /** Renews the entry: expires_at = now + its ttl, and the reported health is stored. */
  async heartbeat(idOrName: number | string, health: Exclude<ServiceHealth, 'unknown'>, credential: EntryCredential = {}): Promise<RegistryEntry> {
    return this.entries.atomically(() => {
      const now = this.now();
      const entry = this.live(this.entries.find(idOrName), now);
      if (!entry) throw registryEntryNotFound(idOrName);
      if (!this.holdsToken(entry.id, credential)) throw registryEntryForbidden(idOrName, 'heartbeat');
      return this.entries.renew(entry.id, health, now.toISOString(), expiry(now, entry.ttl_seconds));
    });
  }

  async list(query: ServiceQuery = {}): Promise<RegistryEntry[]> {
    return this.entries.listLive(this.now().toISOString(), query);
  }

  async get(idOrName: number | string): Promise<RegistryEntry | null> {
    return this.live(this.entries.find(idOrName), this.now());
  }

  /** The entry's token, or the operator, removes a live entry; an expired one is removed all the same but reported absent. */
  async deregister(idOrName: number | string, credential: EntryCredential = {}): Promise<boolean> {
    return this.entries.atomically(() => {
      const found = this.entries.find(idOrName);
      if (!found) return false;
      const wasLive = this.live(found, this.now()) !== null;
      if (wasLive && !credential.operator && !this.holdsToken(found.id, credential)) throw registryEntryForbidden(idOrName, 'deregister');
      this.entries.delete(found.id);
      return wasLive;
    });
  }

  /** Deletes every expired entry; returns how many. */
  sweep(): number {
    return this.entries.deleteExpired(this.now().toISOString());
  }

  /** Sweeps every `intervalMs` until `stop()`; the timer never holds the process open. */
  startSweeping(intervalMs: number): void {
    this.stop();
    this.sweeper = setInterval(() => this.sweep(), intervalMs);
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private holdsToken(id: number, credential: EntryCredential): boolean {
    return entryTokenMatches(credential.entryToken, this.entries.tokenDigest(id));
  }

  /** The entry when it has not expired at `now`; an expired one found on the way to a write is deleted. */
  private live(entry: RegistryEntry | null, now: Date, deleteExpired = false): RegistryEntry | null {
    if (!entry) return null;
    if (entry.expires_at > now.toISOString()) return entry;
    if (deleteExpired) this.entries.delete(entry.id);
    return null;
  }

  private fieldsOf(registration: ServiceRegistration, url: string, now: Date): EntryFields {
    const ttl = registration.ttl_seconds ?? this.defaultTtlSeconds;
    return {
      name: registration.name,
      droplet_id: registration.droplet_id ?? null,
      url,
      health_endpoint: registration.health_endpoint ?? '/health',
      capabilities: registration.capabilities,
      version: registration.version,
      build_id: registration.build_id ?? null,
      host: registration.host ?? null,
      provenance: registration.provenance ?? {},
      ttl_seconds: ttl,
      updated_at: now.toISOString(),
      expires_at: expiry(now, ttl),
    };
  }
}

function expiry(now: Date, ttlSeconds: number): string {
  return new Date(now.getTime() + ttlSeconds * 1000).toISOString();
}
