/**
 * Build submissions are limited per client IP: each one runs generated code on this
 * host, so one client must not queue builds without end. `POST /executor/build-droplet`
 * and a `task_assignment` to `POST /message` draw on the same budget (routes say so
 * with `config.submitsBuilds`); every other route is unlimited. The count runs after
 * auth (onRequest), so refused requests spend nobody's budget, and after the body is
 * parsed, so a `/message` that starts no build spends none either.
 */
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions, preHandlerAsyncHookHandler } from 'fastify';
import { RateLimitedError } from '../domain/errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route starts builds: `always`, or only for a UDC `task_assignment` message. */
    submitsBuilds?: 'always' | 'task_assignment';
  }
}

export interface BuildRateLimit {
  /** Submissions a client may make per window. */
  max: number;
  windowSeconds: number;
}

function isTaskAssignment(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as { message_type?: unknown }).message_type === 'task_assignment';
}

function limitedError(limit: BuildRateLimit, ttlMs: number): RateLimitedError {
  const retryAfter = Math.max(1, Math.ceil(ttlMs / 1000));
  return new RateLimitedError(
    `Too many build submissions: at most ${limit.max} per ${limit.windowSeconds} s from one client. Retry in ${retryAfter} s.`,
    retryAfter,
    { limit: limit.max, window_seconds: limit.windowSeconds },
  );
}

function appendPreHandler(route: RouteOptions, hook: preHandlerAsyncHookHandler): void {
  const existing = route.preHandler;
  route.preHandler = existing === undefined ? [hook] : [...(Array.isArray(existing) ? existing : [existing]), hook];
}

/**
 * Call before any route. Without a limit (or with `max` 0) nothing is limited. A limited
 * request answers 429 RATE_LIMITED with Retry-After (set by the plugin) and
 * `details.retry_after_seconds`, through the one error handler.
 */
export async function registerBuildRateLimit(app: FastifyInstance, limit: BuildRateLimit | undefined): Promise<void> {
  if (!limit || limit.max <= 0) return;
  await app.register(fastifyRateLimit, {
    global: false,
    max: limit.max,
    timeWindow: limit.windowSeconds * 1000,
    keyGenerator: (request) => request.ip,
    errorResponseBuilder: (_request, context) => limitedError(limit, context.ttl),
  });
  // One handler, so both routes count against one budget per client.
  const spend = app.rateLimit();
  app.addHook('onRoute', (route) => {
    const which = route.config?.submitsBuilds;
    if (!which) return;
    appendPreHandler(route, async function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      if (which === 'task_assignment' && !isTaskAssignment(request.body)) return;
      await spend.call(this, request, reply);
    });
  });
}
