/**
 * The one error taxonomy. Everything that can reach a client is an AppError;
 * `statusFor` is the only place an error becomes an HTTP status, and
 * `toErrorBody` the only place it becomes the UDC error shape.
 */
import type { BuildEndCode, StepErrorCode } from './error-codes.js';

export type ErrorDetails = Record<string, unknown>;

export abstract class AppError extends Error {
  abstract readonly status: number;

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

/** Authenticated, but this caller may not do this (another's registry entry). */
export class ForbiddenError extends AppError {
  readonly status = 403;
  constructor(message: string, details: ErrorDetails = {}, code = 'FORBIDDEN') {
    super(code, message, details);
  }
}

export class NotFoundError extends AppError {
  readonly status = 404;
  constructor(message: string, details: ErrorDetails = {}, code = 'NOT_FOUND') {
    super(code, message, details);
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

/** Too many requests of a limited kind (build submissions) from one client: wait `retry_after_seconds`. */
export class RateLimitedError extends AppError {
  readonly status = 429;
  constructor(message: string, retryAfterSeconds: number, details: ErrorDetails = {}) {
    super('RATE_LIMITED', message, { retry_after_seconds: retryAfterSeconds, ...details });
  }
}

export class UnavailableError extends AppError {
  readonly status = 503;
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
  declare readonly code: StepErrorCode;
  /** Whether a retry can help is the code's trait (error-codes.ts), not the thrower's choice. */
  constructor(code: StepErrorCode, message: string, details: ErrorDetails = {}) {
    super(code, message, details);
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
      // A retry with a higher max_cost_usd (or MAX_BUILD_COST_USD) goes on from here.
      { spent_usd: spentUsd, cap_usd: capUsd, next_call_max_usd: nextCallUsd, purpose },
    );
  }
}

/** The build was cancelled while this work was in flight. */
export class CancelledError extends AppError {
  readonly status = 409;
  constructor(message = 'The build was cancelled.') {
    super('CANCELLED' satisfies BuildEndCode, message);
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
