/**
 * The list of endpoints `/capabilities` advertises, collected from the routes
 * as they are registered, so it cannot drift from what the app really serves.
 */
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** One line for `integration_endpoints`; routes without one are not advertised. */
    description?: string;
  }
}

export interface IntegrationEndpoint {
  method: string;
  path: string;
  description: string;
}

/** Call before any route is added; the returned array fills as routes register. */
export function collectRouteCatalog(app: FastifyInstance): readonly IntegrationEndpoint[] {
  const endpoints: IntegrationEndpoint[] = [];
  app.addHook('onRoute', (route) => {
    const description = route.config?.description;
    if (!description) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      // Fastify adds a HEAD twin for every GET; it is not a separate integration point.
      if (method === 'HEAD') continue;
      endpoints.push({ method, path: route.url.replace(/:([a-z_]+)/gi, '{$1}'), description });
    }
  });
  return endpoints;
}
