/** The build API: submit, inspect, list, journal, approve, cancel, retry. */
import type { FastifyInstance } from 'fastify';
import type { BuildView } from '../../domain/status.js';
import { summaryOf } from '../../domain/summary.js';
import type { SubmitBuildInput } from '../../pipeline/service.js';
import type { AppDeps } from '../deps.js';
import {
  type BuildDropletBody,
  afterQuery,
  approveBody,
  buildDropletBody,
  buildIdParams,
  listBuildsQuery,
  parseOrThrow,
  retryQuery,
} from '../schemas.js';
import { buildAccepted, buildEvent, buildList, buildSummary, buildView, errorResponses } from '../response-schemas.js';

export function submitInputFrom(body: BuildDropletBody): SubmitBuildInput {
  return {
    architectIntent: body.architect_intent,
    approvalMode: body.approval_mode,
    autoDeploy: body.auto_deploy,
    ...(body.droplet_id !== undefined && { dropletId: body.droplet_id }),
    ...(body.droplet_name !== undefined && { dropletName: body.droplet_name }),
    ...(body.notify_channels !== undefined && { notifyChannels: body.notify_channels }),
    ...(body.max_cost_usd !== undefined && { maxCostUsd: body.max_cost_usd }),
    ...(body.deploy_host !== undefined && { deployHost: body.deploy_host }),
  };
}

/** Where clients follow a build: `ws(s)://…/stream` and `http(s)://…/status`. */
export function buildLinks(publicUrl: string, buildId: string): { stream_url: string; status_url: string } {
  const base = publicUrl.replace(/\/+$/, '');
  const path = `/executor/builds/${encodeURIComponent(buildId)}`;
  return {
    stream_url: `${base.replace(/^http(s?):\/\//i, 'ws$1://')}${path}/stream`,
    status_url: `${base}${path}/status`,
  };
}

export function acceptedBuild(view: BuildView, publicUrl: string) {
  return {
    build_id: view.build_id,
    status: view.status,
    droplet_id: view.droplet_id,
    droplet_name: view.droplet_name,
    estimated_completion: view.estimated_completion,
    ...buildLinks(publicUrl, view.build_id),
  };
}

export function registerBuildRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { builds } = deps;
  const buildId = (params: unknown): string => parseOrThrow(buildIdParams, params, 'build id').id;

  app.post(
    '/executor/build-droplet',
    { schema: { body: buildDropletBody, response: { 202: buildAccepted, ...errorResponses(409, 429, 503) } }, config: { description: 'Start a build from an architect intent; answers 202 with stream and status URLs.', submitsBuilds: 'always' } },
    async (request, reply) => {
      const body = parseOrThrow(buildDropletBody, request.body, 'build request');
      const view = await builds.submit(submitInputFrom(body));
      return reply.code(202).send(acceptedBuild(view, deps.publicUrl));
    },
  );

  app.get(
    '/executor/builds',
    { schema: { querystring: listBuildsQuery, response: { 200: buildList } }, config: { description: 'List builds, newest first (limit, offset, status), as summaries (`view=full`: whole status views); X-Total-Count holds the total.' } },
    async (request, reply) => {
      const { view, ...query } = parseOrThrow(listBuildsQuery, request.query, 'list query');
      const { builds: page, total } = await builds.list(query);
      return reply.header('x-total-count', String(total)).send(view === 'full' ? page : page.map(summaryOf));
    },
  );

  app.get(
    '/executor/builds/:id/status',
    { schema: { params: buildIdParams, response: { 200: buildView, ...errorResponses(404) } }, config: { description: 'The status of one build: steps, progress, pending approval, error.' } },
    async (request) => builds.get(buildId(request.params)),
  );

  app.get(
    '/executor/builds/:id/events',
    { schema: { params: buildIdParams, querystring: afterQuery, response: { 200: buildEvent.array(), ...errorResponses(404) } }, config: { description: 'The build journal after sequence number `after`, oldest first.' } },
    async (request) => {
      const id = buildId(request.params);
      const { after } = parseOrThrow(afterQuery, request.query, 'events query');
      return builds.events(id, after);
    },
  );

  app.post(
    '/executor/builds/:id/approve',
    { schema: { params: buildIdParams, body: approveBody, response: { 200: buildSummary, ...errorResponses(404, 409) } }, config: { description: 'Approve or reject the gate a build is waiting at.' } },
    async (request) => {
      const id = buildId(request.params);
      const decision = parseOrThrow(approveBody, request.body, 'approval');
      const decided = await builds.approve(id, {
        approved: decision.approved,
        ...(decision.feedback !== undefined && { feedback: decision.feedback }),
      });
      // Actions answer small: GET …/status has the whole view.
      return summaryOf(decided);
    },
  );

  app.delete(
    '/executor/builds/:id',
    { schema: { params: buildIdParams, response: { 200: buildSummary, ...errorResponses(404, 409) } }, config: { description: 'Cancel a build; answers once its child processes are gone.' } },
    async (request) => summaryOf(await builds.cancel(buildId(request.params))),
  );

  app.post(
    '/executor/builds/:id/retry',
    { schema: { params: buildIdParams, querystring: retryQuery, response: { 202: buildSummary, ...errorResponses(404, 409) } }, config: { description: 'Re-run a failed or cancelled build, optionally from step `from_step` (1-8) and with a new `max_cost_usd`.' } },
    async (request, reply) => {
      const id = buildId(request.params);
      const { from_step: fromStep, max_cost_usd: maxCostUsd } = parseOrThrow(retryQuery, request.query, 'retry query');
      return reply.code(202).send(summaryOf(await builds.retry(id, fromStep, maxCostUsd)));
    },
  );
}
