/**
 * The one error taxonomy. Everything that can reach a client is an AppError;
 * `statusFor` is the only place an error becomes an HTTP status, and
 * `toErrorBody` the only place it becomes the UDC error shape.
 */
export type ErrorDetails = Record<string, unknown>;

export abstract class AppError extends Error {
  abstract readonly status: number;
  /** Whether trying the same thing again can help (a retry, a resumed build). */
  readonly retryable: boolean = false;

  constructor(
    readonly code: string,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InputError extends AppError {
  readonly status = 400;
  constructor(message: string, details: ErrorDetails = {}, code = 'INVALID_INPUT') {
    super(code, message, details);
  }
}

export class UnauthorizedError extends AppError {
  readonly status = 401;
  constructor(message = 'A valid bearer token is required.') {
    super('UNAUTHORIZED', message);
  }
}

export class NotFoundError extends AppError {
  readonly status = 404;
  constructor(message: string, details: ErrorDetails = {}) {
    super('NOT_FOUND', message, details);
  }
}

export class ConflictError extends AppError {
  readonly status = 409;
  constructor(message: string, details: ErrorDetails = {}, code = 'CONFLICT') {
    super(code, message, details);
  }
}

export class PayloadTooLargeError extends AppError {
  readonly status = 413;
  constructor(message: string, details: ErrorDetails = {}) {
    super('PAYLOAD_TOO_LARGE', message, details);
  }
}

export class UnavailableError extends AppError {
  readonly status = 503;
  override readonly retryable = true;
  constructor(message: string, details: ErrorDetails = {}) {
    super('UNAVAILABLE', message, details);
  }
}

/**
 * A step failed for a reason worth showing the architect (a bad generated path,
 * a verification that never passed, a deploy that never became healthy).
 */
export class StepError extends AppError {
  readonly status = 422;
  override readonly retryable: boolean;
  constructor(code: string, message: string, details: ErrorDetails = {}, options: { retryable?: boolean } = {}) {
    super(code, message, details);
    this.retryable = options.retryable ?? false;
  }
}

/** A generated or requested path that would leave the repository or touch `.git/`. */
export class UnsafePathError extends StepError {
  constructor(path: string, reason: string) {
    super('UNSAFE_PATH', `Refused path "${path}": ${reason}.`, { path, reason });
  }
}

/** The next model call could pass the build's cost cap, so it is not made. */
export class BudgetExhaustedError extends StepError {
  constructor(spentUsd: number, capUsd: number, nextCallUsd: number, purpose: string) {
    super(
      'BUDGET_EXHAUSTED',
      `Budget exhausted: $${spentUsd.toFixed(4)} spent of the $${capUsd.toFixed(2)} cap, and the ${purpose} call could cost up to $${nextCallUsd.toFixed(4)} more.`,
      { spent_usd: spentUsd, cap_usd: capUsd, next_call_max_usd: nextCallUsd, purpose },
      // A retry with a higher max_cost_usd (or MAX_BUILD_COST_USD) goes on from here.
      { retryable: true },
    );
  }
}

/** The build was cancelled while this work was in flight. */
export class CancelledError extends AppError {
  readonly status = 409;
  constructor(message = 'The build was cancelled.') {
    super('CANCELLED', message);
  }
}

export class InternalError extends AppError {
  readonly status = 500;
  constructor(message = 'Internal error.', details: ErrorDetails = {}) {
    super('INTERNAL', message, details);
  }
}

export function statusFor(error: unknown): number {
  return error instanceof AppError ? error.status : 500;
}

export interface ErrorBody {
  error: { code: string; message: string; details: ErrorDetails };
}

/** The UDC error shape. 5xx bodies never carry internals. */
export function toErrorBody(error: unknown): ErrorBody {
  if (error instanceof AppError && error.status < 500) {
    return { error: { code: error.code, message: error.message, details: error.details } };
  }
  if (error instanceof UnavailableError) {
    return { error: { code: error.code, message: error.message, details: {} } };
  }
  return { error: { code: 'INTERNAL', message: 'The executor hit an internal error.', details: {} } };
}

/** Anything thrown, as an Error (non-Error throws happen in third-party code). */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}

export function isAbortError(thrown: unknown): boolean {
  return thrown instanceof CancelledError || (thrown instanceof Error && thrown.name === 'AbortError');
}

/** Throws CancelledError when the signal has fired; call between units of work. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
