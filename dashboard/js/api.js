/**
 * The executor's HTTP API, as the page uses it: JSON in and out, the API token in
 * `Authorization: Bearer`, errors in the UDC shape turned into `ApiError`.
 */
import { askForToken, forgetToken, storedToken } from './token.js';

export class ApiError extends Error {
  constructor(status, body) {
    const error = body && typeof body === 'object' ? body.error : undefined;
    super(error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = error?.code ?? 'HTTP_ERROR';
    this.details = error?.details ?? {};
  }
}

async function send(path, init, token) {
  const headers = { accept: 'application/json', ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  return fetch(path, {
    method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'),
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

/** Calls the API; on 401 asks for the token (once for all callers) and tries again with it. */
export async function api(path, init = {}) {
  let token = storedToken();
  let response = await send(path, init, token);
  while (response.status === 401) {
    if (token) forgetToken();
    token = await askForToken(Boolean(token));
    response = await send(path, init, token);
  }
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

/** The WebSocket URL of a build's stream; the token rides as `?token=` (a browser cannot set the header). */
export function streamUrl(buildId, after = 0) {
  const url = new URL(`/executor/builds/${encodeURIComponent(buildId)}/stream`, location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (after > 0) url.searchParams.set('after', String(after));
  const token = storedToken();
  if (token) url.searchParams.set('token', token);
  return url.toString();
}

export const paths = {
  builds: () => '/executor/builds?limit=50',
  status: (id) => `/executor/builds/${encodeURIComponent(id)}/status`,
  approve: (id) => `/executor/builds/${encodeURIComponent(id)}/approve`,
  cancel: (id) => `/executor/builds/${encodeURIComponent(id)}`,
  retry: (id) => `/executor/builds/${encodeURIComponent(id)}/retry`,
  files: (id) => `/executor/builds/${encodeURIComponent(id)}/files`,
  file: (id, path) => `/executor/builds/${encodeURIComponent(id)}/files/${path.split('/').map(encodeURIComponent).join('/')}`,
  repairs: (id) => `/executor/builds/${encodeURIComponent(id)}/repairs`,
  submit: () => '/executor/build-droplet',
  droplets: () => '/executor/droplets',
  droplet: (name) => `/executor/droplets/${encodeURIComponent(name)}`,
  rollback: (name) => `/executor/droplets/${encodeURIComponent(name)}/rollback`,
};
