/** A droplet as the fleet registry knows it, and how its version moves from build to build. */
import type { Provenance } from './ports/fleet-registry.js';

export interface DropletRegistration {
  dropletId: number;
  name: string;
  url: string | null;
  /** The host it is deployed on (`local`, `user@host:port`), null when not deployed. */
  host: string | null;
  /** semver (see `nextVersion`). */
  version: string;
  capabilities: string[];
  /** Provenance: the build and commit this registration came from. */
  buildId: string;
  commit: string;
  /** Everything else of where it came from, sent to the fleet registry with the entry. */
  provenance?: Provenance;
}

export interface RegisteredDroplet extends Omit<DropletRegistration, 'provenance'> {
  registeredAt: string;
  updatedAt: string;
}

/** semver 2.0.0 (pre-release and build metadata allowed). */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export function isSemver(version: string): boolean {
  return version.length <= 100 && SEMVER.test(version);
}

export const FIRST_VERSION = '1.0.0';

/**
 * The version a build registers: the same build again keeps its version (idempotent); a
 * later build of a registered droplet bumps the minor of its last version (1.0.0 → 1.1.0,
 * 1.2.3-rc.1 → 1.3.0); the first build takes the droplet's own version when it is semver,
 * else 1.0.0.
 */
export function nextVersion(previous: { buildId: string; version: string } | null, buildId: string, own: string | undefined): string {
  if (!previous) return own !== undefined && isSemver(own) ? own : FIRST_VERSION;
  if (previous.buildId === buildId) return previous.version;
  const match = SEMVER.exec(previous.version);
  if (!match) return FIRST_VERSION;
  return `${match[1]}.${Number(match[2]) + 1}.0`;
}

/** The git tag a version is recorded as. */
export function versionTag(version: string): string {
  return `v${version}`;
}
