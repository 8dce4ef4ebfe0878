/**
 * A webhook receiver on loopback for announcement tests through the real executor: it
 * records every POST with its parsed body and answers what the test's `answer` says per
 * request (a status, possibly after a wait), and can stop and listen again on the same
 * port (a receiver that is down for a while).
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Hook {
  headers: IncomingHttpHeaders;
  raw: string;
  body: Record<string, unknown> & { build_id: string; event: string; delivery_id: string };
}

export class WebhookReceiver {
  readonly hooks: Hook[] = [];
  /** The status for each request (default 200); may wait before answering. */
  answer: (hook: Hook) => number | Promise<number> = () => 200;
  private server: Server | undefined;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/executor`;
  }

  /** Listens on `port` (default: the one it had, else any free one). */
  async start(port = this.port): Promise<this> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const hook: Hook = { headers: request.headers, raw, body: JSON.parse(raw) as Hook['body'] };
        this.hooks.push(hook);
        void Promise.resolve(this.answer(hook)).then((status) => response.writeHead(status).end());
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const { server } = this;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** What was POSTed about one build, oldest first. */
  about(buildId: string): Hook[] {
    return this.hooks.filter((hook) => hook.body.build_id === buildId);
  }
}

/** Whether a hook carries a valid `X-Executor-Signature` over `<timestamp>.<body>` for `secret`. */
export function signedWith(hook: Hook, secret: string): boolean {
  const timestamp = String(hook.headers['x-executor-timestamp']);
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${hook.raw}`).digest('hex')}`;
  return hook.headers['x-executor-signature'] === expected;
}
