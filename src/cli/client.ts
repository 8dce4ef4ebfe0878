/**
 * The CLI's only way to the executor: HTTP (and the stream's WebSocket, see stream.ts) to
 * EXECUTOR_URL with EXECUTOR_TOKEN as a bearer token. Every failure becomes a CliError
 * whose message fits on one line.
 */

export const DEFAULT_EXECUTOR_URL = 'http://127.0.0.1:8400';

export interface ClientSettings {
  baseUrl: string;
  token: string | undefined;
}

/** What the CLI reads from its environment; an empty value means unset. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): ClientSettings {
  const url = env.EXECUTOR_URL?.trim();
  const token = env.EXECUTOR_TOKEN?.trim();
  return { baseUrl: (url || DEFAULT_EXECUTOR_URL).replace(/\/+$/, ''), token: token || undefined };
}

/** A failure the CLI reports as one line, `error: <code>: <message>`, and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Exit codes, documented in the README's CLI section. */
export const EXIT = { completed: 0, failed: 1, cancelled: 2, apiError: 3, unreachable: 4, usage: 64 } as const;

/** The executor answered with an error (UDC shape `{ error: { code, message, details } }`). */
export class ApiError extends CliError {
  constructor(
    code: string,
    message: string,
    readonly status: number,
  ) {
    super(code, message, EXIT.apiError);
  }
}

export function unreachable(baseUrl: string, reason: string): CliError {
  return new CliError(
    'UNREACHABLE',
    `the executor is not reachable at ${baseUrl} (${reason}); start it with \`npm start\` in its checkout, or set EXECUTOR_URL`,
    EXIT.unreachable,
  );
}

/** Reads an error answer: the UDC shape when it is one, else the HTTP status and the first words of the body. */
export function apiErrorFrom(status: number, text: string): ApiError {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string' && typeof body.error.message === 'string') {
      return new ApiError(body.error.code, oneLine(body.error.message), status);
    }
  } catch {
    // not JSON: fall through
  }
  return new ApiError(`HTTP_${status}`, oneLine(text).slice(0, 200) || 'no message', status);
}

export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function causeCode(thrown: unknown): string | undefined {
  const cause = (thrown as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'DELETE';
  query?: Query;
  body?: unknown;
}

export class ExecutorClient {
  constructor(readonly settings: ClientSettings) {}

  url(path: string, query: Query = {}): string {
    const url = new URL(`${this.settings.baseUrl}${path}`);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }

  authHeaders(): Record<string, string> {
    return this.settings.token ? { authorization: `Bearer ${this.settings.token}` } : {};
  }

  /** Sends one request and answers its parsed JSON; throws ApiError or the unreachable CliError. */
  async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const hasBody = options.body !== undefined;
    let response: Response;
    try {
      response = await fetch(this.url(path, options.query), {
        method: options.method ?? (hasBody ? 'POST' : 'GET'),
        headers: { ...this.authHeaders(), ...(hasBody ? { 'content-type': 'application/json' } : {}) },
        ...(hasBody ? { body: JSON.stringify(options.body) } : {}),
      });
    } catch (thrown) {
      throw unreachable(this.settings.baseUrl, causeCode(thrown) ?? (thrown as Error).message);
    }
    const text = await response.text();
    if (!response.ok) throw apiErrorFrom(response.status, text);
    return (text ? JSON.parse(text) : null) as T;
  }
}

export const buildPath = (id: string, tail = ''): string => `/executor/builds/${encodeURIComponent(id)}${tail}`;
export const dropletPath = (name: string, tail = ''): string => `/executor/droplets/${encodeURIComponent(name)}${tail}`;
