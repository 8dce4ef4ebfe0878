/**
 * One HTTP request to an untrusted droplet: bounded in time and in body size, never
 * throwing for what the droplet does (refused connection, garbage, huge body).
 */
import { performance } from 'node:perf_hooks';
import { CancelledError } from '../domain/errors.js';

const MAX_BODY_BYTES = 256 * 1024;

export interface ProbeRequest {
  method: string;
  path: string;
  token?: string;
  /** Sent as JSON. */
  json?: unknown;
  timeoutMs: number;
  signal: AbortSignal;
}

export interface ProbeResponse {
  status: number;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: unknown;
  ms: number;
}

export type ProbeOutcome = { answered: true; response: ProbeResponse } | { answered: false; reason: string };

async function readCapped(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw new Error(`body larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** @throws CancelledError when `signal` fires; every other failure is an outcome. */
export async function probe(baseUrl: string, request: ProbeRequest): Promise<ProbeOutcome> {
  if (request.signal.aborted) throw new CancelledError();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (request.token !== undefined) headers.authorization = `Bearer ${request.token}`;
  if (request.json !== undefined) headers['content-type'] = 'application/json';
  // The path comes from the droplet: `//other-host/x` would make the host fetch anywhere.
  const target = new URL(request.path, baseUrl);
  if (target.origin !== new URL(baseUrl).origin) return { answered: false, reason: `refused: ${JSON.stringify(snippet(request.path, 80))} leaves the droplet` };
  const started = performance.now();
  try {
    const response = await fetch(target, {
      method: request.method,
      headers,
      body: request.json === undefined ? undefined : JSON.stringify(request.json),
      redirect: 'manual',
      signal: AbortSignal.any([request.signal, AbortSignal.timeout(request.timeoutMs)]),
    });
    const text = await readCapped(response);
    const ms = Math.round(performance.now() - started);
    return { answered: true, response: { status: response.status, text, json: parseJson(text), ms } };
  } catch (error) {
    if (request.signal.aborted) throw new CancelledError();
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const reason = error instanceof Error && error.name === 'TimeoutError'
      ? `no answer within ${request.timeoutMs} ms`
      : `no answer (${cause ?? (error instanceof Error ? error.message : String(error))})`;
    return { answered: false, reason };
  }
}

/** A body as a short one-line string for a check's `got`. */
export function snippet(text: string, max = 120): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line === '') return 'an empty body';
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
