/**
 * The executor's directory of droplets: one row per droplet (its id and name for good),
 * its latest registration, and its entry in the fleet registry.
 */
import { ConflictError } from '../domain/errors.js';
import type { ServiceRegistration } from '../domain/ports/fleet-registry.js';
import type { DropletRegistration, RegisteredDroplet } from '../domain/registration.js';
import { fromJson, toJson, type Db } from './db.js';

interface DropletRow {
  droplet_id: number;
  name: string;
  url: string | null;
  host: string | null;
  version: string;
  capabilities: string;
  build_id: string;
  commit_sha: string;
  registered_at: string;
  updated_at: string;
}

function toDroplet(row: DropletRow): RegisteredDroplet {
  return {
    dropletId: row.droplet_id,
    name: row.name,
    url: row.url,
    host: row.host,
    version: row.version,
    capabilities: fromJson<string[]>(row.capabilities) ?? [],
    buildId: row.build_id,
    commit: row.commit_sha,
    registeredAt: row.registered_at,
    updatedAt: row.updated_at,
  };
}

/** The droplet's entry in the fleet registry and the registration the fleet accepted. */
export interface FleetEntry {
  entryId: number;
  registration: ServiceRegistration;
  /** The entry's token (a credential: never logged or shown); null when the registry issued none. */
  entryToken: string | null;
}

export interface UpsertResult {
  droplet: RegisteredDroplet;
  /** False when this build was already the droplet's registration (nothing written). */
  changed: boolean;
}

export class DropletStore {
  private readonly byId;
  private readonly byName;
  private readonly all;
  private readonly maxId;
  private readonly insert;
  private readonly updateFromBuild;
  private readonly upsertTx;
  private readonly deregisterRow;
  private readonly fleetRow;
  private readonly setFleetRow;
  private readonly tokenRow;
  private readonly setTokenRow;
  private readonly allTokens;

  constructor(
    db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.byId = db.prepare<[number], DropletRow>('SELECT * FROM droplets WHERE droplet_id = ?');
    this.byName = db.prepare<[string], DropletRow>('SELECT * FROM droplets WHERE name = ?');
    this.all = db.prepare<[], DropletRow>('SELECT * FROM droplets WHERE deregistered_at IS NULL ORDER BY droplet_id');
    this.deregisterRow = db.prepare<[string, number]>(
      'UPDATE droplets SET deregistered_at = ?, url = NULL, fleet_entry_id = NULL, fleet_registration = NULL, fleet_entry_token = NULL WHERE droplet_id = ? AND deregistered_at IS NULL',
    );
    this.fleetRow = db.prepare<[number], { fleet_entry_id: number | null; fleet_registration: string | null; fleet_entry_token: string | null }>(
      'SELECT fleet_entry_id, fleet_registration, fleet_entry_token FROM droplets WHERE droplet_id = ? AND deregistered_at IS NULL',
    );
    this.setFleetRow = db.prepare<[number, string, string | null, number]>(
      'UPDATE droplets SET fleet_entry_id = ?, fleet_registration = ?, fleet_entry_token = ? WHERE droplet_id = ? AND deregistered_at IS NULL',
    );
    this.tokenRow = db.prepare<[number], { fleet_entry_token: string | null }>('SELECT fleet_entry_token FROM droplets WHERE droplet_id = ? AND deregistered_at IS NULL');
    this.setTokenRow = db.prepare<[string, number]>('UPDATE droplets SET fleet_entry_token = ? WHERE droplet_id = ? AND deregistered_at IS NULL');
    this.allTokens = db.prepare<[], { fleet_entry_token: string }>('SELECT fleet_entry_token FROM droplets WHERE fleet_entry_token IS NOT NULL');
    this.maxId = db.prepare<[], { max_id: number | null }>('SELECT MAX(droplet_id) AS max_id FROM droplets');
    this.insert = db.prepare(
      `INSERT INTO droplets (droplet_id, name, url, host, version, capabilities, build_id, commit_sha, registered_at, updated_at)
       VALUES (@droplet_id, @name, @url, @host, @version, @capabilities, @build_id, @commit_sha, @at, @at)`,
    );
    // Conditional on the build we read: a concurrent registration shows up as "no row changed".
    this.updateFromBuild = db.prepare(
      `UPDATE droplets SET url = @url, host = @host, version = @version, capabilities = @capabilities, build_id = @build_id,
         commit_sha = @commit_sha, updated_at = @at, deregistered_at = NULL
       WHERE droplet_id = @droplet_id AND build_id = @previous_build_id`,
    );
    this.upsertTx = db.transaction((registration: DropletRegistration) => this.upsertInTransaction(registration));
  }

