// @ts-check
// The five endpoints every droplet answers (the UDC).
import { randomUUID } from 'node:crypto';
import { loadManifest } from './plan.js';

export const MESSAGE_TYPES = ['task_assignment', 'status_update', 'query', 'command', 'event', 'status'];
const PROBE_TIMEOUT_MS = 1000;
const PROBE_CACHE_MS = 5000;

const messageSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['from_service', 'message_type', 'payload'],
    properties: {
      from_service: { type: 'string', minLength: 1, maxLength: 200 },
      message_type: { type: 'string', enum: MESSAGE_TYPES },
      payload: { type: 'object' },
      reply_to: { type: 'string', maxLength: 2000 },
      trace_id: { type: 'string', maxLength: 200 },
    },
  },
};

/**
 * Whether the registry answers now; cached briefly so /dependencies stays cheap.
 * @param {string} registryUrl
 */
function registryProbe(registryUrl) {
  // Only the origin is shown: a URL may carry credentials.
  const origin = new URL(registryUrl).origin;
  /** @type {{ at: number, entry: Record<string, string> } | undefined} */
  let cached;
  return async () => {
    if (cached && Date.now() - cached.at < PROBE_CACHE_MS) return cached.entry;
    let status = 'unavailable';
    try {
      const response = await fetch(registryUrl + '/health', {
        redirect: 'manual',
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      await response.body?.cancel();
      if (response.ok) status = 'available';
    } catch {
      status = 'unavailable';
    }
    const entry = { name: 'registry', status, url: origin, checked_at: new Date().toISOString() };
    cached = { at: Date.now(), entry };
    return entry;
  };
}

/**
 * @typedef {{ config: import('./config.js').Config, metrics: import('./metrics.js').RequestMetrics,
 *   endpoints: import('./crud.js').Endpoint[], recordCount: () => number }} UdcContext
 */

/**
 * @param {import('fastify').FastifyInstance} app
 * @param {UdcContext} context
 */
export function registerUdcRoutes(app, { config, metrics, endpoints, recordCount }) {
  const manifest = loadManifest();
  const startedAt = Date.now();
  const uptimeSeconds = () => Math.floor((Date.now() - startedAt) / 1000);
  const probeRegistry = config.registryUrl ? registryProbe(config.registryUrl) : undefined;

  /** @type {Record<string, unknown>} */
  const capabilities = {
    service_name: config.serviceName,
    droplet_id: config.dropletId,
    version: manifest.version,
    description: manifest.description,
    capabilities: manifest.capabilities,
    supported_operations: manifest.supportedOperations,
    integration_endpoints: endpoints,
  };
  if (config.apiToken) capabilities.authentication = { type: 'bearer', env: 'API_TOKEN' };

  app.get('/health', async () => ({
    status: 'healthy',
    timestamp: new Date().toISOString(),
    uptime_seconds: uptimeSeconds(),
    version: manifest.version,
  }));

  app.get('/capabilities', async () => capabilities);

  app.get('/state', async () => ({
    status: 'active',
    mode: config.environment === 'production' ? 'production' : 'development',
    environment: config.environment,
    last_activity: metrics.lastActivity,
    uptime_seconds: uptimeSeconds(),
    metrics: { ...metrics.snapshot(), records_stored: recordCount() },
  }));

  app.get('/dependencies', async () => ({
    required_services: [],
    optional_services: probeRegistry ? [await probeRegistry()] : [],
    external_apis: [],
  }));

  app.post('/message', { schema: messageSchema }, async (request) => {
    const { from_service, message_type, trace_id } = /** @type {Record<string, unknown>} */ (request.body);
    const message_id = randomUUID();
    request.log.info({ message_id, from_service, message_type, trace_id }, 'message received');
    return { received: true, message_id, status: 'completed' };
  });
}
