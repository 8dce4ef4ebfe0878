/**
 * A fake model API for tests: a real HTTP server on 127.0.0.1 that speaks the
 * Anthropic Messages API (POST /v1/messages) and the OpenAI chat completions API
 * (POST /v1/chat/completions), as JSON and as SSE streams, so that the real SDK
 * clients talk to it through their base URL setting
 * (`new Anthropic({ baseURL: server.url })`, `new OpenAI({ baseURL: server.url + '/v1' })`).
 *
 * Tests script the answers (`enqueue`, or a `fallback`), and every request is
 * recorded, parsed, before it is answered. A reply without `usage` gets usage computed
 * from the request: input and cache tokens by a small prompt-cache model (see
 * fake-model/prompt-cache.ts), output tokens from the scripted content at four
 * characters a token. Scripted usage is exact: a cache field it leaves out is 0, a
 * missing `input_tokens` is the whole computed prompt, a missing `output_tokens` the
 * estimate.
 *
 * Faithful details worth knowing:
 * - Streams cut every text and every tool input into about four deltas; `after_events`
 *   counts whole SSE events sent (ping and message_start included for Anthropic;
 *   `data:` chunks for OpenAI).
 * - `max_tokens` with a tool call last: that call's JSON is cut in half. Streaming
 *   sends the half as `input_json_delta`s (Anthropic) or `arguments` fragments
 *   (OpenAI). A non-streaming Anthropic answer carries `input` as the SDK's partial
 *   parser reads the half (the field being written is missing); OpenAI carries the
 *   half JSON string as `arguments`.
 * - `stream_error` on a request that did not stream is answered as an HTTP error
 *   (Anthropic 529 overloaded_error, or 500 for another type; OpenAI 500).
 * - `stall` on a request that did not stream sends 200 headers and then nothing.
 * - `stream_drop` sends `after_events` events and then destroys the socket (no error
 *   event, no end); on a request that did not stream, 200 headers and half the JSON.
 * - `stream_end` sends `after_events` events and ends the response cleanly, so no stop
 *   event ever comes; on a request that did not stream, half the JSON, ended cleanly.
 * - Every request is checked against the real API's rules (fake-model/anthropic-rules.ts,
 *   openai-rules.ts): one that breaks them is recorded with `rejected` set to the reason
 *   and answered 400 `invalid_request_error` in that API's error shape (OpenAI with
 *   `param`), without using a scripted reply, as a body that is not JSON is.
 * - Unknown paths get a 404 and are not recorded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropicWire } from './fake-model/anthropic-wire.js';
import { openaiWire } from './fake-model/openai-wire.js';
import { PromptCacheModel } from './fake-model/prompt-cache.js';
import {
  estimateOutputTokens,
  planAnswer,
  randomId,
  type PlannedAnswer,
  type RecordedRequest,
  type ScriptedBlock,
  type ScriptedReply,
  type ScriptedUsage,
  type WireFormat,
} from './fake-model/script.js';

export type { RecordedRequest, ScriptedBlock, ScriptedReply, ScriptedUsage } from './fake-model/script.js';

export type FakeModelFallback = (request: RecordedRequest, index: number) => ScriptedReply;

export interface FakeModelServer {
  /** e.g. http://127.0.0.1:PORT (Anthropic baseURL = url; OpenAI baseURL = url + '/v1'). */
  url: string;
  requests: RecordedRequest[];
  /** Queue replies, served in order; when the queue is empty, `fallback` (if set) answers, else a 500 error reply. */
  enqueue(...replies: ScriptedReply[]): void;
  /** Drops the replies still queued and returns them (so that a test that failed midway leaves nothing for the next). */
  clearQueue(): ScriptedReply[];
  fallback?: FakeModelFallback;
  /** Resolves when the given number of requests have arrived (rejects if the server closes first). */
  waitForRequests(count: number): Promise<void>;
  close(): Promise<void>;
}

const WIRES: Record<RecordedRequest['api'], WireFormat> = { anthropic: anthropicWire, openai: openaiWire };