  /**
   * Registers a build of a droplet. Idempotent per build id: the same build again changes
   * nothing; a new build updates url/version/capabilities/provenance and keeps `registeredAt`.
   * @throws ConflictError when the name belongs to another droplet id (or the id to another name).
   */
  upsert(registration: DropletRegistration): UpsertResult {
    return this.upsertTx.immediate(registration);
  }

  get(dropletId: number): RegisteredDroplet | null {
    const row = this.byId.get(dropletId);
    return row ? toDroplet(row) : null;
  }

  getByName(name: string): RegisteredDroplet | null {
    const row = this.byName.get(name);
    return row ? toDroplet(row) : null;
  }

  list(): RegisteredDroplet[] {
    return this.all.all().map(toDroplet);
  }

  /** Out of the registry (undeployed) and its fleet entry forgotten; the row stays so the id and name stay the droplet's. Returns whether it was listed. */
  deregister(dropletId: number): boolean {
    return this.deregisterRow.run(this.now().toISOString(), dropletId).changes === 1;
  }

  /** Records what the fleet registry accepted for the droplet (its entry id and token may change after an expiry). */
  recordFleetEntry(dropletId: number, entry: FleetEntry): void {
    this.setFleetRow.run(entry.entryId, toJson(entry.registration) ?? '{}', entry.entryToken, dropletId);
  }

  /** The droplet's fleet entry; null when it has none or was deregistered. */
  fleetEntry(dropletId: number): FleetEntry | null {
    const row = this.fleetRow.get(dropletId);
    const registration = row?.fleet_registration ? fromJson<ServiceRegistration>(row.fleet_registration) : null;
    return typeof row?.fleet_entry_id === 'number' && registration ? { entryId: row.fleet_entry_id, registration, entryToken: row.fleet_entry_token } : null;
  }

  /** The token the droplet's fleet entry is (or is to be) registered with; null when none was chosen. */
  entryToken(dropletId: number): string | null {
    return this.tokenRow.get(dropletId)?.fleet_entry_token ?? null;
  }

  /** Keeps the token before the registration that presents it is sent (a retry then presents the same). */
  recordEntryToken(dropletId: number, token: string): void {
    this.setTokenRow.run(token, dropletId);
  }

  /** Every entry token held, for the redactor at start. */
  entryTokens(): string[] {
    return this.allTokens.all().map((row) => row.fleet_entry_token);
  }

  /** The highest registered droplet id, 0 when none is registered. */
  maxDropletId(): number {
    return this.maxId.get()?.max_id ?? 0;
  }

  private upsertInTransaction(registration: DropletRegistration): UpsertResult {
    const sameName = this.byName.get(registration.name);
    if (sameName && sameName.droplet_id !== registration.dropletId) {
      throw new ConflictError(
        `The name "${registration.name}" is registered to droplet ${sameName.droplet_id}.`,
        { name: registration.name, droplet_id: sameName.droplet_id },
        'DROPLET_NAME_TAKEN',
      );
    }
    const existing = this.byId.get(registration.dropletId);
    const values = {
      droplet_id: registration.dropletId,
      name: registration.name,
      url: registration.url,
      host: registration.host ?? null,
      version: registration.version,
      capabilities: toJson(registration.capabilities) ?? '[]',
      build_id: registration.buildId,
      commit_sha: registration.commit,
      at: this.now().toISOString(),
    };
    if (!existing) {
      this.insert.run(values);
      return { droplet: toDroplet(this.byId.get(registration.dropletId)!), changed: true };
    }
    if (existing.name !== registration.name) {
      throw new ConflictError(
        `Droplet ${registration.dropletId} is registered as "${existing.name}", not "${registration.name}".`,
        { droplet_id: registration.dropletId, name: existing.name },
        'DROPLET_ID_TAKEN',
      );
    }
    if (existing.build_id === registration.buildId) return { droplet: toDroplet(existing), changed: false };
    const result = this.updateFromBuild.run({ ...values, previous_build_id: existing.build_id });
    if (result.changes !== 1) {
      throw new ConflictError(`Droplet ${registration.dropletId} was registered concurrently.`, {
        droplet_id: registration.dropletId,
      });
    }
    return { droplet: toDroplet(this.byId.get(registration.dropletId)!), changed: true };
  }
}
