/**
 * The fake model server, driven by the real SDK clients (@anthropic-ai/sdk, openai)
 * over loopback; the OpenAI-only cases are in fake-model-server-openai.test.ts.
 *
 * What each SDK throws for each fault, as these tests pin it. The status classes
 * extend each SDK's `APIError`; OpenAI's classes all have `name === 'Error'`, so
 * classify with `instanceof` or `status`, not by name:
 *
 * | fault | Anthropic (`@anthropic-ai/sdk`) | OpenAI (`openai`) |
 * |---|---|---|
 * | 429 | `RateLimitError`, `status` 429, `headers.get('retry-after')`, `type` 'rate_limit_error', `error` = whole body `{type:'error', error:{type, message}, request_id}`, `requestID` | `RateLimitError`, `status` 429, `headers.get('retry-after')`, `error` = inner `{message, type, param, code}`, `code` 'rate_limit_exceeded' |
 * | 529 | `OverloadedError` (extends `InternalServerError`), `status` 529, `type` 'overloaded_error' | `InternalServerError`, `status` 529 |
 * | other 5xx | `InternalServerError` (503 `ServiceUnavailableError`, 504 `GatewayTimeoutError`) | `InternalServerError` |
 * | 400 / 401 / 413 | `BadRequestError` / `AuthenticationError` / `ContentTooLargeError`, `status` set | `BadRequestError` / `AuthenticationError` / plain `APIError` with `status` 413 |
 * | error event mid-stream | base `APIError`, `status` undefined, `type` = the event's error type (e.g. 'overloaded_error'), `error` = `{type:'error', error:{type, message}}`, `headers` = the 200 response's | base `APIError`, `status` undefined, `error` = `{message, type, param, code}`, `type`/`code` copied from it |
 * | connection dropped before headers | `APIConnectionError`, `status` undefined, `cause` TypeError 'fetch failed' | same |
 * | connection cut after the 200 headers, streaming, through the stream helper (`messages.stream`, `chat.completions.stream`) | `AnthropicError` (not an `APIError`), message 'terminated', `cause` TypeError 'terminated' | `OpenAIError` (not an `APIError`), same message and cause |
 * | connection cut after the 200 headers, streaming, iterating `create({stream: true})` | (not used here) | a bare `TypeError('terminated')` from undici, `cause` SocketError 'other side closed', no SDK class |
 * | connection cut after the 200 headers, JSON body | a bare `TypeError('terminated')` from undici, no SDK class | same |
 * | stream ended cleanly before its stop event | `AnthropicError` 'stream ended without producing a Message…' | iterating `create({stream: true})`: no error, the loop just ends (no finish_reason); `chat.completions.stream`: `OpenAIError` 'missing finish_reason for choice 0' |
 * | caller aborts (AbortController) | `APIUserAbortError` (MessageStream `finalMessage()` rejects with it) | `APIUserAbortError` |
 *
 * A mid-stream error or cut arrives after a 200, so the SDKs never retry it
 * themselves; HTTP errors are retried by the SDKs (429 obeying `retry-after`, 408,
 * 409, >=500, connection errors) unless `maxRetries: 0`; an `x-should-retry:
 * true|false` response header overrides that. Both SDKs send the API key in the
 * `authorization: Bearer …` request header (Anthropic 1.14 too, not `x-api-key`).
 */
import Anthropic, {
  AnthropicError,
  APIConnectionError as AnthropicConnectionError,
  APIError as AnthropicAPIError,
  APIUserAbortError as AnthropicAbortError,
  AuthenticationError as AnthropicAuthenticationError,
  BadRequestError as AnthropicBadRequestError,
  ContentTooLargeError,
  OverloadedError,
  RateLimitError as AnthropicRateLimitError,
} from '@anthropic-ai/sdk';
import OpenAI, {
  APIConnectionError as OpenAIConnectionError,
  OpenAIError,
} from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type FakeModelServer, type ScriptedBlock, startFakeModelServer } from '../support/fake-model-server.js';

let server: FakeModelServer;
let anthropic: Anthropic;
let openai: OpenAI;

beforeEach(async () => {
  server = await startFakeModelServer();
  anthropic = new Anthropic({ apiKey: 'test-key', baseURL: server.url, maxRetries: 0 });
  openai = new OpenAI({ apiKey: 'k', baseURL: `${server.url}/v1`, maxRetries: 0 });
});

