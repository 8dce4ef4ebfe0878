// @ts-check
// The one error shape of the UDC: {"error": {"code", "message", "details"}}.

/** Something the droplet cannot start with (a bad variable, plan or data file): it stops at boot. */
export class StartupError extends Error {}

export class HttpError extends Error {
  /**
   * @param {number} statusCode
   * @param {string} code
   * @param {string} message
   * @param {Record<string, unknown>} [details]
   */
  constructor(statusCode, code, message, details = {}) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
    this.details = details;
  }
}

/** @type {Record<number, string>} */
const CODE_BY_STATUS = {
  400: 'INVALID_INPUT',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_ENTITY',
  429: 'TOO_MANY_REQUESTS',
};

/**
 * @param {string} code
 * @param {string} message
 * @param {Record<string, unknown>} [details]
 */
export function errorBody(code, message, details = {}) {
  return { error: { code, message, details } };
}

/** @param {unknown} text */
function sentence(text) {
  const trimmed = String(text || 'The request was refused').trim();
  return /[.!?]$/.test(trimmed) ? trimmed : trimmed + '.';
}

/**
 * What Fastify attaches to an error it raises itself (validation, body limit, bad JSON).
 * @typedef {{ validation?: { instancePath?: string, keyword: string, message?: string, params: unknown }[],
 *   validationContext?: string, statusCode?: number, message?: string }} FrameworkError
 */

/**
 * Anything thrown while handling a request → [status, body]. 5xx bodies carry no internals.
 * @param {unknown} thrown
 * @returns {[number, ReturnType<typeof errorBody>]}
 */
export function toErrorResponse(thrown) {
  if (thrown instanceof HttpError) return [thrown.statusCode, errorBody(thrown.code, thrown.message, thrown.details)];
  const error = /** @type {FrameworkError} */ (typeof thrown === 'object' && thrown !== null ? thrown : {});
  if (Array.isArray(error.validation)) {
    const issues = error.validation.map((issue) => ({
      path: issue.instancePath || '/',
      keyword: issue.keyword,
      message: issue.message,
      params: issue.params,
    }));
    const where = error.validationContext || 'body';
    return [400, errorBody('VALIDATION_FAILED', sentence('Invalid request ' + where + ': ' + error.message), { issues })];
  }
  const status = error.statusCode;
  if (status !== undefined && Number.isInteger(status) && status >= 400 && status < 500) {
    return [status, errorBody(CODE_BY_STATUS[status] || 'BAD_REQUEST', sentence(error.message))];
  }
  return [500, errorBody('INTERNAL', 'The droplet hit an internal error.')];
}
