/**
 * One retry policy for every model call: 429 waits what the server asked, overloads,
 * 5xx, dropped connections and mid-stream errors back off with full jitter, a
 * stream silent past the idle timeout is aborted and retried, and a rejected request
 * (400, 401, 413…) fails at once. A retried call starts over: partial output is
 * never kept.
 */
import { CancelledError } from '../../domain/errors.js';
import { type ModelClient, ModelCallError, type ModelReply, type ModelRequest } from './types.js';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** First back-off; doubles per retry. */
  baseDelayMs: number;
  /** No single wait is longer, whatever retry-after says. */
  maxDelayMs: number;
  /** Abort the attempt when the answer stays silent this long. */
  idleTimeoutMs: number;
}

export interface RetryNotice {
  attempt: number;
  delayMs: number;
  error: ModelCallError;
}

/** The call failed for good: rejected, or still failing when retries ran out. */
export class ModelUnavailableError extends Error {
  constructor(
    readonly fault: ModelCallError,
    readonly attempts: number,
  ) {
    super(
      fault.kind === 'rejected'
        ? `The model API rejected the request: ${fault.message}`
        : `The model API still failed after ${attempts} attempt(s): ${fault.message}`,
    );
    this.name = 'ModelUnavailableError';
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new CancelledError());
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CancelledError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function backoffDelay(policy: RetryPolicy, error: ModelCallError, retry: number, random = Math.random): number {
  if (error.retryAfterMs !== null) return error.retryAfterMs;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(random() * ceiling);
}

/** One attempt with its own abort controller, so the idle watchdog can end it without cancelling the build. */
async function attemptOnce(client: ModelClient, request: ModelRequest, policy: RetryPolicy, signal: AbortSignal): Promise<ModelReply> {
  // A cancel that landed before this attempt started would never fire its listener.
  if (signal.aborted) throw new CancelledError();
  const attempt = new AbortController();
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      attempt.abort();
    }, policy.idleTimeoutMs);
  };
  const onCancel = () => attempt.abort();
  signal.addEventListener('abort', onCancel, { once: true });
  arm();
  try {
    const reply = await client.send(request, { signal: attempt.signal, onActivity: arm });
    // A client that ends quietly on abort must not pass off a partial answer as whole.
    if (signal.aborted) throw new CancelledError();
    if (stalled) throw new ModelCallError('stalled', `the answer stalled: nothing arrived for ${Math.round(policy.idleTimeoutMs / 1000)} s`);
    return reply;
  } catch (error) {
    if (signal.aborted) throw new CancelledError();
    if (stalled) throw new ModelCallError('stalled', `the answer stalled: nothing arrived for ${Math.round(policy.idleTimeoutMs / 1000)} s`);
    throw error;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onCancel);
  }
}

export async function sendWithRetries(
  client: ModelClient,
  request: ModelRequest,
  policy: RetryPolicy,
  options: {
    signal: AbortSignal;
    onRetry?: (notice: RetryNotice) => void;
    /** Before every attempt, retries included: the budget is checked per paid attempt. */
    beforeAttempt?: () => void | Promise<void>;
    /** After a failed attempt, with whatever usage it had already incurred. */
    onFailedAttempt?: (error: ModelCallError) => void | Promise<void>;
  },
): Promise<ModelReply> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await options.beforeAttempt?.();
      return await attemptOnce(client, request, policy, options.signal);
    } catch (error) {
      if (!(error instanceof ModelCallError)) throw error;
      await options.onFailedAttempt?.(error);
      if (error.kind === 'rejected' || attempt > policy.maxRetries) throw new ModelUnavailableError(error, attempt);
      const delayMs = backoffDelay(policy, error, attempt);
      if (delayMs > policy.maxDelayMs) {
        // Waiting longer than we allow would hold a build slot for nothing; say what the server asked.
        throw new ModelUnavailableError(new ModelCallError(error.kind, `${error.message}; the server asked to wait ${Math.round(delayMs / 1000)} s, more than the ${Math.round(policy.maxDelayMs / 1000)} s this executor waits`, error.status), attempt);
      }
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, options.signal);
    }
  }
}
