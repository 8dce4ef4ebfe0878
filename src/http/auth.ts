/** Bearer-token check for every route but the public health ones. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { UnauthorizedError } from '../domain/errors.js';

/** Routes a load balancer or registry must reach without credentials (GET, and the HEAD Fastify adds). */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['/health', '/executor/health']);

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

function isPublic(request: FastifyRequest): boolean {
  const route = request.routeOptions.url;
  return (request.method === 'GET' || request.method === 'HEAD') && route !== undefined && PUBLIC_ROUTES.has(route);
}

export function bearerAuth(expected: string): onRequestAsyncHookHandler {
  return async (request) => {
    if (isPublic(request)) return;
    const token = presentedToken(request);
    if (token === undefined) throw new UnauthorizedError();
    if (!tokenMatches(token, expected)) throw new UnauthorizedError('The bearer token is not valid.');
  };
}
