/** The fake model server's OpenAI chat completions side, driven by the real `openai` client. What each fault surfaces as: see fake-model-server.test.ts. */
import OpenAI, {
  APIConnectionError as OpenAIConnectionError,
  APIError as OpenAIAPIError,
  APIUserAbortError as OpenAIAbortError,
  AuthenticationError as OpenAIAuthenticationError,
  BadRequestError as OpenAIBadRequestError,
  InternalServerError as OpenAIInternalServerError,
  RateLimitError as OpenAIRateLimitError,
} from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type FakeModelServer, type ScriptedBlock, startFakeModelServer } from '../support/fake-model-server.js';

let server: FakeModelServer;
let openai: OpenAI;

beforeEach(async () => {
  server = await startFakeModelServer();
  openai = new OpenAI({ apiKey: 'k', baseURL: `${server.url}/v1`, maxRetries: 0 });
});

afterEach(async () => {
  await server.close();
});

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

describe('OpenAI chat completions API', () => {
  it('answers a non-streaming request with text, a tool call and usage', async () => {
    server.enqueue({ kind: 'message', content: [{ type: 'text', text: 'Writing it.' }, writeFile], usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 80, cache_creation_input_tokens: 2 } });
    const completion = await openai.chat.completions.create(chat);
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message).toMatchObject({ role: 'assistant', content: 'Writing it.', refusal: null });
    expect(choice.message.tool_calls).toHaveLength(1);
    const call = choice.message.tool_calls![0]!;
    expect(call).toMatchObject({ type: 'function', function: { name: 'write_file' } });
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual(file);
    expect(completion.usage).toMatchObject({ prompt_tokens: 92, completion_tokens: 5, total_tokens: 97, prompt_tokens_details: { cached_tokens: 80 } });
    expect(server.requests[0]).toMatchObject({ api: 'openai', path: '/v1/chat/completions', stream: false, body: chat });
    expect(server.requests[0]?.headers.authorization).toBe('Bearer k');
  });

  it('streams text and tool-call arguments in fragments, then usage when asked, then [DONE]', async () => {
    server.enqueue({ kind: 'message', content: [{ type: 'text', text: 'Writing the file now.' }, writeFile], usage: { input_tokens: 30, output_tokens: 9 } });
    const response = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ ...chat, stream: true }) });
    const lines = (await response.text()).split('\n\n').filter(Boolean);
    expect(lines.at(-1)).toBe('data: [DONE]');
    expect(lines.some((line) => line.includes('"usage":{'))).toBe(false);

    server.enqueue({ kind: 'message', content: [{ type: 'text', text: 'Writing the file now.' }, writeFile], usage: { input_tokens: 30, output_tokens: 9 } });
    const fragments: string[] = [];
    const stream = openai.chat.completions
      .stream({ ...chat, stream_options: { include_usage: true } })
      .on('tool_calls.function.arguments.delta', (event) => fragments.push(event.arguments_delta));
    const completion = await stream.finalChatCompletion();
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe('Writing the file now.');
    expect(choice.message.tool_calls?.[0]).toMatchObject({ type: 'function', function: { name: 'write_file', arguments: JSON.stringify(file) } });
    expect(choice.message.tool_calls?.[0]?.id).toMatch(/^call_/);
    expect(fragments.length).toBeGreaterThan(1);
    expect(completion.usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 9, total_tokens: 39 });
  });

  it('counts a repeated prompt prefix of 1024 tokens or more as cached tokens', async () => {
    const system = { role: 'system' as const, content: 'Foundation files. '.repeat(400) };
    server.enqueue({ kind: 'message', content: [{ type: 'text', text: 'one' }] }, { kind: 'message', content: [{ type: 'text', text: 'two' }] });
    const first = await openai.chat.completions.create({ ...chat, messages: [system, { role: 'user', content: 'Write it.' }] });
    const second = await openai.chat.completions.create({ ...chat, messages: [system, { role: 'user', content: 'Repair it.' }] });
    expect(first.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    expect(second.usage?.prompt_tokens_details?.cached_tokens).toBeGreaterThan(1_700);
    expect(second.usage!.prompt_tokens - second.usage!.prompt_tokens_details!.cached_tokens!).toBeLessThan(50);
  });

  it('maps max_tokens to length with the tool arguments cut, and a refusal to content_filter', async () => {
    server.enqueue({ kind: 'message', stop_reason: 'max_tokens', content: [writeFile] }, { kind: 'message', stop_reason: 'max_tokens', content: [writeFile] });
    const json = JSON.stringify(file);
    const streamed = (await openai.chat.completions.stream(chat).finalChatCompletion()).choices[0]!;
    expect(streamed.finish_reason).toBe('length');
    expect(streamed.message.tool_calls?.[0]).toMatchObject({ function: { arguments: json.slice(0, Math.floor(json.length / 2)) } });
    const whole = (await openai.chat.completions.create(chat)).choices[0]!;
    expect(whole.finish_reason).toBe('length');
    expect(whole.message.tool_calls?.[0]).toMatchObject({ function: { arguments: json.slice(0, Math.floor(json.length / 2)) } });

    server.enqueue({ kind: 'message', stop_reason: 'refusal', content: [{ type: 'text', text: 'I will not write that.' }] });
    const refused = (await openai.chat.completions.stream(chat).finalChatCompletion()).choices[0]!;
    expect(refused).toMatchObject({ finish_reason: 'content_filter', message: { content: null, refusal: 'I will not write that.' } });
  });

  it('answers HTTP errors in the API error shape, with their headers', async () => {
    server.enqueue({ kind: 'error', status: 429, headers: { 'retry-after': '3' } });
    const limited = await rejectionOf(openai.chat.completions.create(chat));
    expect(limited).toBeInstanceOf(OpenAIRateLimitError);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(limited).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(limited.requestID).toMatch(/^req_/);

    server.enqueue({ kind: 'error', status: 529 }, { kind: 'error', status: 400 }, { kind: 'error', status: 401 }, { kind: 'error', status: 413 });
    const overloaded = await rejectionOf(openai.chat.completions.create(chat));
    expect(overloaded).toBeInstanceOf(OpenAIInternalServerError);
    expect(overloaded.status).toBe(529);
    expect(await rejectionOf(openai.chat.completions.create(chat))).toBeInstanceOf(OpenAIBadRequestError);
    expect(await rejectionOf(openai.chat.completions.create(chat))).toBeInstanceOf(OpenAIAuthenticationError);
    const tooLarge = await rejectionOf(openai.chat.completions.create(chat));
    expect(tooLarge.constructor).toBe(OpenAIAPIError);
    expect(tooLarge.status).toBe(413);
  });

  it('sends an error chunk mid-stream, which the SDK throws from the stream', async () => {
    server.enqueue({ kind: 'stream_error', content: [{ type: 'text', text: 'The first part of an answer' }], after_events: 2, type: 'overloaded_error', message: 'busy' });
    let received = '';
    const stream = await openai.chat.completions.create({ ...chat, stream: true });
    const error = await rejectionOf(
      (async () => {
        for await (const chunk of stream) received += chunk.choices[0]?.delta.content ?? '';
      })(),
    );
    expect(error.constructor).toBe(OpenAIAPIError);
    expect(error.status).toBeUndefined();
    expect(error.error).toEqual({ message: 'busy', type: 'overloaded_error', param: null, code: null });
    expect(error.type).toBe('overloaded_error');
    // Two chunks: the role chunk, then the first of four content fragments.
    expect(received).toBe('The fir');
  });

  it('stalls, hangs and drops like the Anthropic side', async () => {
    server.enqueue({ kind: 'stall', content: [{ type: 'text', text: 'Going quiet after this' }], after_events: 2 }, { kind: 'hang' }, { kind: 'drop' });
    const stallControl = new AbortController();
    const stalled = openai.chat.completions.stream(chat, { signal: stallControl.signal }).on('content', () => stallControl.abort());
    expect(await rejectionOf(stalled.finalChatCompletion())).toBeInstanceOf(OpenAIAbortError);

    const hangControl = new AbortController();
    const hung = rejectionOf(openai.chat.completions.create(chat, { signal: hangControl.signal }));
    await server.waitForRequests(2);
    hangControl.abort();
    expect(await hung).toBeInstanceOf(OpenAIAbortError);

    expect(await rejectionOf(openai.chat.completions.create(chat))).toBeInstanceOf(OpenAIConnectionError);
    await vi.waitFor(() => expect(server.requests.map((request) => request.aborted)).toEqual([true, true, false]));
  });
});
