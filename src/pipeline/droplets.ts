/**
 * The droplet lifecycle: rollback, stop, start, restart and undeploy of deployed
 * droplets, each refused while a build of the droplet is queued or runs (that build
 * deploys), serialised per droplet, and journaled as a droplet event.
 */
import type { Logger } from 'pino';
import type { DropletIdentity } from '../domain/build.js';
import type { Deployment, ReconcileOutcome } from '../domain/deployment.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import type { BuildCatalog, DropletDirectory } from '../domain/ports/build-store.js';
import type { DeployTarget } from '../domain/ports/deploy.js';
import type { DropletJournal } from '../domain/ports/droplet-journal.js';
import type { Registry } from '../domain/ports/registry.js';
import type { RegisteredDroplet } from '../domain/registration.js';
import type { DropletService, DropletSummary } from './service.js';

export interface DropletServiceDeps {
  target: DeployTarget | null;
  registry: Registry;
  catalog: BuildCatalog;
  droplets: DropletDirectory;
  journal: DropletJournal;
  log: Logger;
}

type Action<T> = (droplet: DropletIdentity, target: DeployTarget) => Promise<T>;

const releaseFacts = (deployment: Deployment) => ({ release: deployment.releaseId, host: deployment.host, url: deployment.url, commit: deployment.commit });

class DropletLifecycle {
  private readonly queue = new Map<number, Promise<unknown>>();

  constructor(private readonly deps: DropletServiceDeps) {}

  async identify(name: string): Promise<DropletIdentity> {
    const dropletId = (await this.deps.droplets.idForName(name)) ?? (await this.deps.catalog.idForDropletName(name));
    if (dropletId === null) throw new NotFoundError(`No droplet is named "${name}".`, { droplet: name });
    return { dropletId, name };
  }

  target(): DeployTarget {
    if (!this.deps.target) throw new ConflictError('Nothing is deployed here: DEPLOY_TARGET is none.', {}, 'NO_DEPLOY_TARGET');
    return this.deps.target;
  }

  /** `registration` when the caller has it already (the list), else looked up. */
  async summary(droplet: DropletIdentity, known?: RegisteredDroplet): Promise<DropletSummary> {
    const registration = known ?? (await this.deps.registry.list()).find((entry) => entry.dropletId === droplet.dropletId) ?? null;
    const deployment = this.deps.target ? await this.deps.target.describe(droplet) : null;
    return { dropletId: droplet.dropletId, name: droplet.name, registration, deployment };
  }

  /** One action per droplet at a time, none while a build of it may deploy; journaled when it succeeds. */
  async act<T>(name: string, type: string, work: Action<T>, facts: (result: T) => Record<string, unknown>): Promise<T> {
    const droplet = await this.identify(name);
    const target = this.target();
    const previous = this.queue.get(droplet.dropletId) ?? Promise.resolve();
    const run = previous.catch(() => {}).then(async () => {
      const building = await this.deps.catalog.runningBuildOf(droplet.dropletId);
      if (building) {
        throw new ConflictError(`Build ${building} of ${name} is running; wait for it or cancel it first.`, { build_id: building }, 'DROPLET_BUSY');
      }
      const result = await work(droplet, target);
      const data = facts(result);
      await this.deps.journal.append(droplet.dropletId, type, data);
      this.deps.log.info({ droplet: name, event: type, ...data }, 'droplet lifecycle action');
      return result;
    });
    this.queue.set(droplet.dropletId, run);
    try {
      return await run;
    } finally {
      if (this.queue.get(droplet.dropletId) === run) this.queue.delete(droplet.dropletId);
    }
  }

  async reconcile(): Promise<ReconcileOutcome[]> {
    if (!this.deps.target) return [];
    const outcomes = await this.deps.target.reconcile();
    for (const outcome of outcomes) {
      await this.deps.journal.append(outcome.dropletId, 'droplet.reconciled', { ...outcome });
      if (outcome.action === 'busy' || (outcome.action === 'running' && !outcome.found)) {
        // Nothing happened: not journaled, so a droplet's events are not flooded every DEPLOY_RECONCILE_SECONDS.
        continue;
      }
      const level = outcome.action === 'started' ? 'info' : 'warn';
      this.deps.log[level]({ droplet: outcome.name, host: outcome.host, action: outcome.action, expected: outcome.expected, found: outcome.found, detail: outcome.detail }, 'deployment reconciled');
    }
    return outcomes;
  }
}

export function createDropletService(deps: DropletServiceDeps): DropletService & { reconcile(): Promise<ReconcileOutcome[]> } {
  const lifecycle = new DropletLifecycle(deps);
  return {
    async list() {
      return Promise.all((await deps.registry.list()).map((registration) => lifecycle.summary(registration, registration)));
    },
    async get(name) {
      const droplet = await lifecycle.identify(name);
      return { ...(await lifecycle.summary(droplet)), events: await deps.journal.list(droplet.dropletId, 50) };
    },
    rollback: (name, to) => lifecycle.act(name, 'droplet.rolled_back', (droplet, target) => target.rollback(droplet, to ?? null), releaseFacts),
    stop: (name) => lifecycle.act(name, 'droplet.stopped', (droplet, target) => target.stop(droplet), releaseFacts),
    start: (name) => lifecycle.act(name, 'droplet.started', (droplet, target) => target.start(droplet), releaseFacts),
    restart: (name) => lifecycle.act(name, 'droplet.restarted', (droplet, target) => target.restart(droplet), releaseFacts),
    async undeploy(name) {
      const undeploy: Action<{ deregistered: boolean }> = async (droplet, target) => {
        await target.undeploy(droplet);
        return { deregistered: await deps.registry.deregister(droplet.dropletId) };
      };
      await lifecycle.act(name, 'droplet.undeployed', undeploy, (result) => result);
    },
    async logs(name, lines) {
      return lifecycle.target().logs(await lifecycle.identify(name), lines);
    },
    reconcile: () => lifecycle.reconcile(),
  };
}
