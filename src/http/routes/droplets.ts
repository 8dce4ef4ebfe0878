/** The droplet lifecycle API: the deployed droplets, their health and releases, and what can be done with them. */
import type { FastifyInstance } from 'fastify';
import type { Deployment, DropletDeploymentView, ReleaseRecord } from '../../domain/deployment.js';
import type { RegisteredDroplet } from '../../domain/registration.js';
import type { DropletSummary, DropletView } from '../../pipeline/service.js';
import type { AppDeps } from '../deps.js';
import { z } from 'zod';
import {
  type DeploymentJson, type DropletActionJson, type DropletSummaryJson, type RegistrationJson, type ReleaseJson,
  dropletActionSchema, dropletSummarySchema, dropletViewSchema,
} from '../droplet-response-schemas.js';
import { errorResponses } from '../response-schemas.js';
import { dropletNameParams, logsQuery, parseOrThrow, rollbackQuery } from '../schemas.js';

/** Lifecycle actions refuse with 409 while a build runs or with DEPLOY_TARGET=none. */
const actionSchema = { params: dropletNameParams, response: { 200: dropletActionSchema, ...errorResponses(404, 409) } };

function registrationJson(droplet: RegisteredDroplet): RegistrationJson {
  return {
    url: droplet.url,
    host: droplet.host ?? null,
    version: droplet.version,
    capabilities: droplet.capabilities,
    build_id: droplet.buildId,
    commit: droplet.commit,
    registered_at: droplet.registeredAt,
    updated_at: droplet.updatedAt,
  };
}

function releaseJson(release: ReleaseRecord): ReleaseJson {
  return {
    release: release.releaseId,
    status: release.status,
    target: release.target,
    host: release.host,
    url: release.url,
    commit: release.commit,
    supervisor: release.supervisor,
    pid: release.pid,
    port: release.port,
    deployed_at: release.deployedAt,
    started_at: release.startedAt,
  };
}

function deploymentJson(view: DropletDeploymentView | null): DeploymentJson {
  if (!view) return { deployment: null, health: { status: 'not_deployed' }, releases: [] };
  return {
    deployment: view.current ? releaseJson(view.current) : null,
    health: { status: view.health.status, checked_at: view.health.checkedAt, ...(view.health.detail ? { detail: view.health.detail } : {}) },
    releases: view.releases.map((release) => ({ ...releaseJson(release), on_host: release.onHost })),
  };
}

function summaryJson(droplet: DropletSummary): DropletSummaryJson {
  const { registration } = droplet;
  return {
    droplet_id: droplet.dropletId,
    name: droplet.name,
    // The registry's fields at the top level, as the list has always shown them.
    ...(registration ? registrationJson(registration) : { url: null }),
    ...deploymentJson(droplet.deployment),
  };
}

function actionJson(action: string, deployment: Deployment): DropletActionJson {
  return {
    action,
    droplet_id: deployment.dropletId,
    release: deployment.releaseId,
    host: deployment.host,
    url: deployment.url,
    commit: deployment.commit,
    started_at: deployment.startedAt,
  };
}

export function registerDropletRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { droplets } = deps;
  const nameOf = (params: unknown) => parseOrThrow(dropletNameParams, params, 'droplet name').name;

  app.get('/executor/droplets', { schema: { response: { 200: z.object({ droplets: z.array(dropletSummarySchema) }) } }, config: { description: 'The registered droplets, each with its deployment, live health and releases.' } }, async () => ({
    droplets: (await droplets.list()).map(summaryJson),
  }));

  app.get('/executor/droplets/:name', { schema: { params: dropletNameParams, response: { 200: dropletViewSchema, ...errorResponses(404) } }, config: { description: "One droplet: its deployment (target, host, url, release, commit, supervisor), live health, previous releases and events." } }, async (request) => {
    const view: DropletView = await droplets.get(nameOf(request.params));
    return {
      ...summaryJson(view),
      events: view.events.map((event) => ({ seq: event.seq, type: event.type, data: event.data, at: event.at })),
    };
  });

  app.post('/executor/droplets/:name/rollback', { schema: { ...actionSchema, querystring: rollbackQuery }, config: { description: 'Back to the previous release (or `?to=<build id>`), health-gated and atomic.' } }, async (request) => {
    const { to } = parseOrThrow(rollbackQuery, request.query, 'rollback query');
    return actionJson('rollback', await droplets.rollback(nameOf(request.params), to));
  });

  for (const action of ['stop', 'start', 'restart'] as const) {
    app.post(`/executor/droplets/:name/${action}`, { schema: actionSchema, config: { description: `${action[0]!.toUpperCase()}${action.slice(1)} a deployed droplet${action === 'restart' ? ' (rolling: no request is lost)' : ''}.` } }, async (request) =>
      actionJson(action, await droplets[action](nameOf(request.params))),
    );
  }

  app.delete('/executor/droplets/:name', { schema: { params: dropletNameParams, response: { 200: z.object({ action: z.literal('undeploy'), name: z.string(), undeployed: z.literal(true) }), ...errorResponses(404, 409) } }, config: { description: 'Undeploy: stop the droplet, remove its releases, deregister it; its repository and builds stay.' } }, async (request) => {
    const name = nameOf(request.params);
    await droplets.undeploy(name);
    return { action: 'undeploy', name, undeployed: true };
  });

  app.get('/executor/droplets/:name/logs', { schema: { params: dropletNameParams, querystring: logsQuery, response: { 200: z.object({ name: z.string(), lines: z.array(z.string()) }), ...errorResponses(404, 409) } }, config: { description: "The last lines of the live release's log (`?lines=`, default 100)." } }, async (request) => {
    const { lines } = parseOrThrow(logsQuery, request.query, 'logs query');
    const name = nameOf(request.params);
    return { name, lines: (await droplets.logs(name, lines)).split('\n').filter((line) => line !== '') };
  });
}
