/**
 * Heartbeats for the droplets this executor deployed, from their health probes: every
 * REGISTRY_HEARTBEAT_SECONDS each registered droplet's live release is probed (the deploy
 * target's `describe`, whose health is cached a few seconds) and, when it answers, its
 * fleet entry is renewed with that health. A droplet that is stopped, undeployed or does
 * not answer gets no heartbeat, so its entry expires after REGISTRY_TTL_SECONDS: the
 * fleet never lists a dead droplet for long.
 */
import type { Logger } from 'pino';
import type { LiveHealth } from '../domain/deployment.js';
import type { DeployTarget } from '../domain/ports/deploy.js';
import type { HeartbeatHealth, HeartbeatOutcome, Registry } from '../domain/ports/registry.js';

export interface HeartbeatDeps {
  registry: Registry;
  target: DeployTarget;
  log: Pick<Logger, 'warn' | 'info'>;
}

export interface HeartbeatReport {
  dropletId: number;
  name: string;
  /** What the probe saw. */
  health: LiveHealth['status'];
  /** `skipped`: no heartbeat (not serving, or no answer); `failed`: the registry could not be told. */
  outcome: HeartbeatOutcome | 'skipped' | 'failed';
}

/** What a probe's answer is worth as a heartbeat; null: none is sent. */
function heartbeatHealthOf(health: LiveHealth): HeartbeatHealth | null {
  if (health.status === 'healthy') return 'healthy';
  if (health.status === 'unhealthy') return 'unhealthy';
  return null;
}

/** One round: every registered droplet probed and heartbeated, concurrently. */
export async function heartbeatOnce({ registry, target, log }: HeartbeatDeps): Promise<HeartbeatReport[]> {
  const droplets = await registry.list();
  return Promise.all(
    droplets.map(async ({ dropletId, name }): Promise<HeartbeatReport> => {
      let health: LiveHealth['status'] = 'not_deployed';
      try {
        const view = await target.describe({ dropletId, name });
        health = view?.health.status ?? 'not_deployed';
        const reported = view?.current?.status === 'active' ? heartbeatHealthOf(view.health) : null;
        if (reported === null) return { dropletId, name, health, outcome: 'skipped' };
        const outcome = await registry.heartbeat(dropletId, reported);
        if (outcome === 'reregistered') log.info({ droplet: name }, 'the fleet registry had lost the droplet: registered again');
        return { dropletId, name, health, outcome };
      } catch (error) {
        log.warn({ droplet: name, err: error }, 'heartbeat failed');
        return { dropletId, name, health, outcome: 'failed' };
      }
    }),
  );
}

export interface Heartbeats {
  /** One round now (the first runs at start, after reconciliation). */
  beat(): Promise<HeartbeatReport[]>;
  /** No more rounds; waits for the one in flight. */
  stop(): Promise<void>;
}

/** A round every `seconds`, never two at once; the timer never holds the process open. */
export function startHeartbeats(deps: HeartbeatDeps, seconds: number): Heartbeats {
  let running: Promise<HeartbeatReport[]> | null = null;
  const beat = () => {
    running ??= heartbeatOnce(deps).finally(() => (running = null));
    return running;
  };
  const timer = setInterval(() => void beat(), seconds * 1000);
  timer.unref();
  return {
    beat,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
