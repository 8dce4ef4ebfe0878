/**
 * The fleet registry of another executor or peer (REGISTRY_URL), over its HTTP API:
 * `POST {url}/register`, `POST {url}/heartbeat`, `GET {url}/services[/:id]`,
 * `DELETE {url}/services/:id`. Each request has its own timeout; 5xx, 429, timeouts and
 * dropped connections are retried with jittered back-off up to `maxAttempts`; any other
 * 4xx is a refusal (StepError REGISTRY_REFUSED quoting the registry's status, code and
 * message). Answers pass one zod guard (`registry-answers.ts`) before anyone reads them.
 * An entry's token travels only in the `X-Registry-Entry-Token` header, and is blanked from
 * whatever the registry answers before it is quoted.
 */
import { StepError } from '../domain/errors.js';
import {
  ENTRY_TOKEN_HEADER,
  registryEntryNotFound,
  type EntryCredential,
  type FleetRegistry,
  type RegisterOutcome,
  type RegistryEntry,
  type ServiceHealth,
  type ServiceQuery,
  type ServiceRegistration,
} from '../domain/ports/fleet-registry.js';
import type { z } from 'zod';
import { entryAnswer, errorAnswer, registerAnswer, servicesAnswer } from './registry-answers.js';

export interface HttpFleetRegistryOptions {
  /** REGISTRY_URL, the API's base (`http://peer:8400/registry`). Credentials in it are sent as Basic auth, never shown. */
  url: string;
  /** REGISTRY_TOKEN, sent as `Authorization: Bearer`. */
  token?: string;
  timeoutMs: number;
  maxAttempts: number;
  /** Back-off before attempt n+1: min(maxDelayMs, baseDelayMs·2^(n-1)), jittered to 50–100 %, at least what Retry-After asks. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Secrets never reach an error message: the registry may echo what it was sent. */
  redact: (text: string) => string;
  /** Told of every attempt that is retried (the composition logs them). */
  onRetry?: (retry: RegistryRetry) => void;
}

export interface RegistryRetry {
  request: string;
  attempt: number;
  /** The status answered, or why there was no answer (`timeout`, `ECONNREFUSED`…). */
  reason: string;
  delayMs: number;
}

interface Answer {
  status: number;
  body: unknown;
  request: string;
  /** The entry token the request presented: blanked from anything quoted. */
  entryToken?: string | undefined;
}

interface Call {
  method: string;
  path: string;
  body?: unknown;
  entryToken?: string | undefined;
}

const MAX_ANSWER_BYTES = 1024 * 1024;
const MAX_QUOTED = 300;

const retryable = (status: number) => status >= 500 || status === 429;

export class HttpFleetRegistry implements FleetRegistry {
  readonly id = 'http';
  /** The base without credentials: what is requested and shown. */
  private readonly base: string;
  private readonly authorization: string | undefined;
  private readonly closing = new AbortController();

  constructor(private readonly options: HttpFleetRegistryOptions) {
    const url = new URL(options.url);
    const basic = url.username || url.password ? Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64') : null;
    url.username = '';
    url.password = '';
    this.base = url.href.replace(/\/+$/, '');
    this.authorization = options.token ? `Bearer ${options.token}` : basic ? `Basic ${basic}` : undefined;
  }

  /** `credential.entryToken` proves the live name is ours, or becomes the new entry's token; the other fields mean nothing over HTTP. */
  async register(registration: ServiceRegistration, credential: EntryCredential = {}): Promise<RegisterOutcome> {
    const answer = this.expectOk(await this.call({ method: 'POST', path: '/register', body: registration, entryToken: credential.entryToken }));
    return this.parse(registerAnswer(answer.status), answer);
  }

  async heartbeat(idOrName: number | string, health: Exclude<ServiceHealth, 'unknown'>, credential: EntryCredential = {}): Promise<RegistryEntry> {
    const which = typeof idOrName === 'number' ? { id: idOrName } : { name: idOrName };
    const answer = await this.call({ method: 'POST', path: '/heartbeat', body: { ...which, status: health }, entryToken: credential.entryToken });
    if (answer.status === 404) throw registryEntryNotFound(idOrName);
    return this.parse(entryAnswer, this.expectOk(answer));
  }

  async list(query: ServiceQuery = {}): Promise<RegistryEntry[]> {
    const search = new URLSearchParams(Object.entries(query).filter((pair): pair is [string, string] => typeof pair[1] === 'string'));
    const answer = this.expectOk(await this.call({ method: 'GET', path: `/services${search.size > 0 ? `?${search}` : ''}` }));
    return this.parse(servicesAnswer, answer);
  }

  async get(idOrName: number | string): Promise<RegistryEntry | null> {
    const answer = await this.call({ method: 'GET', path: `/services/${encodeURIComponent(String(idOrName))}` });
    if (answer.status === 404) return null;
    return this.parse(entryAnswer, this.expectOk(answer));
  }

  async deregister(idOrName: number | string, credential: EntryCredential = {}): Promise<boolean> {
    const answer = await this.call({ method: 'DELETE', path: `/services/${encodeURIComponent(String(idOrName))}`, entryToken: credential.entryToken });
    if (answer.status === 404) return false;
    this.expectOk(answer);
    return true;
  }

