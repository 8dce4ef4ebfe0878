/**
 * Keeps the last `keep` releases of a droplet on its host (the live one always among
 * them) and removes the rest, with their logs and any upload a crash left behind.
 * Runs under the droplet's deploy lock, so nothing it removes is in use.
 */
import type { DeploymentRecord } from '../../store/deployments.js';
import type { HostOps } from './host-ops.js';
import { isReleaseId, type DropletLayout } from './layout.js';

export async function pruneReleases(
  ops: HostOps,
  droplet: DropletLayout,
  records: readonly DeploymentRecord[],
  liveRelease: string,
  keep: number,
): Promise<string[]> {
  const entries = await ops.list(droplet.releasesDir);
  // Anything that is not a release (a crash's upload or partial release, a stray file) goes.
  const onHost = new Set(entries.filter(isReleaseId));
  const leftovers = entries.filter((name) => !isReleaseId(name)).map((name) => `${droplet.releasesDir}/${name}`);
  // Newest first by deploy time; releases the executor has no record of are the oldest.
  const ordered = records.map((record) => record.releaseId).filter((id) => onHost.has(id));
  const unknown = [...onHost].filter((id) => !ordered.includes(id));
  const kept = new Set([liveRelease, ...ordered.filter((id) => id !== liveRelease).slice(0, Math.max(0, keep - 1))]);
  const removed = [...ordered, ...unknown].filter((id) => !kept.has(id));
  await ops.remove([...removed.map((id) => droplet.release(id)), ...leftovers]);
  // Logs of removed releases go with them (logs/ belongs to the droplet's user).
  await ops.remove(removed.map((id) => droplet.log(id)), { asRunner: true });
  return removed;
}
