/**
 * The one place HTTP errors are answered. Our own AppErrors map through
 * `statusFor`/`toErrorBody`; Fastify's own errors (bad JSON, wrong content type,
 * body too large, bad URL) are first translated into AppErrors so every client
 * sees the same UDC body. 5xx bodies carry nothing internal; the log has the stack.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, InputError, NotFoundError, PayloadTooLargeError, asError, statusFor, toErrorBody } from '../domain/errors.js';
import { maskCredentialUrl } from './credential-urls.js';
import { noteErrorCode } from './request-log.js';

export class UnsupportedMediaTypeError extends AppError {
  readonly status = 415;
  constructor(contentType: string | undefined) {
    super('UNSUPPORTED_MEDIA_TYPE', 'Request bodies must be JSON (content-type: application/json).', {
      content_type: contentType ?? null,
    });
  }
}

/** A plain HTTP request to a WebSocket-only route. */
export class UpgradeRequiredError extends AppError {
  readonly status = 426;
  constructor(path: string) {
    super('UPGRADE_REQUIRED', `${path} is a WebSocket endpoint; connect with a WebSocket client.`);
  }
}

class UriTooLongError extends AppError {
  readonly status = 414;
  constructor() {
    super('URI_TOO_LONG', 'A path parameter is too long.');
  }
}

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && typeof (error as Partial<FastifyError>).code === 'string';
}

/** Turns whatever was thrown into an AppError when it says something a client should see. */
export function toAppError(thrown: unknown, request: FastifyRequest, bodyLimit: number): unknown {
  if (thrown instanceof AppError || !isFastifyError(thrown)) return thrown;
  switch (thrown.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new InputError('The request body is not valid JSON.', {}, 'INVALID_JSON');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new InputError('The request body is empty although its content-type is application/json.', {}, 'INVALID_JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLargeError(`The request body is larger than the limit of ${bodyLimit} bytes.`, {
        limit_bytes: bodyLimit,
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeError(request.headers['content-type']);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new InputError('The request body does not match its Content-Length.', {}, 'INVALID_CONTENT_LENGTH');
    case 'FST_ERR_BAD_URL':
      return new InputError('The URL contains an invalid escape sequence.', {}, 'INVALID_URL');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new UriTooLongError();
  }
  // Anything else from Fastify with a 4xx status is still the client's mistake.
  const status = thrown.statusCode ?? 500;
  if (status >= 400 && status < 500) return new InputError(thrown.message, { reason: thrown.code });
  return thrown;
}

export function sendError(thrown: unknown, request: FastifyRequest, reply: FastifyReply, bodyLimit: number): FastifyReply {
  const error = toAppError(thrown, request, bodyLimit);
  const status = statusFor(error);
  const body = toErrorBody(error);
  // The code goes into the request's one log line (src/http/request-log.ts); a failure also logs its cause.
  noteErrorCode(request, body.error.code);
  if (status >= 500) request.log.error({ err: asError(thrown) }, 'request failed');
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/** Registers the error handler, the not-found handler and nothing else: call once on the root instance. */
export function registerErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply, bodyLimit));
  app.setNotFoundHandler((request, reply) =>
    sendError(
      // A mangled approval link (trailing slash, cut short) lands here: its token is not echoed.
      new NotFoundError(`No route ${request.method} ${maskCredentialUrl(request.url.split('?')[0] ?? '').slice(0, 200)}.`, {
        method: request.method,
      }),
      request,
      reply,
      bodyLimit,
    ),
  );
}

/** For errors Fastify raises before routing (bad URL escapes, over-long params): pass as `frameworkErrors`. */
export function frameworkErrorResponder(bodyLimit: number) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    sendError(error, request, reply, bodyLimit);
  };
}