  /** Aborts requests in flight and back-offs (the executor is stopping). */
  close(): void {
    this.closing.abort();
  }

  /** One request, retried while the registry answers 5xx/429, times out or drops the connection. */
  private async call(call: Call): Promise<Answer> {
    const request = `${call.method} ${call.path.replace(/\?.*$/, '')}`;
    for (let attempt = 1; ; attempt += 1) {
      let reason: string;
      let retryAfterMs = 0;
      try {
        const answer = await this.attempt(call, request);
        if (!retryable(answer.status) || attempt >= this.options.maxAttempts) return answer;
        reason = String(answer.status);
        retryAfterMs = answer.retryAfterMs;
      } catch (error) {
        if (this.closing.signal.aborted) throw this.unavailable(request, attempt, 'the executor is stopping');
        reason = failureOf(error);
        if (attempt >= this.options.maxAttempts) throw this.unavailable(request, attempt, reason);
      }
      const delayMs = this.delayBefore(attempt + 1, retryAfterMs);
      this.options.onRetry?.({ request, attempt, reason, delayMs });
      await sleep(delayMs, this.closing.signal).catch(() => {
        throw this.unavailable(request, attempt, 'the executor is stopping');
      });
    }
  }

  private async attempt({ method, path, body, entryToken }: Call, request: string): Promise<Answer & { retryAfterMs: number }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.authorization) headers.authorization = this.authorization;
    if (entryToken !== undefined) headers[ENTRY_TOKEN_HEADER] = entryToken;
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      // A redirect is answered as what it is (a refusal), never followed with the token.
      redirect: 'manual',
      signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.closing.signal]),
    });
    const text = await readCapped(response);
    return { status: response.status, body: parseAnswer(text), request, entryToken, retryAfterMs: retryAfterOf(response.headers.get('retry-after')) };
  }

  private delayBefore(attempt: number, retryAfterMs: number): number {
    const base = this.options.baseDelayMs ?? 500;
    const max = this.options.maxDelayMs ?? 10_000;
    const backoff = Math.min(max, base * 2 ** (attempt - 2)) * (0.5 + Math.random() / 2);
    return Math.round(Math.min(max, Math.max(backoff, retryAfterMs)));
  }

  /** 2xx passes; a 5xx/429 left after the retries is the registry unavailable; anything else a refusal. */
  private expectOk(answer: Answer): Answer {
    if (answer.status >= 200 && answer.status < 300) return answer;
    const quoted = this.quote(answer);
    if (retryable(answer.status)) {
      throw new StepError('REGISTRY_UNAVAILABLE', `The fleet registry at ${this.shown()} still answered ${answer.request} with ${quoted} after ${this.options.maxAttempts} attempt(s).`, {
        ...this.where(answer.request),
        status: answer.status,
        attempts: this.options.maxAttempts,
      });
    }
    throw new StepError('REGISTRY_REFUSED', `The fleet registry at ${this.shown()} refused ${answer.request}: ${quoted}.`, {
      ...this.where(answer.request),
      status: answer.status,
      registry_code: errorAnswer.safeParse(answer.body).data?.error.code ?? null,
    });
  }

  private parse<T>(schema: z.ZodType<T>, answer: Answer): T {
    const parsed = schema.safeParse(answer.body);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    throw new StepError('REGISTRY_REFUSED', `The fleet registry at ${this.shown()} answered ${answer.request} with something that is not a registry answer (${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'unreadable'}).`, {
      ...this.where(answer.request),
      status: answer.status,
    });
  }

  /** `409 REGISTRY_NAME_TAKEN: The name … is registered by droplet 3`, capped and redacted. */
  private quote(answer: Answer): string {
    const error = errorAnswer.safeParse(answer.body).data?.error;
    const said = error ? [error.code, error.message].filter(Boolean).join(': ') : typeof answer.body === 'string' ? answer.body : '';
    const capped = said.length > MAX_QUOTED ? `${said.slice(0, MAX_QUOTED)}…` : said;
    // Our sentence ends with its own full stop.
    const tidy = capped.replace(/\s+/g, ' ').trim().replace(/\.+$/, '');
    const quoted = this.options.redact(tidy ? `${answer.status} ${tidy}` : String(answer.status));
    return answer.entryToken ? quoted.split(answer.entryToken).join('[REDACTED]') : quoted;
  }

  private unavailable(request: string, attempts: number, reason: string): StepError {
    return new StepError('REGISTRY_UNAVAILABLE', `The fleet registry at ${this.shown()} did not answer ${request} after ${attempts} attempt(s): ${this.options.redact(reason)}.`, {
      ...this.where(request),
      attempts,
    });
  }

  private shown(): string {
    return this.options.redact(this.base);
  }

  private where(request: string) {
    return { registry: this.shown(), request };
  }
}

/** Why a request got no answer, in a word a person recognises. */
function failureOf(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'timeout';
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** JSON when it is, else the text (quoted in a refusal). */
function parseAnswer(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function retryAfterOf(header: string | null): number {
  if (!header) return 0;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? 0 : Math.max(0, at - Date.now());
}

async function readCapped(response: Response): Promise<string> {
  if (!response.body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Uint8Array).byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await response.body.cancel().catch(() => {});
      break;
    }
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}
