/**
 * One log line per request, written when the answer is sent: method, URL (credentials
 * masked), status, duration and the request id (a binding of the request's logger).
 * Fastify's own pair of lines ("incoming request", "request completed") is not written.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { maskCredentialUrl } from './credential-urls.js';

/** The UDC error code a request was answered with, for its request line. */
const errorCodes = new WeakMap<FastifyRequest, string>();

export function noteErrorCode(request: FastifyRequest, code: string): void {
  errorCodes.set(request, code);
}

/** The fields of a request line, as src/composition/logger.ts renders them at a terminal. */
export function requestLineOf(request: FastifyRequest, reply: FastifyReply): Record<string, unknown> {
  return {
    method: request.method,
    url: maskCredentialUrl(request.url),
    status_code: reply.statusCode,
    duration_ms: Math.round(reply.elapsedTime * 100) / 100,
    ...(errorCodes.has(request) && { error_code: errorCodes.get(request) }),
  };
}

export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {
    // The request is logged once, with its outcome.
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const line = requestLineOf(request, reply);
    if (error) reply.log.error({ ...line, err: error }, 'request');
    else if (reply.statusCode >= 500) reply.log.error(line, 'request');
    else reply.log.info(line, 'request');
  }
}
