/** The executor's own droplet contract: /health /capabilities /state /dependencies /message. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { AppDeps, ExecutorInfo } from '../deps.js';
import type { RequestMetrics } from '../metrics.js';
import type { IntegrationEndpoint } from '../route-catalog.js';
import { BUILD_FIELDS, type UdcMessage, buildDropletBody, parseOrThrow, udcMessageBody } from '../schemas.js';
import { acceptedBuild, submitInputFrom } from './builds.js';

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

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** `degraded` when the store does not answer; `unhealthy` when even asking it throws. */
export async function healthOf(info: ExecutorInfo): Promise<HealthStatus> {
  try {
    // Builds are refused while SANDBOX=required cannot be met: serving, but not fully.
    return (await info.storeHealthy()) && !info.sandboxDetail.unavailable_reason ? 'healthy' : 'degraded';
  } catch {
    return 'unhealthy';
  }
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

  app.get('/health', { config: { description: 'UDC health: status, timestamp, uptime, version (public).' } }, async (_request, reply) => {
    const status = await healthOf(info);
    return reply.code(status === 'unhealthy' ? 503 : 200).send({
      status,
      timestamp: new Date().toISOString(),
      uptime_seconds: uptimeSeconds(info),
      version: info.version,
    });
  });

  app.get('/capabilities', { config: { description: 'UDC capabilities: what the executor does and its endpoints.' } }, async () => ({
    service_name: SERVICE_NAME,
    droplet_id: EXECUTOR_DROPLET_ID,
    version: info.version,
    capabilities: CAPABILITIES,
    supported_operations: SUPPORTED_OPERATIONS,
    integration_endpoints: context.catalog,
  }));

  app.get('/state', { config: { description: 'UDC state: status, mode, last activity, build and request metrics.' } }, async () => {
    const counts = await info.buildCounts();
    return {
      status: (await healthOf(info)) === 'healthy' ? 'active' : 'error',
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

  app.get('/dependencies', { config: { description: 'UDC dependencies: the store, registry, notifiers and model API.' } }, async () => {
    const store = (await healthOf(info)) === 'healthy' ? 'available' : 'unavailable';
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

  app.post('/message', { config: { description: 'UDC message: a task_assignment with an intent starts a build.' } }, async (request) => {
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

/** The build request inside a task_assignment: `architect_intent` (or `intent`) plus the optional build fields. */
function buildRequestOf(message: UdcMessage): Record<string, unknown> {
  const { payload } = message;
  const request: Record<string, unknown> = { architect_intent: payload.architect_intent ?? payload.intent };
  for (const field of BUILD_FIELDS) {
    if (payload[field] !== undefined) request[field] = payload[field];
  }
  return request;
}
