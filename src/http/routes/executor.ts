/** `/executor/health` and `/executor/capabilities`: the executor-specific views the seed's clients read. */
import type { FastifyInstance } from 'fastify';
import { APPROVAL_MODES, STEP_LABELS, STEP_NAMES, stepNumberOf } from '../../domain/build.js';
import type { AppDeps } from '../deps.js';
import { executorCapabilities, executorHealth } from '../response-schemas.js';
import { MAX_NOTIFY_CHANNELS } from '../schemas.js';
import { assessHealth } from '../health.js';
import { CAPABILITIES, SERVICE_NAME, uptimeSeconds } from './udc.js';

/** Whether the model API answered the author's last call; `not_used` for the offline author. */
function authorApi(info: AppDeps['info']): Record<string, unknown> {
  const status = info.author.status();
  if (!status) return { status: 'not_used' };
  return { status: status.api, model: status.model, last_call_at: status.last_call_at, last_error: status.last_error };
}

export function registerExecutorRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { info } = deps;

  app.get(
    '/executor/health',
    { schema: { response: { 200: executorHealth, 503: executorHealth.describe('Unhealthy: the store cannot be asked.') } }, config: { description: 'Executor health: author, sandbox, deploy target, registry, active builds (public).' } },
    async (_request, reply) => {
      const { status, problems } = await assessHealth(info);
      const counts = status === 'unhealthy' ? {} : await info.buildCounts();
      return reply.code(status === 'unhealthy' ? 503 : 200).send({
        status,
        service: SERVICE_NAME,
        version: info.version,
        timestamp: new Date().toISOString(),
        uptime_seconds: uptimeSeconds(info),
        author: info.author.id,
        author_api: authorApi(info),
        sandbox: info.sandbox,
        sandbox_detail: info.sandboxDetail,
        deploy_target: info.deployTarget,
        registry: info.registry,
        active_builds: (counts.queued ?? 0) + (counts.in_progress ?? 0),
        waiting_approval: counts.waiting_approval ?? 0,
        builds_by_status: counts,
        // What makes it degraded, each with its fix (e.g. install bubblewrap).
        problems,
      });
    },
  );

  app.get(
    '/executor/capabilities',
    { schema: { response: { 200: executorCapabilities } }, config: { description: 'Executor capabilities: author, deploy target, registry, limits, approval modes, steps.' } },
    async () => ({
      service: SERVICE_NAME,
      version: info.version,
      capabilities: CAPABILITIES,
      author: { id: info.author.id, description: info.author.description, ...(info.author.status() ?? {}) },
      deploy_target: info.deployTarget,
      registry: info.registry,
      sandbox: info.sandbox,
      sandbox_detail: info.sandboxDetail,
      max_concurrent_builds: info.maxConcurrentBuilds,
      max_build_iterations: info.maxBuildIterations,
      approval_modes: APPROVAL_MODES,
      default_approval_mode: 'final',
      steps: STEP_NAMES.map((step) => ({ step_number: stepNumberOf(step), step, name: STEP_LABELS[step] })),
      notify_channels: info.notifyChannels,
      max_notify_channels_per_build: MAX_NOTIFY_CHANNELS,
    }),
  );
}
