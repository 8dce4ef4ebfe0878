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
 *
 * The token travels in `Authorization: Bearer`; only a WebSocket upgrade to a route that
 * says `config.tokenInQuery` may carry it as `?token=` instead (browsers cannot set
 * headers on a WebSocket). Request lines mask that value (credential-urls.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, HTTPMethods, onRequestAsyncHookHandler, RouteOptions } from 'fastify';
import { UnauthorizedError } from '../domain/errors.js';

export const ROUTE_AUTHS = ['signed-link', 'registry', 'public'] as const;
export type RouteAuth = (typeof ROUTE_AUTHS)[number];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's access policy (see auth.ts); unset: the API token. */
    auth?: RouteAuth;
    /** A WebSocket route: its upgrade may carry the API token as `?token=` (browsers cannot set the header). */
    tokenInQuery?: boolean;
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

/** `?token=` counts only on a WebSocket upgrade (`request.ws`, set by @fastify/websocket) to a route that allows it. */
function queryToken(request: FastifyRequest): string | undefined {
  if (request.ws !== true || request.routeOptions.config?.tokenInQuery !== true) return undefined;
  const token = (request.query as Record<string, unknown> | undefined)?.token;
  return typeof token === 'string' && token !== '' ? token : undefined;
}

/** The header wins when both are sent: a plain HTTP request never authenticates by its URL. */
export function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return queryToken(request);
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

/** A route the app serves and the access policy it declared (read when asked: other onRoute hooks may set it later). */
export interface ServedRoute {
  method: HTTPMethods;
  url: string;
  auth(): RouteAuth | undefined;
}

const servedRoutes = new WeakMap<FastifyInstance, ServedRoute[]>();

/**
 * Call before any route: records every route as it registers (HEAD twins too), so the
 * auth policy can be checked over all of them, and refuses a policy it does not know
 * (a typo would otherwise fall back to "needs the API token" silently, or worse).
 */
export function trackServedRoutes(app: FastifyInstance): void {
  const routes: ServedRoute[] = [];
  servedRoutes.set(app, routes);
  app.addHook('onRoute', (route: RouteOptions) => {
    const policy = route.config?.auth;
    if (policy !== undefined && !ROUTE_AUTHS.includes(policy)) throw new Error(`Route ${route.url} declares an unknown auth policy "${String(policy)}".`);
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) routes.push({ method, url: route.url, auth: () => route.config?.auth });
  });
}

/** The routes `app` serves, as `trackServedRoutes` recorded them. */
export function servedRoutesOf(app: FastifyInstance): readonly ServedRoute[] {
  return servedRoutes.get(app) ?? [];
}