afterEach(async () => {
  await server.close();
});

const ask = { model: 'claude-test', max_tokens: 1024, messages: [{ role: 'user' as const, content: 'Write the droplet.' }] };
const chat = { model: 'gpt-test', messages: [{ role: 'user' as const, content: 'Write the droplet.' }] };
const file = { path: 'src/app.ts', content: 'export const answer = 42;\n'.repeat(8) };
const writeFile: ScriptedBlock = { type: 'tool_use', name: 'write_file', input: file };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- whatever the SDK threw, for the test to probe its fields (after toBeInstanceOf)
async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  return promise.then(
    () => expect.unreachable('expected the call to fail'),
    (error: unknown) => error,
  );
}

describe('Anthropic Messages API', () => {
  it('answers a non-streaming request with a Message and records the request first', async () => {
    server.enqueue({ kind: 'message', content: [{ type: 'text', text: 'Hello.' }], usage: { input_tokens: 12, output_tokens: 3 } });
    const message = await anthropic.messages.create(ask);
    expect(message).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-test', stop_reason: 'end_turn', content: [{ type: 'text', text: 'Hello.' }] });
    expect(message.id).toMatch(/^msg_/);
    expect(message.usage).toMatchObject({ input_tokens: 12, output_tokens: 3, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    expect(message._request_id).toMatch(/^req_/);
    const [request] = server.requests;
    expect(request).toMatchObject({ api: 'anthropic', path: '/v1/messages', stream: false, aborted: false, body: ask });
    // This SDK version sends the API key as a bearer token, not x-api-key.
    expect(request?.headers.authorization).toBe('Bearer test-key');
    expect(JSON.parse(request!.raw)).toEqual(ask);
  });

  it('streams text in several deltas, with a ping, in the real event order', async () => {
    server.enqueue({ kind: 'message', content: [{ type: 'text', text: 'A streamed answer of some length.' }] });
    const response = await fetch(`${server.url}/v1/messages`, { method: 'POST', body: JSON.stringify({ ...ask, stream: true }) });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const names = [...(await response.text()).matchAll(/^event: (\w+)$/gm)].map((match) => match[1]);
    expect(names.slice(0, 3)).toEqual(['message_start', 'content_block_start', 'ping']);
    expect(names.filter((name) => name === 'content_block_delta').length).toBeGreaterThan(1);
    expect(names.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);

    server.enqueue({ kind: 'message', content: [{ type: 'text', text: 'A streamed answer of some length.' }] });
    const deltas: string[] = [];
    const stream = anthropic.messages.stream(ask).on('text', (text) => deltas.push(text));
    expect(await stream.finalText()).toBe('A streamed answer of some length.');
    expect(deltas.length).toBeGreaterThan(1);
    expect(server.requests[1]?.stream).toBe(true);
  });

  it('streams a tool call whose input arrives in several partial_json deltas', async () => {
    server.enqueue({ kind: 'message', content: [{ type: 'text', text: 'Writing it.' }, writeFile] });
    const fragments: string[] = [];
    const stream = anthropic.messages.stream(ask).on('inputJson', (fragment) => fragments.push(fragment));
    const message = await stream.finalMessage();
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content[1]).toMatchObject({ type: 'tool_use', name: 'write_file', input: file });
    expect((message.content[1] as { id: string }).id).toMatch(/^toolu_/);
    expect(fragments.length).toBeGreaterThan(1);
    expect(fragments.join('')).toBe(JSON.stringify(file));
  });

  it('carries scripted usage with cache fields, streamed and not', async () => {
    const usage = { input_tokens: 40, output_tokens: 7, cache_read_input_tokens: 900, cache_creation_input_tokens: 60 };
    server.enqueue({ kind: 'message', content: [{ type: 'text', text: 'ok' }], usage }, { kind: 'message', content: [{ type: 'text', text: 'ok' }], usage });
    expect((await anthropic.messages.create(ask)).usage).toMatchObject(usage);
    expect((await anthropic.messages.stream(ask).finalMessage()).usage).toMatchObject(usage);
  });

  it('computes cache writes then cache reads for a prefix marked with cache_control', async () => {
    const system = [{ type: 'text' as const, text: 'Foundation files. '.repeat(200), cache_control: { type: 'ephemeral' as const } }];
    server.enqueue({ kind: 'message', content: [{ type: 'text', text: 'one' }] }, { kind: 'message', content: [{ type: 'text', text: 'two' }] });
    const first = await anthropic.messages.create({ ...ask, system });
    const second = await anthropic.messages.create({ ...ask, system, messages: [{ role: 'user', content: 'Repair src/app.ts.' }] });
    expect(first.usage.cache_creation_input_tokens).toBeGreaterThan(800);
    expect(first.usage.cache_read_input_tokens).toBe(0);
    expect(second.usage.cache_read_input_tokens).toBe(first.usage.cache_creation_input_tokens);
    expect(second.usage.cache_creation_input_tokens).toBe(0);
    expect(second.usage.input_tokens).toBeLessThan(50);

    server.enqueue({ kind: 'message', content: [{ type: 'text', text: 'three' }] });
    const unmarked = await anthropic.messages.create({ ...ask, system: [{ type: 'text', text: system[0]!.text }] });
    expect(unmarked.usage).toMatchObject({ cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    expect(unmarked.usage.input_tokens).toBeGreaterThan(800);
  });

  it('cuts the last tool call in half on max_tokens, streamed and not', async () => {
    const truncated = { kind: 'message' as const, stop_reason: 'max_tokens' as const, content: [writeFile] };
    server.enqueue(truncated, truncated);
    const fragments: string[] = [];
    const streamed = await anthropic.messages.stream(ask).on('inputJson', (fragment) => fragments.push(fragment)).finalMessage();
    expect(streamed.stop_reason).toBe('max_tokens');
    expect(fragments.join('')).toBe(JSON.stringify(file).slice(0, Math.floor(JSON.stringify(file).length / 2)));
    expect(streamed.content[0]).toMatchObject({ type: 'tool_use', input: { path: file.path } });
    expect((streamed.content[0] as { input: object }).input).not.toHaveProperty('content');
    const whole = await anthropic.messages.create(ask);
    expect(whole.stop_reason).toBe('max_tokens');
    expect((whole.content[0] as { input: object }).input).toEqual({ path: file.path });
  });

  it('reports a refusal with stop_details', async () => {
    server.enqueue({ kind: 'message', stop_reason: 'refusal', content: [{ type: 'text', text: 'I will not write that.' }] });
    const message = await anthropic.messages.stream(ask).finalMessage();
    expect(message.stop_reason).toBe('refusal');
    expect(message.stop_details).toEqual({ type: 'refusal', category: null, explanation: 'I will not write that.' });
  });

  it('answers HTTP errors in the API error shape, with their headers', async () => {
    server.enqueue({ kind: 'error', status: 429, headers: { 'retry-after': '7' } });
    const limited = await rejectionOf(anthropic.messages.create(ask));
    expect(limited).toBeInstanceOf(AnthropicRateLimitError);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.requestID).toMatch(/^req_/);
    expect(limited.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });

    server.enqueue({ kind: 'error', status: 529 });
    const overloaded = await rejectionOf(anthropic.messages.stream(ask).finalMessage());
    expect(overloaded).toBeInstanceOf(OverloadedError);
    expect(overloaded).toMatchObject({ status: 529, type: 'overloaded_error' });

    server.enqueue({ kind: 'error', status: 400, message: 'prompt is too long' }, { kind: 'error', status: 401 }, { kind: 'error', status: 413 });
    const bad = await rejectionOf(anthropic.messages.create(ask));
    expect(bad).toBeInstanceOf(AnthropicBadRequestError);
    expect(bad.message).toContain('prompt is too long');
    expect(await rejectionOf(anthropic.messages.create(ask))).toBeInstanceOf(AnthropicAuthenticationError);
    expect(await rejectionOf(anthropic.messages.create(ask))).toBeInstanceOf(ContentTooLargeError);
  });

  it('sends an error event mid-stream after the scripted number of events', async () => {
    server.enqueue({ kind: 'stream_error', content: [{ type: 'text', text: 'The first part of an answer' }], after_events: 4 });
    let received = '';
    const error = await rejectionOf(anthropic.messages.stream(ask).on('text', (text) => (received += text)).finalMessage());
    expect(error).toBeInstanceOf(AnthropicAPIError);
    expect(error.constructor).toBe(AnthropicAPIError);
    expect(error.status).toBeUndefined();
    expect(error.type).toBe('overloaded_error');
    expect(error.error).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    // Four events: message_start, content_block_start, ping, then the first of four text deltas.
    expect(received).toBe('The fir');
  });

  it('stalls a stream until the client aborts, and records the abort', async () => {
    server.enqueue({ kind: 'stall', content: [{ type: 'text', text: 'Going quiet after this' }], after_events: 4 });
    const controller = new AbortController();
    const stream = anthropic.messages.stream(ask, { signal: controller.signal });
    stream.on('text', () => controller.abort());
    expect(await rejectionOf(stream.finalMessage())).toBeInstanceOf(AnthropicAbortError);
    await vi.waitFor(() => expect(server.requests[0]?.aborted).toBe(true));
  });

  it('hangs without answering until the client aborts', async () => {
    server.enqueue({ kind: 'hang' });
    const controller = new AbortController();
    const call = rejectionOf(anthropic.messages.create(ask, { signal: controller.signal }));
    await server.waitForRequests(1);
    controller.abort();
    expect(await call).toBeInstanceOf(AnthropicAbortError);
    await vi.waitFor(() => expect(server.requests[0]?.aborted).toBe(true));
  });

  it('drops the connection, which the SDK reports as a connection error', async () => {
    server.enqueue({ kind: 'drop' }, { kind: 'drop' });
    expect(await rejectionOf(anthropic.messages.create(ask))).toBeInstanceOf(AnthropicConnectionError);
    expect(await rejectionOf(anthropic.messages.stream(ask).finalMessage())).toBeInstanceOf(AnthropicConnectionError);
    expect(server.requests.map((request) => request.aborted)).toEqual([false, false]);
  });
});

describe('answers cut short: the connection dropped (stream_drop) or ended early (stream_end)', () => {
  const content: ScriptedBlock[] = [{ type: 'text', text: 'The first part of an answer' }];

  it('cuts an Anthropic stream after the scripted events, and a JSON body halfway', async () => {
    server.enqueue({ kind: 'stream_drop', content, after_events: 4 }, { kind: 'stream_drop', content, after_events: 4 });
    let received = '';
    const cut = await rejectionOf(anthropic.messages.stream(ask).on('text', (text) => (received += text)).finalMessage());
    expect(cut.constructor).toBe(AnthropicError);
    expect(cut.message).toBe('terminated');
    // Four events: message_start, content_block_start, ping, then the first of four text deltas.
    expect(received).toBe('The fir');
    const cutBody = await rejectionOf(anthropic.messages.create(ask));
    expect(cutBody.constructor).toBe(TypeError);
    expect(cutBody.message).toBe('terminated');
    expect(server.requests.map((request) => request.aborted)).toEqual([false, false]);
  });

  it('cuts an OpenAI stream, which iterating create({stream: true}) throws as undici’s bare TypeError', async () => {
    server.enqueue({ kind: 'stream_drop', content, after_events: 2 }, { kind: 'stream_drop', content, after_events: 0 });
    let received = '';
    const stream = await openai.chat.completions.create({ ...chat, stream: true });
    const cut = await rejectionOf(
      (async () => {
        for await (const chunk of stream) received += chunk.choices[0]?.delta.content ?? '';
      })(),
    );
    expect(cut.constructor).toBe(TypeError);
    expect(cut.message).toBe('terminated');
    expect(received).toBe('The fir');
    // With no event scripted, the 200 headers still arrive first: the cut is not a connection error.
    const early = await rejectionOf(openai.chat.completions.stream(chat).finalChatCompletion());
    expect(early.constructor).toBe(OpenAIError);
    expect(early.message).toBe('terminated');
  });

  it('ends a stream cleanly before its stop event, which only some clients notice', async () => {
    server.enqueue(...Array.from({ length: 4 }, () => ({ kind: 'stream_end' as const, content, after_events: 4 })));
    const ended = await rejectionOf(anthropic.messages.stream(ask).finalMessage());
    expect(ended.constructor).toBe(AnthropicError);
    expect(ended.message).toContain('stream ended without producing a Message');
    // Iterating create({stream: true}) just stops: no finish_reason, no [DONE], no error.
    let received = '';
    let finish: string | null = null;
    for await (const chunk of await openai.chat.completions.create({ ...chat, stream: true })) {
      received += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(received).toBe('The first part of an ');
    expect(finish).toBeNull();
    expect((await rejectionOf(openai.chat.completions.stream(chat).finalChatCompletion())).message).toContain('missing finish_reason');
    // Without streaming: half the JSON, which no client can parse.
    expect(await rejectionOf(anthropic.messages.create(ask))).toBeInstanceOf(SyntaxError);
  });
});

describe('the script and the server', () => {
  it('serves the queue in order, then the fallback, then a 500 when nothing is scripted', async () => {
    server.enqueue({ kind: 'message', content: [{ type: 'text', text: 'first' }] });
    expect((await anthropic.messages.create(ask)).content).toEqual([{ type: 'text', text: 'first' }]);
    server.fallback = (request, index) => ({ kind: 'message', content: [{ type: 'text', text: `fallback ${index} for ${request.api}` }] });
    expect((await openai.chat.completions.create(chat)).choices[0]?.message.content).toBe('fallback 1 for openai');
    server.fallback = undefined;
    const unscripted = await rejectionOf(anthropic.messages.create(ask));
    expect(unscripted.status).toBe(500);
    expect(unscripted.message).toContain('no scripted reply for request #2');
  });

  it('takes a fallback at start, answers bad JSON with 400 and unknown paths with 404 unrecorded', async () => {
    const scripted = await startFakeModelServer({ fallback: () => ({ kind: 'message', content: [{ type: 'text', text: 'always' }] }) });
    try {
      const client = new Anthropic({ apiKey: 'test-key', baseURL: scripted.url, maxRetries: 0 });
      expect((await client.messages.create(ask)).content).toEqual([{ type: 'text', text: 'always' }]);
      const bad = await fetch(`${scripted.url}/v1/messages`, { method: 'POST', body: '{not json' });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
      expect((await fetch(`${scripted.url}/v1/models`)).status).toBe(404);
      expect(scripted.requests.map((request) => request.raw)).toEqual([JSON.stringify(ask), '{not json']);
    } finally {
      await scripted.close();
    }
  });

  it('closes stalled and hanging connections, and rejects waits that cannot be met', async () => {
    const stall = { kind: 'stall' as const, content: [{ type: 'text' as const, text: 'never finished' }], after_events: 3 };
    server.enqueue(stall, stall, stall, { kind: 'hang' });
    // One at a time, so that each call meets the reply meant for it.
    const stalled = rejectionOf(anthropic.messages.stream(ask).finalMessage());
    await server.waitForRequests(1);
    const stalledChat = rejectionOf(openai.chat.completions.stream(chat).finalChatCompletion());
    await server.waitForRequests(2);
    const headersOnly = rejectionOf(anthropic.messages.create(ask));
    await server.waitForRequests(3);
    const hung = rejectionOf(openai.chat.completions.create(chat));
    await server.waitForRequests(4);
    const unmet = rejectionOf(server.waitForRequests(5));
    await server.close();
    expect((await unmet).message).toContain('closed with 4 of 5 requests');
    // A stream cut after its 200 headers: the stream helpers wrap undici's TypeError.
    const cut = await stalled;
    expect(cut.constructor).toBe(AnthropicError);
    expect(cut.message).toBe('terminated');
    expect(cut.cause).toBeInstanceOf(TypeError);
    const cutChat = await stalledChat;
    expect(cutChat.constructor).toBe(OpenAIError);
    expect(cutChat.message).toBe('terminated');
    expect(cutChat.cause).toBeInstanceOf(TypeError);
    // A JSON body cut after its headers: undici's TypeError, unwrapped.
    const cutBody = await headersOnly;
    expect(cutBody.constructor).toBe(TypeError);
    expect(cutBody.message).toBe('terminated');
    // No headers at all: a connection error.
    expect(await hung).toBeInstanceOf(OpenAIConnectionError);
    expect(server.requests.map((request) => request.aborted)).toEqual([false, false, false, false]);
  });
});
