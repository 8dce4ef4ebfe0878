/**
 * Who may call what. Each route states its policy in `config.auth`:
 * - unset: the executor's API, `Authorization: Bearer <API_TOKEN>` (open when API_TOKEN is unset);
 * - `'signed-link'`: no bearer check, the route verifies its own signed link (approval links);
 * - `'public'`: no bearer check, for what holds no build data (the dashboard's static files, the API description);
 * - `'registry'`: the fleet registry, API_TOKEN or REGISTRY_TOKEN; reads also DROPLET_API_TOKEN,
 *   which every deployed droplet holds, so droplets can look each other up but not register.
 *   With neither API_TOKEN nor REGISTRY_TOKEN the registry is open, unless DROPLET_API_TOKEN
 *   is set: then its writes are refused (see `accessFor`). A request that presented
 *   API_TOKEN is the operator's (`isOperator`).
 * The health routes stay public for load balancers and registries.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { UnauthorizedError } from '../domain/errors.js';

export type RouteAuth = 'signed-link' | 'registry' | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's access policy (see auth.ts); unset: the API token. */
    auth?: RouteAuth;
  }
}

/** Routes a load balancer or registry must reach without credentials (GET, and the HEAD Fastify adds). */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['/health', '/executor/health', '/registry/health']);

export interface AccessTokens {
  apiToken?: string | undefined;
  registryToken?: string | undefined;
  dropletToken?: string | undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Compares digests so neither the length nor the content of the token leaks through timing. */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

export function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

function isRead(request: FastifyRequest): boolean {
  return request.method === 'GET' || request.method === 'HEAD';
}

function isPublic(request: FastifyRequest): boolean {
  const route = request.routeOptions.url;
  return isRead(request) && route !== undefined && PUBLIC_ROUTES.has(route);
}

type Role = 'operator' | 'registry' | 'droplet';

interface Candidate {
  token: string;
  role: Role;
}

/**
 * What the request must present: nothing (`open`), or one of `candidates`. A registry
 * write on an executor that hands droplets DROPLET_API_TOKEN but has neither API_TOKEN nor
 * REGISTRY_TOKEN gets no candidate at all: nothing tells a droplet from a peer there, so
 * writes are refused (fail closed) rather than left open to every droplet.
 */
export type Access = { open: true } | { open: false; candidates: Candidate[] };

const OPEN: Access = { open: true };

function candidatesOf(entries: [string | undefined, Role][]): Candidate[] {
  return entries.filter((entry): entry is [string, Role] => typeof entry[0] === 'string' && entry[0] !== '').map(([token, role]) => ({ token, role }));
}

export function accessFor(request: FastifyRequest, tokens: AccessTokens): Access {
  if (isPublic(request)) return OPEN;
  const policy = request.routeOptions.config?.auth;
  if (policy === 'signed-link' || policy === 'public') return OPEN;
  if (policy !== 'registry') {
    const candidates = candidatesOf([[tokens.apiToken, 'operator']]);
    return candidates.length === 0 ? OPEN : { open: false, candidates };
  }
  const writers = candidatesOf([
    [tokens.apiToken, 'operator'],
    [tokens.registryToken, 'registry'],
  ]);
  if (isRead(request)) {
    return writers.length === 0 ? OPEN : { open: false, candidates: [...writers, ...candidatesOf([[tokens.dropletToken, 'droplet']])] };
  }
  return writers.length === 0 && !tokens.dropletToken ? OPEN : { open: false, candidates: writers };
}

/** Whether any route needs a token at all: install `bearerAuth` only then. */
export function authRequired(tokens: AccessTokens): boolean {
  return Boolean(tokens.apiToken || tokens.registryToken || tokens.dropletToken);
}

/** Requests that presented API_TOKEN: the operator, who may deregister any registry entry. */
const operators = new WeakSet<FastifyRequest>();

export function isOperator(request: FastifyRequest): boolean {
  return operators.has(request);
}

export function bearerAuth(tokens: AccessTokens | string): onRequestAsyncHookHandler {
  const resolved: AccessTokens = typeof tokens === 'string' ? { apiToken: tokens } : tokens;
  return async (request) => {
    const access = accessFor(request, resolved);
    if (access.open) return;
    if (access.candidates.length === 0) {
      throw new UnauthorizedError('Registry writes are refused: this executor hands droplets DROPLET_API_TOKEN but has neither API_TOKEN nor REGISTRY_TOKEN to tell a registrant from a droplet.');
    }
    const token = presentedToken(request);
    if (token === undefined) throw new UnauthorizedError();
    // Every candidate is compared, so timing does not tell which token a match was.
    const matched = access.candidates.map((candidate) => (tokenMatches(token, candidate.token) ? candidate.role : null));
    if (matched.every((role) => role === null)) throw new UnauthorizedError('The bearer token is not valid.');
    if (matched.includes('operator')) operators.add(request);
  };
}
