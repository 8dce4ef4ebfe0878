/**
 * The fake model server refuses what the real APIs refuse: conversations whose tool
 * calls and results do not pair up, empty text, bad tool names, a missing
 * `max_tokens`, too many cache breakpoints; and accepts what they accept (merged
 * consecutive turns on Anthropic, any role order on OpenAI). Driven by the real SDKs,
 * which send these bodies as given. The rules and their sources: the headers of
 * test/support/fake-model/anthropic-rules.ts and openai-rules.ts.
 */
import Anthropic, { BadRequestError as AnthropicBadRequestError } from '@anthropic-ai/sdk';
import type { MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import OpenAI, { BadRequestError as OpenAIBadRequestError } from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeModelServer, type ScriptedReply, startFakeModelServer } from '../support/fake-model-server.js';

let server: FakeModelServer;
let anthropic: Anthropic;
let openai: OpenAI;

const ok: ScriptedReply = { kind: 'message', content: [{ type: 'text', text: 'ok' }] };

beforeEach(async () => {
  server = await startFakeModelServer({ fallback: () => ok });
  anthropic = new Anthropic({ apiKey: 'test-key', baseURL: server.url, maxRetries: 0 });
  openai = new OpenAI({ apiKey: 'k', baseURL: `${server.url}/v1`, maxRetries: 0 });
});

