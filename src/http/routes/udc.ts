/** The executor's own droplet contract: /health /capabilities /state /dependencies /message. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { AppDeps, ExecutorInfo } from '../deps.js';
import type { RequestMetrics } from '../metrics.js';
import type { IntegrationEndpoint } from '../route-catalog.js';
import { buildDropletBody, parseOrThrow, udcMessageBody } from '../schemas.js';
import { acceptedBuild, submitInputFrom } from './builds.js';
import { MESSAGE_TYPES_DESCRIPTION, buildRequestOf } from '../task-assignment.js';
import { assessHealth, type HealthStatus } from '../health.js';
import { errorResponses, messageReceipt, udcCapabilities, udcDependencies, udcHealth, udcState } from '../response-schemas.js';

export const SERVICE_NAME = 'autonomous-executor';
/** The executor's id in the fleet. Not yet configurable: ExecutorInfo has no droplet id. */
export const EXECUTOR_DROPLET_ID = 0;
const REGISTRY_PROBE_MS = 2_000;

export const CAPABILITIES = [
  'autonomous_build',
  'spec_generation',
  'code_generation',
  'verification',
  'deployment',
  'registry_update',
  'notification',
  'approval_gates',
  'progress_streaming',
];

export const SUPPORTED_OPERATIONS = [
  'build_droplet',
  'get_build_status',
  'list_builds',
  'get_build_events',
  'stream_build',
  'approve_build',
  'cancel_build',
  'retry_build',
  'list_droplets',
];

export type { HealthStatus };

/** See src/http/health.ts: `degraded` with problems to fix, `unhealthy` when the store cannot be asked. */
export async function healthOf(info: ExecutorInfo): Promise<HealthStatus> {
  return (await assessHealth(info)).status;
}

export function uptimeSeconds(info: ExecutorInfo): number {
  return Math.max(0, Math.floor((Date.now() - info.startedAt.getTime()) / 1000));
}

async function reachable(probe: () => Promise<unknown>, timeoutMs: number): Promise<'available' | 'unavailable'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'unavailable'>((resolve) => {
    timer = setTimeout(() => resolve('unavailable'), timeoutMs);
  });
  try {
    return await Promise.race([probe().then(() => 'available' as const), timeout]);
  } catch {
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}

export interface UdcRouteContext {
  catalog: readonly IntegrationEndpoint[];
  metrics: RequestMetrics;
}

export function registerUdcRoutes(app: FastifyInstance, deps: AppDeps, context: UdcRouteContext): void {
  const { info } = deps;

  app.get('/health', { schema: { response: { 200: udcHealth, 503: udcHealth.describe('Unhealthy: the store cannot be asked.') } }, config: { description: 'UDC health: status, timestamp, uptime, version (public).' } }, async (_request, reply) => {
    // UDC: a degraded executor still answers 200; only an unhealthy one 503. `problems` say what to fix.
    const { status, problems } = await assessHealth(info);
    return reply.code(status === 'unhealthy' ? 503 : 200).send({
      status,
      timestamp: new Date().toISOString(),
      uptime_seconds: uptimeSeconds(info),
      version: info.version,
      problems,
    });
  });

  app.get('/capabilities', { schema: { response: { 200: udcCapabilities } }, config: { description: 'UDC capabilities: what the executor does and its endpoints.' } }, async () => ({
    service_name: SERVICE_NAME,
    droplet_id: EXECUTOR_DROPLET_ID,
    version: info.version,
    capabilities: CAPABILITIES,
    supported_operations: SUPPORTED_OPERATIONS,
    integration_endpoints: context.catalog,
    // What POST /message does with each message type, and the fields of a task_assignment's payload.
    message_types: MESSAGE_TYPES_DESCRIPTION,
  }));

  app.get('/state', { schema: { response: { 200: udcState } }, config: { description: 'UDC state: status, mode, last activity, build and request metrics.' } }, async () => {
    const counts = await info.buildCounts();
    return {
      // `error` when builds cannot run; a sandbox fallback (builds run, less isolated) is a health problem only.
      status: (await assessHealth(info)).problems.some((problem) => problem.builds_refused) ? 'error' : 'active',
      mode: 'production',
      last_activity: (context.metrics.lastActivity() ?? info.startedAt).toISOString(),
      metrics: {
        builds_by_status: counts,
        active_builds: (counts.queued ?? 0) + (counts.in_progress ?? 0),
        waiting_approval: counts.waiting_approval ?? 0,
        max_concurrent_builds: info.maxConcurrentBuilds,
        ...context.metrics.snapshot(),
      },
    };
  });

  app.get('/dependencies', { schema: { response: { 200: udcDependencies } }, config: { description: 'UDC dependencies: the store, registry, notifiers and model API.' } }, async () => {
    const store = (await assessHealth(info)).problems.some((problem) => problem.component === 'store') ? 'unavailable' : 'available';
    const registry = await reachable(() => deps.registry.list(), REGISTRY_PROBE_MS);
    return {
      required_services: [{ name: 'sqlite', status: store }],
      optional_services: [
        { name: 'registry', kind: info.registry, status: registry },
        { name: 'deploy_target', kind: info.deployTarget, status: 'configured' },
        ...info.notifyChannels.map((channel) => ({ name: `notify:${channel}`, kind: channel, status: 'configured' })),
      ],
      // An offline author calls nothing; a model author's API is only probed by real builds.
      external_apis:
        info.author.id === 'offline'
          ? []
          : [{ name: info.author.id, description: info.author.description, status: 'configured' }],
    };
  });

  app.post('/message', { schema: { body: udcMessageBody, response: { 200: messageReceipt, ...errorResponses(409, 429, 503) } }, config: { description: 'UDC message: a task_assignment with an intent starts a build.', submitsBuilds: 'task_assignment' } }, async (request) => {
    const message = parseOrThrow(udcMessageBody, request.body, 'message');
    const messageId = `msg-${randomUUID()}`;
    request.log.info({ from_service: message.from_service, message_type: message.message_type, message_id: messageId }, 'UDC message');
    const echo = { received: true as const, message_id: messageId, ...(message.trace_id !== undefined && { trace_id: message.trace_id }) };
    if (message.message_type !== 'task_assignment') return { ...echo, status: 'completed' };
    const view = await deps.builds.submit(submitInputFrom(parseOrThrow(buildDropletBody, buildRequestOf(message), 'task_assignment payload')));
    const { status: buildStatus, ...build } = acceptedBuild(view, deps.publicUrl);
    return { ...echo, status: 'processing', build_status: buildStatus, ...build };
  });
}

