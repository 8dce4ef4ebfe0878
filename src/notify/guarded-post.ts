/**
 * One POST to a notification target through the target guard, and what a delivery
 * attempt makes of its outcome. Plain node:http(s): nothing follows a redirect, and
 * the guard's agent resolves (and checks) the host at connect time.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CancelledError } from '../domain/errors.js';
import type { DeliveryAttempt } from '../domain/notification.js';
import { attempt } from './attempt.js';
import { hostOf, TargetRefusedError, type TargetGuard } from './target-guard.js';

/** Enough of an answer to name an error (Slack answers `no_service`, `invalid_payload`…). */
const MAX_ANSWER_BYTES = 4096;

export type PostOutcome =
  | { kind: 'response'; status: number; body: string }
  | { kind: 'refused'; reason: string }
  | { kind: 'timeout'; afterMs: number }
  | { kind: 'network'; reason: string };

export interface PostRequest {
  headers: Record<string, string>;
  body: string;
  /** The whole attempt: connect, send, answer. */
  timeoutMs: number;
  /** The caller's: aborting it throws CancelledError. */
  signal: AbortSignal;
}

/** POSTs once; every failure is an outcome, except the caller's abort (CancelledError). */
export async function guardedPost(guard: TargetGuard, target: string | URL, request: PostRequest): Promise<PostOutcome> {
  if (request.signal.aborted) throw new CancelledError();
  let url: URL;
  try {
    url = guard.checkUrl(target);
  } catch (error) {
    if (error instanceof TargetRefusedError) return { kind: 'refused', reason: error.message };
    throw error;
  }
  const timeout = AbortSignal.timeout(request.timeoutMs);
  try {
    const answer = await send(guard, url, request, AbortSignal.any([request.signal, timeout]));
    return { kind: 'response', ...answer };
  } catch (error) {
    if (request.signal.aborted) throw new CancelledError();
    if (error instanceof TargetRefusedError) return { kind: 'refused', reason: error.message };
    if (timeout.aborted) return { kind: 'timeout', afterMs: request.timeoutMs };
    return { kind: 'network', reason: networkReason(error) };
  }
}

function send(guard: TargetGuard, url: URL, request: PostRequest, signal: AbortSignal): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const outgoing = client(
      {
        protocol: url.protocol,
        hostname: hostOf(url),
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body, 'utf8')) },
        agent: guard.agentFor(url),
        signal,
      },
      (response) => readAnswer(response, resolve, reject),
    );
    outgoing.on('error', reject);
    outgoing.end(request.body, 'utf8');
  });
}

/** The status and the start of the body; a longer body is cut off, not waited for. */
function readAnswer(
  response: IncomingMessage,
  resolve: (answer: { status: number; body: string }) => void,
  reject: (error: Error) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const done = () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8') });
  response.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_ANSWER_BYTES) {
      done();
      response.destroy();
    }
  });
  response.on('end', done);
  response.on('error', reject);
  response.on('close', () => {
    if (!response.complete && size < MAX_ANSWER_BYTES) reject(new Error('the connection closed before the answer ended'));
  });
}

function networkReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && /^[A-Z_]{2,40}$/.test(code)) return code;
  return error instanceof Error ? error.message.slice(0, 200) : 'connection failed';
}

/** A short, printable word or two from an answer (`no_service`), or nothing. */
function answerWord(body: string): string {
  const text = body.trim();
  return /^[\w .,:-]{1,80}$/.test(text) ? `: ${text}` : '';
}

/** 2xx delivered; 429, 5xx, timeouts and network errors retry; the rest (redirects, 4xx, a refused target) will not succeed. */
export function attemptOf(outcome: PostOutcome): DeliveryAttempt {
  switch (outcome.kind) {
    case 'refused':
      return attempt('rejected', outcome.reason);
    case 'timeout':
      return attempt('retry', `timed out after ${outcome.afterMs} ms`);
    case 'network':
      return attempt('retry', `network error: ${outcome.reason}`);
    case 'response': {
      const { status } = outcome;
      const detail = `HTTP ${status}${answerWord(outcome.body)}`;
      if (status >= 200 && status < 300) return attempt('delivered', `HTTP ${status}`);
      if (status === 429 || status >= 500) return attempt('retry', detail);
      if (status >= 300 && status < 400) return attempt('rejected', `HTTP ${status}: redirects are not followed`);
      return attempt('rejected', detail);
    }
  }
}
