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
import type { DropletService, DropletSummary, DropletView } from './service.js';

export interface DropletServiceDeps {
  target: DeployTarget | null;
  registry: Registry;
  catalog: BuildCatalog;
  droplets: DropletDirectory;
  journal: DropletJournal;
  log: Logger;
}

export function createDropletService(deps: DropletServiceDeps): DropletService & { reconcile(): Promise<ReconcileOutcome[]> } {
  const queue = new Map<number, Promise<unknown>>();

  async function identify(name: string): Promise<DropletIdentity> {
    const dropletId = (await deps.droplets.idForName(name)) ?? (await deps.catalog.idForDropletName(name));
    if (dropletId === null) throw new NotFoundError(`No droplet is named "${name}".`, { droplet: name });
    return { dropletId, name };
  }

  function target(): DeployTarget {
    if (!deps.target) throw new ConflictError('Nothing is deployed here: DEPLOY_TARGET is none.', {}, 'NO_DEPLOY_TARGET');
    return deps.target;
  }

  /** One action per droplet at a time, none while a build of it may deploy; journaled when it succeeds. */
  async function act<T>(name: string, type: string, work: (droplet: DropletIdentity, deployTarget: DeployTarget) => Promise<T>, data: (result: T) => Record<string, unknown>): Promise<T> {
    const droplet = await identify(name);
    const deployTarget = target();
    const previous = queue.get(droplet.dropletId) ?? Promise.resolve();
    const run = previous.catch(() => {}).then(async () => {
      const building = await deps.catalog.runningBuildOf(droplet.dropletId);
      if (building) {
        throw new ConflictError(`Build ${building} of ${name} is running; wait for it or cancel it first.`, { build_id: building }, 'DROPLET_BUSY');
      }
      const result = await work(droplet, deployTarget);
      await deps.journal.append(droplet.dropletId, type, data(result));
      deps.log.info({ droplet: name, event: type, ...data(result) }, 'droplet lifecycle action');
      return result;
    });
    queue.set(droplet.dropletId, run);
    try {
      return await run;
    } finally {
      if (queue.get(droplet.dropletId) === run) queue.delete(droplet.dropletId);
    }
  }

  const release = (deployment: Deployment) => ({ release: deployment.releaseId, host: deployment.host, url: deployment.url, commit: deployment.commit });

  async function summary(dropletId: number, name: string): Promise<DropletSummary> {
    const registration = (await deps.registry.list()).find((entry) => entry.dropletId === dropletId) ?? null;
    const deployment = deps.target ? await deps.target.describe({ dropletId, name }) : null;
    return { dropletId, name, registration, deployment };
  }

  return {
    async list() {
      const entries = await deps.registry.list();
      return Promise.all(
        entries.map(async (registration) => ({
          dropletId: registration.dropletId,
          name: registration.name,
          registration,
          deployment: deps.target ? await deps.target.describe(registration) : null,
        })),
      );
    },
    async get(name) {
      const droplet = await identify(name);
      const view: DropletView = { ...(await summary(droplet.dropletId, droplet.name)), events: await deps.journal.list(droplet.dropletId, 50) };
      return view;
    },
    rollback: (name, to) => act(name, 'droplet.rolled_back', (droplet, t) => t.rollback(droplet, to ?? null), release),
    stop: (name) => act(name, 'droplet.stopped', (droplet, t) => t.stop(droplet), release),
    start: (name) => act(name, 'droplet.started', (droplet, t) => t.start(droplet), release),
    restart: (name) => act(name, 'droplet.restarted', (droplet, t) => t.restart(droplet), release),
    undeploy: (name) =>
      act(
        name,
        'droplet.undeployed',
        async (droplet, t) => {
          await t.undeploy(droplet);
          return { deregistered: await deps.registry.deregister(droplet.dropletId) };
        },
        (result) => result,
      ).then(() => undefined),
    async logs(name, lines) {
      const droplet = await identify(name);
      return target().logs(droplet, lines);
    },
    async reconcile() {
      if (!deps.target) return [];
      const outcomes = await deps.target.reconcile();
      for (const outcome of outcomes) {
        await deps.journal.append(outcome.dropletId, 'droplet.reconciled', { ...outcome });
        const level = outcome.action === 'running' || outcome.action === 'started' ? 'info' : 'warn';
        deps.log[level]({ droplet: outcome.name, host: outcome.host, action: outcome.action, expected: outcome.expected, found: outcome.found, detail: outcome.detail }, 'deployment reconciled');
      }
      return outcomes;
    },
  };
}
