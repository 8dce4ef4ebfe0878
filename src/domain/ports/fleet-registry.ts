/**
 * The fleet registry's API, as one port: the embedded registry (the executor serving
 * `/registry`) and the HTTP client of another registry (REGISTRY_URL) both implement it.
 * Field names are the wire's (snake_case), so the routes and the client pass them through.
 */

export type ServiceHealth = 'healthy' | 'degraded' | 'unhealthy' | 'unknown';

/** Where a registered droplet came from. Every field optional: peers that are not executors register too. */
export interface Provenance {
  build_id?: string;
  commit?: string;
  /** sha256 of the SPEC the code was written from. */
  spec_sha256?: string;
  acceptance?: { passed: number; failed: number; total: number; scenarios?: { name: string; passed: boolean }[] };
  approvals?: { gate: string; decision: 'approved' | 'rejected'; feedback: string | null; at: string }[];
  author?: { id: string; model: string | null };
  cost_usd?: number | null;
  deployed?: { url: string | null; host: string | null };
  /** The git tag of this version (`v1.2.0`). */
  tag?: string;
  repository_url?: string | null;
}

/** `POST /register`. Idempotent by `build_id`: the same build again changes nothing. */
export interface ServiceRegistration {
  name: string;
  droplet_id?: number;
  /** http(s) URL of the service; or `port`, and the registry takes the caller's address. */
  url?: string;
  port?: number;
  /** Default `/health`. */
  health_endpoint?: string;
  capabilities: string[];
  /** semver. */
  version: string;
  build_id?: string;
  host?: string | null;
  provenance?: Provenance;
  /** No heartbeat for this long and the entry expires; default REGISTRY_TTL_SECONDS. */
  ttl_seconds?: number;
}

export interface RegistryEntry {
  /** Assigned by the registry, stable for the name. */
  id: number;
  name: string;
  droplet_id: number | null;
  url: string;
  health_endpoint: string;
  capabilities: string[];
  version: string;
  build_id: string | null;
  host: string | null;
  provenance: Provenance;
  /** The last heartbeat's report (`unknown` until the first). */
  health: ServiceHealth;
  ttl_seconds: number;
  registered_at: string;
  updated_at: string;
  last_heartbeat_at: string | null;
  expires_at: string;
}

export interface RegisterOutcome {
  entry: RegistryEntry;
  /** False when this build was already the entry's registration. */
  changed: boolean;
  /** True when the name was not registered (201). */
  created: boolean;
}

export interface ServiceQuery {
  capability?: string;
  health?: ServiceHealth;
  name?: string;
}

export interface FleetRegistry {
  register(registration: ServiceRegistration): Promise<RegisterOutcome>;
  /** @throws NotFoundError REGISTRY_ENTRY_NOT_FOUND when unknown or expired (register again). */
  heartbeat(idOrName: number | string, health: Exclude<ServiceHealth, 'unknown'>): Promise<RegistryEntry>;
  /** Live (unexpired) entries, by id. */
  list(query?: ServiceQuery): Promise<RegistryEntry[]>;
  /** null when unknown or expired. */
  get(idOrName: number | string): Promise<RegistryEntry | null>;
  /** false when it was not registered. */
  deregister(idOrName: number | string): Promise<boolean>;
}
