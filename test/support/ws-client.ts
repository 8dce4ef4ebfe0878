/**
 * Follows a build stream over a real WebSocket and collects what arrives until the
 * server (or `stopWhen`) closes it. Messages are parsed JSON, in arrival order.
 */
import WebSocket from 'ws';

/** A message's text. With the default binaryType ('nodebuffer') `ws` hands over a Buffer. */
function textOf(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8');
}

export interface StreamResult {
  messages: unknown[];
  closeCode: number;
  closeReason: string;
}

export interface StreamOptions {
  headers?: Record<string, string>;
  /** Called for each message as it arrives (for instance to make the build move on). */
  onMessage?: (message: unknown, messages: readonly unknown[]) => void;
  /** Return true to close from the client side after this message (code 1000). */
  stopWhen?: (message: unknown, messages: readonly unknown[]) => boolean;
  /** Guard against a stream that never closes; the promise rejects then. */
  timeoutMs?: number;
}

/** The server answered the upgrade with a plain HTTP response instead of 101. */
export class UpgradeRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`WebSocket upgrade refused with HTTP ${status}`);
  }
}

/** Accepts `http(s)://` or `ws(s)://` URLs. */
export function collectStream(url: string, options: StreamOptions = {}): Promise<StreamResult> {
  const wsUrl = url.replace(/^http(s?):\/\//i, 'ws$1://');
  return new Promise((resolve, reject) => {
    const messages: unknown[] = [];
    const socket = new WebSocket(wsUrl, { headers: options.headers });
    let stopping = false;
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`stream ${wsUrl} did not close within ${options.timeoutMs ?? 30_000} ms; got ${messages.length} messages`));
    }, options.timeoutMs ?? 30_000);

    socket.on('unexpected-response', (request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        clearTimeout(timer);
        reject(new UpgradeRefusedError(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
        request.destroy();
      });
    });
    socket.on('message', (data) => {
      if (stopping) return;
      const message: unknown = JSON.parse(textOf(data));
      messages.push(message);
      options.onMessage?.(message, messages);
      if (options.stopWhen?.(message, messages)) {
        stopping = true;
        socket.close(1000, 'client done');
      }
    });
    socket.on('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ messages, closeCode: code, closeReason: reason.toString('utf8') });
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
