/**
 * The fleet registry's API under `/registry`, served when the executor is the registry
 * (REGISTRY_URL unset): other droplets and executors register, heartbeat and look each
 * other up here. Field names are the wire's; entries pass through as the port returns them.
 * Writes on an entry carry its token in `X-Registry-Entry-Token` (see the port); the
 * creating answer of a registration is the only one that carries it back.
 */
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ENTRY_TOKEN_HEADER, registryEntryNotFound, type EntryCredential, type FleetRegistry, type ServiceRegistration } from '../../domain/ports/fleet-registry.js';
import { isOperator } from '../auth.js';
import { entryTokenHeader, heartbeatBody, registerBody, serviceIdParams, serviceUrl, servicesQuery, type RegisterBody } from '../registry-schemas.js';
import { parseOrThrow } from '../schemas.js';
import { z } from 'zod';
import { errorResponses, registryEntry } from '../response-schemas.js';

/** Writes on an entry carry its token (see the port). */
const entryTokenHeaders = z.object({ [ENTRY_TOKEN_HEADER]: entryTokenHeader });
const registered = z.looseObject({ entry: registryEntry, changed: z.boolean(), created: z.boolean(), entry_token: z.string().optional().describe('Only in the creating (201) answer: keep it, it is the credential for later writes.') });

/** The caller's address as a URL host: IPv4-mapped IPv6 unwrapped, IPv6 bracketed. */
export function callerHost(ip: string): string {
  const unmapped = ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  return isIP(unmapped) === 6 ? `[${unmapped}]` : unmapped;
}

/** `port` without a url: the service runs where the request came from (held to the same rules as a given url). */
function toRegistration(body: RegisterBody, request: FastifyRequest): ServiceRegistration {
  const { port, url, ...rest } = body;
  const resolved = url ?? parseOrThrow(serviceUrl, `http://${callerHost(request.ip)}:${port}`, "registration url (from the caller's address)");
  return { ...rest, url: resolved, ...(port !== undefined ? { port } : {}) };
}

/** Who is writing: the entry token the request carries, and whether it presented API_TOKEN. */
function credentialOf(request: FastifyRequest): EntryCredential {
  const entryToken = parseOrThrow(entryTokenHeader, request.headers[ENTRY_TOKEN_HEADER], `${ENTRY_TOKEN_HEADER} header`);
  return { entryToken, operator: isOperator(request) };
}

const auth = 'registry' as const;

export function registerRegistryRoutes(app: FastifyInstance, registry: FleetRegistry): void {
  const idOf = (params: unknown) => parseOrThrow(serviceIdParams, params, 'registry entry id').id;

  // Droplets given REGISTRY_URL probe `{REGISTRY_URL}/health` for their /dependencies.
  app.get('/registry/health', { schema: { response: { 200: z.object({ status: z.literal('healthy'), timestamp: z.string() }) } }, config: { description: 'Whether the fleet registry answers (public).' } }, async () => {
    await registry.get(0); // the store answers
    return { status: 'healthy', timestamp: new Date().toISOString() };
  });

  app.post('/registry/register', { schema: { body: registerBody, headers: entryTokenHeaders, response: { 200: registered, 201: registered, ...errorResponses(403, 409) } }, config: { auth, description: 'Register a service in the fleet registry (idempotent by build_id; 201 when new, answering the entry token once).' } }, async (request, reply) => {
    const body = parseOrThrow(registerBody, request.body, 'registration');
    const { entryToken } = credentialOf(request);
    const outcome = await registry.register(toRegistration(body, request), { entryToken });
    return reply.code(outcome.created ? 201 : 200).send(outcome);
  });

  app.post('/registry/heartbeat', { schema: { body: heartbeatBody, headers: entryTokenHeaders, response: { 200: registryEntry, ...errorResponses(403, 404) } }, config: { auth, description: "Renew a registry entry's lease and report its health (needs its entry token); 404 means register again." } }, async (request) => {
    const body = parseOrThrow(heartbeatBody, request.body, 'heartbeat');
    const { entryToken } = credentialOf(request);
    return registry.heartbeat(body.id ?? body.name!, body.status, { entryToken });
  });

  app.get('/registry/services', { schema: { querystring: servicesQuery, response: { 200: z.object({ services: z.array(registryEntry), total: z.number().int() }) } }, config: { auth, description: 'The live services of the fleet, filtered by capability, health or name.' } }, async (request) => {
    const query = parseOrThrow(servicesQuery, request.query, 'service query');
    const services = await registry.list(query);
    return { services, total: services.length };
  });

  app.get('/registry/services/:id', { schema: { params: serviceIdParams, response: { 200: registryEntry, ...errorResponses(404) } }, config: { auth, description: 'One live registry entry, by id or name.' } }, async (request) => {
    const id = idOf(request.params);
    const entry = await registry.get(id);
    if (!entry) throw registryEntryNotFound(id);
    return entry;
  });

  app.delete('/registry/services/:id', { schema: { params: serviceIdParams, headers: entryTokenHeaders, response: { 200: z.object({ deregistered: z.literal(true), id: z.union([z.number().int(), z.string()]) }), ...errorResponses(403, 404) } }, config: { auth, description: 'Deregister a service, by id or name (needs its entry token, or API_TOKEN).' } }, async (request) => {
    const id = idOf(request.params);
    if (!(await registry.deregister(id, credentialOf(request)))) throw registryEntryNotFound(id);
    return { deregistered: true, id };
  });
}