const ROUTES: Record<string, RecordedRequest['api']> = {
  '/v1/messages': 'anthropic',
  '/v1/chat/completions': 'openai',
};

interface Waiter {
  count: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

class ScriptedModelServer implements FakeModelServer {
  url = '';
  readonly requests: RecordedRequest[] = [];
  fallback?: FakeModelFallback;
  private readonly queue: ScriptedReply[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly promptCache = new PromptCacheModel();
  private readonly server: Server;
  private closing = false;

  constructor(fallback: FakeModelFallback | undefined) {
    this.fallback = fallback;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent && !res.destroyed) res.writeHead(500).end(String(error));
        else res.destroy();
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  enqueue(...replies: ScriptedReply[]): void {
    this.queue.push(...replies);
  }

  clearQueue(): ScriptedReply[] {
    return this.queue.splice(0);
  }

  waitForRequests(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    if (this.closing) return Promise.reject(new Error(`fake model server closed with ${this.requests.length} of ${count} requests`));
    return new Promise((resolve, reject) => this.waiters.push({ count, resolve, reject }));
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const waiter of this.waiters.splice(0)) {
      waiter.reject(new Error(`fake model server closed with ${this.requests.length} of ${waiter.count} requests`));
    }
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Stalled and hanging answers keep their sockets open: end them so tests finish.
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = req.url ?? '/';
    const api = ROUTES[new URL(path, 'http://fake').pathname];
    if (!api || req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { type: 'not_found_error', message: `No route ${req.method} ${path}` } }));
      return;
    }
    const body = parseJson(raw);
    const wire = WIRES[api];
    const rejection = body === undefined ? null : wire.validate(body);
    const record: RecordedRequest = { api, path, headers: { ...req.headers }, body, stream: body?.stream === true, raw, receivedAt: Date.now(), aborted: false };
    if (rejection) record.rejected = rejection.message;
    const index = this.requests.push(record) - 1;
    let droppedByServer = false;
    res.on('error', () => {});
    res.on('close', () => {
      if (!res.writableFinished && !droppedByServer && !this.closing) record.aborted = true;
    });
    this.wakeWaiters();

    if (body === undefined) {
      this.sendError(res, wire, { kind: 'error', status: 400, type: 'invalid_request_error', message: 'The request body is not valid JSON.' });
      return;
    }
    if (rejection) {
      this.sendError(res, wire, { kind: 'error', status: 400, type: 'invalid_request_error', message: rejection.message }, rejection.param);
      return;
    }
    const reply = this.queue.shift() ?? this.fallback?.(record, index) ?? unscripted(index);
    switch (reply.kind) {
      case 'message':
        return this.sendAnswer(res, wire, record, this.plan(record, reply.content, reply));
      case 'error':
        return this.sendError(res, wire, reply);
      case 'stream_error': {
        if (!record.stream) {
          return this.sendError(res, wire, { kind: 'error', status: wire.midGenerationStatus(reply.type), type: reply.type, message: reply.message });
        }
        const frames = wire.streamFrames(record, this.plan(record, reply.content, {})).slice(0, reply.after_events);
        return this.sendFrames(res, wire, [...frames, wire.streamErrorFrame(reply.type, reply.message)], true);
      }
      case 'stall': {
        if (!record.stream) {
          res.writeHead(200, { 'content-type': 'application/json', [wire.requestIdHeader]: randomId('req_') });
          res.flushHeaders();
          return;
        }
        const frames = wire.streamFrames(record, this.plan(record, reply.content, {})).slice(0, reply.after_events);
        return this.sendFrames(res, wire, frames, false);
      }
      case 'stream_drop': {
        droppedByServer = true;
        return this.sendThenDrop(res, wire, record, this.plan(record, reply.content, {}), reply.after_events);
      }
      case 'stream_end': {
        const answer = this.plan(record, reply.content, {});
        if (!record.stream) {
          const json = JSON.stringify(wire.messageBody(record, answer));
          res.writeHead(200, { 'content-type': 'application/json', [wire.requestIdHeader]: randomId('req_') }).end(json.slice(0, Math.floor(json.length / 2)));
          return;
        }
        return this.sendFrames(res, wire, wire.streamFrames(record, answer).slice(0, reply.after_events), true);
      }
      case 'hang':
        return;
      case 'drop':
        droppedByServer = true;
        req.socket.destroy();
        return;
    }
  }

  private plan(record: RecordedRequest, content: ScriptedBlock[], script: { stop_reason?: PlannedAnswer['stopReason']; usage?: Partial<ScriptedUsage> }): PlannedAnswer {
    const computed = record.api === 'anthropic' ? this.promptCache.anthropic(record.body) : this.promptCache.openai(record.body);
    const output_tokens = script.usage?.output_tokens ?? estimateOutputTokens(content);
    if (!script.usage) return planAnswer({ content, stop_reason: script.stop_reason }, { ...computed, output_tokens });
    // Scripted usage is taken as exact: what it leaves out is uncached input, not a cache figure.
    const usage = {
      input_tokens: script.usage.input_tokens ?? computed.input_tokens + computed.cache_read_input_tokens + computed.cache_creation_input_tokens,
      output_tokens,
      cache_read_input_tokens: script.usage.cache_read_input_tokens ?? 0,
      cache_creation_input_tokens: script.usage.cache_creation_input_tokens ?? 0,
    };
    return planAnswer({ content, stop_reason: script.stop_reason }, usage);
  }

  /**
   * Sends the first `afterEvents` events of the answer (without streaming: its 200
   * headers and the first half of its JSON), then destroys the socket once they are
   * written: the connection breaks with no error event and no end.
   */
  private sendThenDrop(res: ServerResponse, wire: WireFormat, record: RecordedRequest, answer: PlannedAnswer, afterEvents: number): void {
    const drop = () => res.socket?.destroy();
    if (!record.stream) {
      const json = JSON.stringify(wire.messageBody(record, answer));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), [wire.requestIdHeader]: randomId('req_') });
      res.write(json.slice(0, Math.floor(json.length / 2)), drop);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', [wire.requestIdHeader]: randomId('req_') });
    // With no event to send, an SSE comment carries the headers out before the cut.
    const sent = wire.streamFrames(record, answer).slice(0, afterEvents).join('') || ':\n\n';
    res.write(sent, drop);
  }

  private sendAnswer(res: ServerResponse, wire: WireFormat, record: RecordedRequest, answer: PlannedAnswer): void {
    if (record.stream) return this.sendFrames(res, wire, [...wire.streamFrames(record, answer), ...wire.streamEnd()], true);
    const json = JSON.stringify(wire.messageBody(record, answer));
    res.writeHead(200, { 'content-type': 'application/json', [wire.requestIdHeader]: randomId('req_') }).end(json);
  }

  private sendError(res: ServerResponse, wire: WireFormat, reply: Extract<ScriptedReply, { kind: 'error' }>, param?: string): void {
    const requestId = randomId('req_');
    const json = JSON.stringify(wire.errorBody(reply.status, requestId, reply.type, reply.message, param));
    res.writeHead(reply.status, { 'content-type': 'application/json', [wire.requestIdHeader]: requestId, ...reply.headers }).end(json);
  }

  private sendFrames(res: ServerResponse, wire: WireFormat, frames: string[], end: boolean): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', [wire.requestIdHeader]: randomId('req_') });
    res.flushHeaders();
    for (const frame of frames) {
      if (res.destroyed) return;
      res.write(frame);
    }
    if (end && !res.destroyed) res.end();
  }

  private wakeWaiters(): void {
    for (const waiter of [...this.waiters]) {
      if (this.requests.length < waiter.count) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
}

function unscripted(index: number): ScriptedReply {
  return { kind: 'error', status: 500, type: 'api_error', message: `fake model server: no scripted reply for request #${index}` };
}

function parseJson(raw: string): any {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeModelServer(options: { fallback?: FakeModelFallback } = {}): Promise<FakeModelServer> {
  const server = new ScriptedModelServer(options.fallback);
  await server.listen();
  return server;
}
