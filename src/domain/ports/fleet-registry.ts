/**
 * The fleet registry's API, as one port: the embedded registry (the executor serving
 * `/registry`) and the HTTP client of another registry (REGISTRY_URL) both implement it.
 * Field names are the wire's (snake_case), so the routes and the client pass them through.
 *
 * Ownership: an entry belongs to whoever holds its entry token, never to a `droplet_id`
 * (any caller can claim any id). The creating answer of `POST /register` carries the
 * token once (`entry_token`, 32 random bytes base64url; the registry keeps only its
 * sha256). Re-registering a live name, `POST /heartbeat` and `DELETE /services/:id` send
 * it as `X-Registry-Entry-Token`: without it (or with another) a registration of a live
 * name is 409 REGISTRY_NAME_TAKEN, a heartbeat or deregistration 403
 * REGISTRY_ENTRY_FORBIDDEN. The operator (bearer API_TOKEN) may deregister any entry. A
 * registration of a free name that sends a token makes that token the entry's, so a
 * registration retried after its answer was lost is still the owner's. The embedded
 * registry also reserves the names of its own executor's droplets: nobody else may
 * register them, even once their entries expired.
 */
import type { StepErrorCode } from '../error-codes.js';
import { ForbiddenError, NotFoundError } from '../errors.js';

/** The request header an entry's token travels in. */
export const ENTRY_TOKEN_HEADER = 'x-registry-entry-token';
/** 32 bytes, base64url: what the registry issues, and the least it accepts as a proposed token. */
export const ENTRY_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43,128}$/;

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
  /** Only in the creating answer: the entry's token, a credential (keep it, never show it). */
  entry_token?: string;
}

/** What a write on an entry presents to prove it is the entry's owner's. */
export interface EntryCredential {
  /** The entry's token (`X-Registry-Entry-Token`); on a free name, the token the new entry takes. */
  entryToken?: string | undefined;
  /** The operator (bearer API_TOKEN): may deregister any entry. Set by the routes from the bearer token only. */
  operator?: boolean;
  /**
   * The executor that serves this registry, registering one of its own droplets in process:
   * may take a name its droplets table reserves. Never set from a request; an HTTP client ignores it.
   */
  ownDroplet?: boolean;
}

export interface ServiceQuery {
  capability?: string;
  health?: ServiceHealth;
  name?: string;
}

export interface FleetRegistry {
  /** @throws ConflictError REGISTRY_NAME_TAKEN when the name is live and the credential holds not its token, or is reserved. */
  register(registration: ServiceRegistration, credential?: EntryCredential): Promise<RegisterOutcome>;
  /**
   * @throws NotFoundError REGISTRY_ENTRY_NOT_FOUND when unknown or expired (register again).
   * @throws ForbiddenError REGISTRY_ENTRY_FORBIDDEN without the entry's token.
   */
  heartbeat(idOrName: number | string, health: Exclude<ServiceHealth, 'unknown'>, credential?: EntryCredential): Promise<RegistryEntry>;
  /** Live (unexpired) entries, by id. */
  list(query?: ServiceQuery): Promise<RegistryEntry[]>;
  /** null when unknown or expired. */
  get(idOrName: number | string): Promise<RegistryEntry | null>;
  /**
   * false when it was not registered.
   * @throws ForbiddenError REGISTRY_ENTRY_FORBIDDEN without the entry's token (unless the operator asks).
   */
  deregister(idOrName: number | string, credential?: EntryCredential): Promise<boolean>;
}

/** A live entry of that name is someone else's (its token was not presented), or the name is reserved (409). */
export const REGISTRY_NAME_TAKEN = 'REGISTRY_NAME_TAKEN' satisfies StepErrorCode;
/** Unknown, deregistered or expired: a heartbeat answered this registers again (404). */
export const REGISTRY_ENTRY_NOT_FOUND = 'REGISTRY_ENTRY_NOT_FOUND';
/** A heartbeat or deregistration without the entry's token (403). */
export const REGISTRY_ENTRY_FORBIDDEN = 'REGISTRY_ENTRY_FORBIDDEN';

/** The one way the registry says a write on an entry is not the caller's to make. */
export function registryEntryForbidden(idOrName: number | string, action: 'heartbeat' | 'deregister'): ForbiddenError {
  return new ForbiddenError(
    `Only the holder of the entry's token may ${action === 'heartbeat' ? 'renew' : 'deregister'} registry entry ${typeof idOrName === 'number' ? `id ${idOrName}` : `"${idOrName}"`} (send it as X-Registry-Entry-Token).`,
    typeof idOrName === 'number' ? { id: idOrName } : { name: idOrName },
    REGISTRY_ENTRY_FORBIDDEN,
  );
}

/** The one way the registry (embedded or its routes) says an entry is not there. */
export function registryEntryNotFound(idOrName: number | string): NotFoundError {
  const which = typeof idOrName === 'number' ? `id ${idOrName}` : `"${idOrName}"`;
  return new NotFoundError(
    `No live registry entry ${which}: never registered, deregistered, or expired without heartbeats (register again).`,
    typeof idOrName === 'number' ? { id: idOrName } : { name: idOrName },
    REGISTRY_ENTRY_NOT_FOUND,
  );
}
