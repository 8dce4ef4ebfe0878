/**
 * The zero-downtime switch, shared by deploy, rollback and reconciliation: the release
 * is started beside the serving one and health-gated by the supervisor on the host;
 * only then is `current` switched (one rename) and traffic moved (new requests go to
 * the new backend, the old one drains and stops). A release that fails its gate is
 * stopped and the old one never stopped serving.
 */
import { StepError } from '../../domain/errors.js';
import type { FleetHost } from './fleet-host.js';
import type { DropletLayout } from './layout.js';
import type { Backend } from './supervisor.js';

export interface SwitchTimings {
  healthTimeoutMs: number;
  drainTimeoutMs: number;
}

export async function switchRelease(
  host: FleetHost,
  droplet: DropletLayout,
  releaseId: string,
  timings: SwitchTimings,
  redact: (text: string) => string,
): Promise<{ backend: Backend; switched: boolean }> {
  const supervisor = await host.supervisor();
  const prepared = await supervisor.prepare(droplet, releaseId, timings.healthTimeoutMs);
  if (!prepared.ok) {
    const log = redact(prepared.error.log ?? '').trim();
    throw new StepError(
      'DEPLOY_UNHEALTHY',
      `Release ${releaseId} did not become healthy on ${host.label} (${redact(prepared.error.message ?? prepared.error.code)}); the previous release still serves.${log ? `\nLast log lines:\n${log}` : ''}`,
      { host: host.label, release: releaseId, reason: prepared.error.code, log_tail: log.split('\n').slice(-40) },
    );
  }
  if (prepared.alreadyActive && prepared.active) {
    await host.ops.switchLink(droplet.current, `releases/${releaseId}`, releaseId);
    return { backend: prepared.active, switched: false };
  }
  try {
    await host.ops.switchLink(droplet.current, `releases/${releaseId}`, releaseId);
  } catch (error) {
    await supervisor.discard(droplet, releaseId).catch(() => {});
    throw error;
  }
  const promoted = await supervisor.promote(droplet, releaseId, timings.drainTimeoutMs);
  return { backend: promoted.active, switched: true };
}
