/**
 * The fleet registry's table (migration 0004): rows of `registry_entries`, read and written
 * with the wire's field names. The rules (expiry, idempotency, name ownership) live in
 * `registry/embedded-fleet-registry.ts`; this module only knows the columns. The entry
 * token's digest is read on its own (`tokenDigest`): entries answered never carry it. Every read
 * takes `now` so an expired row is never answered even before the sweep deletes it.
 */
import type { Provenance, RegistryEntry, ServiceHealth, ServiceQuery } from '../domain/ports/fleet-registry.js';
import { fromJson, toJson, type Db } from './db.js';

interface EntryRow {
  id: number;
  name: string;
  droplet_id: number | null;
  url: string;
  health_endpoint: string;
  capabilities: string;
  version: string;
  build_id: string | null;
  host: string | null;
  provenance: string;
  health: ServiceHealth;
  ttl_seconds: number;
  registered_at: string;
  updated_at: string;
  last_heartbeat_at: string | null;
  expires_at: string;
  entry_token_sha256: string | null;
}

/** What a registration writes: the entry without its id and the times the store keeps. */
export type EntryFields = Omit<RegistryEntry, 'id' | 'registered_at' | 'last_heartbeat_at' | 'health'>;

/** The wire's entry: everything but the token digest, which never leaves the store's callers. */
function toEntry({ entry_token_sha256: _digest, ...row }: EntryRow): RegistryEntry {
  return {
    ...row,
    capabilities: fromJson<string[]>(row.capabilities) ?? [],
    provenance: fromJson<Provenance>(row.provenance) ?? {},
  };
}

function columns(fields: EntryFields) {
  return {
    name: fields.name,
    droplet_id: fields.droplet_id,
    url: fields.url,
    health_endpoint: fields.health_endpoint,
    capabilities: toJson(fields.capabilities) ?? '[]',
    version: fields.version,
    build_id: fields.build_id,
    host: fields.host,
    provenance: toJson(fields.provenance) ?? '{}',
    ttl_seconds: fields.ttl_seconds,
    updated_at: fields.updated_at,
    expires_at: fields.expires_at,
  };
}

export class RegistryEntryStore {
  private readonly byIdRow;
  private readonly byNameRow;
  private readonly digestRow;
  private readonly insertRow;
  private readonly updateRow;
  private readonly renewRow;
  private readonly deleteRow;
  private readonly deleteExpiredRows;
  private readonly listRows;

  constructor(private readonly db: Db) {
    this.byIdRow = db.prepare<[number], EntryRow>('SELECT * FROM registry_entries WHERE id = ?');
    this.byNameRow = db.prepare<[string], EntryRow>('SELECT * FROM registry_entries WHERE name = ?');
    this.digestRow = db.prepare<[number], { entry_token_sha256: string | null }>('SELECT entry_token_sha256 FROM registry_entries WHERE id = ?');
    this.insertRow = db.prepare(
      `INSERT INTO registry_entries (name, droplet_id, url, health_endpoint, capabilities, version, build_id, host,
         provenance, ttl_seconds, registered_at, updated_at, expires_at, entry_token_sha256)
       VALUES (@name, @droplet_id, @url, @health_endpoint, @capabilities, @version, @build_id, @host,
         @provenance, @ttl_seconds, @updated_at, @updated_at, @expires_at, @entry_token_sha256)`,
    );
    this.updateRow = db.prepare(
      `UPDATE registry_entries SET droplet_id = @droplet_id, url = @url, health_endpoint = @health_endpoint,
         capabilities = @capabilities, version = @version, build_id = @build_id, host = @host, provenance = @provenance,
         ttl_seconds = @ttl_seconds, updated_at = @updated_at, expires_at = @expires_at
       WHERE name = @name`,
    );
    this.renewRow = db.prepare<[ServiceHealth, string, string, number]>(
      'UPDATE registry_entries SET health = ?, last_heartbeat_at = ?, expires_at = ? WHERE id = ?',
    );
    this.deleteRow = db.prepare<[number]>('DELETE FROM registry_entries WHERE id = ?');
    this.deleteExpiredRows = db.prepare<[string]>('DELETE FROM registry_entries WHERE expires_at <= ?');
    // Each filter is optional: a NULL parameter matches every row.
    this.listRows = db.prepare<{ now: string; capability: string | null; health: string | null; name: string | null }, EntryRow>(
      `SELECT * FROM registry_entries
       WHERE expires_at > @now
         AND (@health IS NULL OR health = @health)
         AND (@name IS NULL OR name = @name)
         AND (@capability IS NULL OR EXISTS (SELECT 1 FROM json_each(capabilities) WHERE value = @capability))
       ORDER BY id`,
    );
  }

  /** Runs `work` in one immediate transaction: a read-then-write cannot interleave with another writer. */
  atomically<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  /** The row for an id or a name, expired or not (the caller decides what expiry means). */
  find(idOrName: number | string): RegistryEntry | null {
    const row = typeof idOrName === 'number' ? this.byIdRow.get(idOrName) : this.byNameRow.get(idOrName);
    return row ? toEntry(row) : null;
  }

  /** A new entry, owned by the holder of the token whose sha256 is `tokenDigest`. */
  insert(fields: EntryFields, tokenDigest: string): RegistryEntry {
    this.insertRow.run({ ...columns(fields), entry_token_sha256: tokenDigest });
    return this.find(fields.name)!;
  }

  /** The hex sha256 of the entry's token; null when unknown or registered without one. */
  tokenDigest(id: number): string | null {
    return this.digestRow.get(id)?.entry_token_sha256 ?? null;
  }

  /** Rewrites the registration of `fields.name`; keeps its id, registered_at and last heartbeat. */
  update(fields: EntryFields): RegistryEntry {
    this.updateRow.run(columns(fields));
    return this.find(fields.name)!;
  }

  renew(id: number, health: ServiceHealth, at: string, expiresAt: string): RegistryEntry {
    this.renewRow.run(health, at, expiresAt, id);
    return this.find(id)!;
  }

  delete(id: number): boolean {
    return this.deleteRow.run(id).changes > 0;
  }

  /** Deletes every entry expired at `now`; returns how many. */
  deleteExpired(now: string): number {
    return this.deleteExpiredRows.run(now).changes;
  }

  listLive(now: string, query: ServiceQuery = {}): RegistryEntry[] {
    return this.listRows
      .all({ now, capability: query.capability ?? null, health: query.health ?? null, name: query.name ?? null })
      .map(toEntry);
  }
}
