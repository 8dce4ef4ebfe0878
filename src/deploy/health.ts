/** The executor's probe of a droplet's public address: live when `GET /health` answers `status: healthy`. */
const REQUEST_TIMEOUT_MS = 2_000;
const MAX_BODY_BYTES = 64 * 1024;

/** The body as text, or null (and the rest unread) once it passes `maxBytes`. */
async function readCapped(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<string | null> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks).toString('utf8');
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
}

/** One probe; any failure (refused, timeout, bad JSON, other status) is "not healthy". */
export async function isHealthy(baseUrl: string, signal?: AbortSignal, timeoutMs = REQUEST_TIMEOUT_MS): Promise<boolean> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    // A droplet's answer is untrusted: no redirect is followed, and a body past the cap is not read.
    const response = await fetch(new URL('/health', baseUrl), {
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      headers: { accept: 'application/json' },
      redirect: 'manual',
    });
    if (response.status !== 200 || !response.body) {
      await response.body?.cancel();
      return false;
    }
    const text = await readCapped(response.body, MAX_BODY_BYTES);
    const body = text === null ? null : (JSON.parse(text) as { status?: unknown } | null);
    return body?.status === 'healthy';
  } catch {
    return false;
  }
}