afterEach(async () => {
  await server.close();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- whatever the SDK threw, for the test to probe its fields (after toBeInstanceOf)
async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  return promise.then(
    () => expect.unreachable('expected the request to be refused'),
    (error: unknown) => error,
  );
}

const lastRequest = () => server.requests.at(-1)!;

describe('Anthropic Messages API rules', () => {
  const writeFile = (id: string) => ({ type: 'tool_use' as const, id, name: 'write_file', input: { path: `docs/${id}.md`, content: 'x' } });
  const result = (id: string) => ({ type: 'tool_result' as const, tool_use_id: id, content: 'saved' });
  const text = (value: string) => ({ type: 'text' as const, text: value });
  const task: MessageParam = { role: 'user', content: 'Write the droplet.' };

  async function send(messages: MessageParam[], extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}) {
    return anthropic.messages.create({ model: 'claude-test', max_tokens: 1024, messages, ...extra });
  }

  async function refused(messages: MessageParam[], extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}): Promise<string> {
    const error = await rejectionOf(send(messages, extra));
    expect(error).toBeInstanceOf(AnthropicBadRequestError);
    expect(error.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(error.requestID).toMatch(/^req_/);
    const message = error.error.error.message as string;
    expect(lastRequest().rejected).toBe(message);
    return message;
  }

  it('accepts a continuation: the complete calls, then their results first and a note', async () => {
    const messages: MessageParam[] = [
      task,
      { role: 'assistant', content: [text('Here are the files.'), writeFile('toolu_a'), writeFile('toolu_b')] },
      { role: 'user', content: [result('toolu_b'), result('toolu_a'), text('Your answer was cut off; go on.')] },
    ];
    expect((await send(messages)).content).toEqual([{ type: 'text', text: 'ok' }]);
    expect(lastRequest().rejected).toBeUndefined();
  });

  it('refuses a tool_use left without its tool_result in the next message', async () => {
    const message = await refused([task, { role: 'assistant', content: [writeFile('toolu_a'), writeFile('toolu_b')] }, { role: 'user', content: [result('toolu_a'), text('go on')] }]);
    expect(message).toBe(
      'messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_b. Each `tool_use` block must have a corresponding `tool_result` block in the next message.',
    );
    expect(await refused([task, { role: 'assistant', content: [writeFile('toolu_a')] }, { role: 'user', content: 'go on' }])).toContain('without `tool_result` blocks immediately after: toolu_a');
  });

  it('refuses text before the tool_result blocks', async () => {
    const message = await refused([task, { role: 'assistant', content: [writeFile('toolu_a')] }, { role: 'user', content: [text('Saved.'), result('toolu_a')] }]);
    expect(message).toBe(
      'messages.2: Did not find 1 `tool_result` block(s) at the beginning of this message. Messages following `tool_use` blocks must begin with a matching number of `tool_result` blocks.',
    );
  });

  it('refuses a tool_result that answers no tool_use of the previous message', async () => {
    expect(await refused([{ role: 'user', content: [result('toolu_x'), text('hi')] }])).toBe(
      'messages.0.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_x. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.',
    );
    expect(await refused([task, { role: 'assistant', content: [writeFile('toolu_a')] }, { role: 'user', content: [result('toolu_b')] }])).toContain(
      'unexpected `tool_use_id` found in `tool_result` blocks: toolu_b',
    );
    // Answering a call two turns back is answering none in the previous message.
    const late = await refused([
      task,
      { role: 'assistant', content: [writeFile('toolu_a')] },
      { role: 'user', content: [result('toolu_a')] },
      { role: 'assistant', content: [text('Done.')] },
      { role: 'user', content: [result('toolu_a'), text('again')] },
    ]);
    expect(late).toContain('messages.4.content.0: unexpected `tool_use_id`');
  });

  it('merges consecutive turns of one role before pairing, as the API does', async () => {
    await send([task, { role: 'user', content: 'More detail.' }]);
    await send([{ role: 'assistant', content: 'Ready.' }, task]);
    await send([task, { role: 'assistant', content: [writeFile('toolu_a')] }, { role: 'user', content: [result('toolu_a')] }, { role: 'user', content: 'go on' }]);
    expect(server.requests.map((request) => request.rejected)).toEqual([undefined, undefined, undefined]);
    const message = await refused([task, { role: 'assistant', content: [writeFile('toolu_a')] }, { role: 'user', content: 'go on' }, { role: 'user', content: [result('toolu_a')] }]);
    expect(message).toContain('messages.2: Did not find 1 `tool_result` block(s) at the beginning');
  });

  it('refuses empty and whitespace-only text, and empty messages except a final assistant one', async () => {
    expect(await refused([{ role: 'user', content: [text('')] }])).toBe('messages.0.content.0: text content blocks must be non-empty');
    expect(await refused([task, { role: 'assistant', content: [text(' \n ')] }, task])).toBe('messages.1.content.0: text content blocks must contain non-whitespace text');
    expect(await refused([{ role: 'user', content: [] }])).toBe('messages.0: all messages must have non-empty content except for the optional final assistant message');
    await send([task, { role: 'assistant', content: [] }]);
    expect(lastRequest().rejected).toBeUndefined();
  });

  it('refuses tool names outside ^[a-zA-Z0-9_-]{1,64}$ and duplicates', async () => {
    const tool = (name: string): Tool => ({ name, description: 'd', input_schema: { type: 'object', properties: {} } });
    expect(await refused([task], { tools: [tool('write_file'), tool('write file')] })).toBe("tools.1.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'");
    expect(await refused([task], { tools: [tool('a'.repeat(65))] })).toContain('tools.0.custom.name');
    expect(await refused([task], { tools: [tool('write_file'), tool('write_file')] })).toBe('tools: Tool names must be unique.');
    await send([task], { tools: [tool('write_file'), tool('edit-file'), tool('a'.repeat(64))] });
    expect(lastRequest().rejected).toBeUndefined();
  });

  it('refuses a request without max_tokens, or without messages', async () => {
    for (const body of [{ model: 'claude-test', messages: [task] }, { model: 'claude-test', max_tokens: 10, messages: [] }]) {
      const response = await fetch(`${server.url}/v1/messages`, { method: 'POST', body: JSON.stringify(body) });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    }
    expect(server.requests.map((request) => request.rejected)).toEqual(['max_tokens: Field required', 'messages: at least one message is required']);
  });

  it('allows at most four cache_control breakpoints across tools, system and messages', async () => {
    const marked = (value: string) => ({ type: 'text' as const, text: value, cache_control: { type: 'ephemeral' as const } });
    const tools: Tool[] = [{ name: 'write_file', description: 'd', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' } }];
    await send([{ role: 'user', content: [marked('task')] }], { tools, system: [marked('one'), marked('two')] });
    expect(lastRequest().rejected).toBeUndefined();
    const message = await refused([{ role: 'user', content: [marked('task'), marked('more')] }], { tools, system: [marked('one'), marked('two')] });
    expect(message).toBe('A maximum of 4 blocks with cache_control may be provided. Found 5.');
  });

  it('answers a refused request without using the scripted reply meant for the next one', async () => {
    server.fallback = undefined;
    server.enqueue({ kind: 'message', content: [{ type: 'text', text: 'for the valid request' }] });
    await refused([{ role: 'user', content: [text('')] }]);
    expect((await send([task])).content).toEqual([{ type: 'text', text: 'for the valid request' }]);
  });
});

describe('OpenAI chat completions rules', () => {
  const call = (id: string) => ({ id, type: 'function' as const, function: { name: 'write_file', arguments: '{"path":"a","content":"b"}' } });
  const system: ChatCompletionMessageParam = { role: 'system', content: 'You write droplets.' };
  const task: ChatCompletionMessageParam = { role: 'user', content: 'Write the droplet.' };
  const tool = (id: string): ChatCompletionMessageParam => ({ role: 'tool', tool_call_id: id, content: 'saved' });

  async function send(messages: ChatCompletionMessageParam[], tools?: ChatCompletionTool[]) {
    return openai.chat.completions.create({ model: 'gpt-test', messages, ...(tools ? { tools } : {}) });
  }

  async function refused(messages: ChatCompletionMessageParam[], tools?: ChatCompletionTool[]): Promise<{ message: string; param: string }> {
    const error = await rejectionOf(send(messages, tools));
    expect(error).toBeInstanceOf(OpenAIBadRequestError);
    expect(error.error).toMatchObject({ type: 'invalid_request_error', code: null });
    expect(lastRequest().rejected).toBe(error.error.message);
    return { message: error.error.message, param: error.error.param };
  }

  it('accepts a continuation: the calls, one tool message per call in any order, then a note', async () => {
    await send([system, task, { role: 'assistant', content: null, tool_calls: [call('call_a'), call('call_b')] }, tool('call_b'), tool('call_a'), { role: 'user', content: 'go on' }]);
    await send([system, task, { role: 'assistant', content: 'Files.', tool_calls: [call('call_a')] }, tool('call_a')]);
    // No alternation rule: consecutive user messages, and an assistant message first.
    await send([{ role: 'assistant', content: 'Ready.' }, task, { role: 'user', content: 'More detail.' }]);
    expect(server.requests.map((request) => request.rejected)).toEqual([undefined, undefined, undefined]);
  });

  it('refuses tool_calls not each answered by a tool message before the next other message', async () => {
    const missing = await refused([system, task, { role: 'assistant', content: null, tool_calls: [call('call_a'), call('call_b')] }, tool('call_a'), { role: 'user', content: 'go on' }]);
    expect(missing).toEqual({
      message:
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: call_b",
      param: 'messages.[2].role',
    });
    const userFirst = await refused([task, { role: 'assistant', content: null, tool_calls: [call('call_a')] }, { role: 'user', content: 'go on' }, tool('call_a')]);
    expect(userFirst.message).toContain('did not have response messages: call_a');
    const last = await refused([task, { role: 'assistant', content: null, tool_calls: [call('call_a')] }]);
    expect(last.message).toContain('did not have response messages: call_a');
  });

  it('refuses a tool message that answers no call of the assistant message before it', async () => {
    expect(await refused([task, tool('call_a')])).toEqual({
      message: "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
      param: 'messages.[1].role',
    });
    expect(await refused([task, { role: 'assistant', content: null, tool_calls: [call('call_a')] }, tool('call_b')])).toEqual({
      message: "Invalid parameter: 'tool_call_id' of 'call_b' not found in 'tool_calls' of previous message.",
      param: 'messages.[2].tool_call_id',
    });
  });

  it('refuses an assistant message with null content and no tool calls, or an empty tool_calls list', async () => {
    expect(await refused([task, { role: 'assistant', content: null }, task])).toEqual({ message: "Invalid value for 'content': expected a string, got null.", param: 'messages.[1].content' });
    const empty = await refused([task, { role: 'assistant', content: 'x', tool_calls: [] }, task]);
    expect(empty.param).toBe('messages[1].tool_calls');
  });

  it('refuses function names outside [a-zA-Z0-9_-] or longer than 64, and an empty message list', async () => {
    const fn = (name: string): ChatCompletionTool => ({ type: 'function', function: { name, parameters: { type: 'object' } } });
    expect((await refused([task], [fn('write_file'), fn('write.file')])).param).toBe('tools[1].function.name');
    expect((await refused([task], [fn('a'.repeat(65))])).message).toContain('maximum length 64');
    expect((await refused([])).param).toBe('messages');
    await send([task], [fn('write_file'), fn('a'.repeat(64))]);
    expect(lastRequest().rejected).toBeUndefined();
  });
});
