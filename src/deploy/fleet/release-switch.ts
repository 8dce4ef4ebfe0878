/**
 * The zero-downtime switch, shared by deploy and rollback: the release is started beside
 * the serving one and health-gated by the supervisor on the host; only then is traffic
 * moved (new requests go to the new backend, the old one drains and stops) and `current`
 * switched (one rename). `current` names a release only once it serves, so a supervisor
 * started again at any moment (a reboot) starts the release the record names. A release
 * that fails its gate is stopped and the old one never stopped serving.
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
  const active = await supervisor.promote(droplet, releaseId, timings.drainTimeoutMs).then(
    (promoted) => promoted.active,
    async (error: unknown) => {
      // The answer may be lost after the switch happened (a dropped connection): the supervisor knows.
      const status = await supervisor.status(droplet).catch(() => null);
      if (status?.active?.release === releaseId) return status.active;
      await supervisor.discard(droplet, releaseId).catch(() => {});
      throw error;
    },
  );
  await host.ops.switchLink(droplet.current, `releases/${releaseId}`, releaseId);
  return { backend: active, switched: true };
}
