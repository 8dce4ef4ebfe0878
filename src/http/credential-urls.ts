/**
 * URLs that carry a credential: an approval link's token is its path. Whatever reaches a
 * log line or an error body (a request line, a 404 for a mangled link, a token too long
 * for the router) shows such a path masked, never the token.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Whatever follows `/executor/approvals` (token, trailing slash, query), any case. */
const APPROVAL_LINK_PATH = /\/executor\/+approvals(?=[/?#%])[\s\S]*$/i;

export const MASKED_APPROVAL_PATH = '/executor/approvals/[REDACTED]';

/** One `name=value` of a query string; `name` as the query parser decodes it (`%74oken` is `token`). */
function decodedName(pair: string): string {
  const name = pair.split('=', 1)[0]!;
  try {
    return decodeURIComponent(name.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return name.toLowerCase();
  }
}

/** A `token` query parameter (the progress stream's API token, since browsers cannot set its header), however spelt. */
function maskTokenQuery(url: string): string {
  const queryAt = url.indexOf('?');
  if (queryAt === -1) return url;
  // Everything after `?` is query to the parser (a `#` included), so all of it is checked.
  const pairs = url.slice(queryAt + 1).split('&');
  const masked = pairs.map((pair) => (decodedName(pair) === 'token' ? `${pair.split('=', 1)[0]}=[REDACTED]` : pair));
  return `${url.slice(0, queryAt + 1)}${masked.join('&')}`;
}

export function maskCredentialUrl(url: string): string {
  return maskTokenQuery(url.replace(APPROVAL_LINK_PATH, MASKED_APPROVAL_PATH));
}

/** What the serializer reads of a request (Fastify's, or a raw one). */
interface LoggedRequest {
  method?: string;
  url?: string;
  headers?: IncomingHttpHeaders;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/** Fastify's request serializer (the same fields as its own), the URL masked. */
export function requestLogSerializer(request: LoggedRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: typeof request.url === 'string' ? maskCredentialUrl(request.url) : request.url,
    version: request.headers?.['accept-version'],
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}
