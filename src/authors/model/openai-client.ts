/**
 * Any OpenAI-compatible chat completions server (OpenAI, Ollama, vLLM, llama.cpp)
 * through the `openai` SDK, streamed. The server caches a repeated prompt prefix on
 * its own; the stable context therefore goes first, in one system message.
 */
import OpenAI, { APIConnectionError, APIError, APIUserAbortError, OpenAIError } from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { type ModelClient, ModelCallError, type ModelReply, type ModelRequest, retryAfterFrom, type SendOptions, type StopReason } from './types.js';

export interface OpenAIClientOptions {
  model: string;
  apiKey?: string;
  /** Default https://api.openai.com/v1. */
  baseURL?: string;
}

const OPENAI_API = 'https://api.openai.com/v1';

const STOP_REASONS: Record<string, StopReason> = {
  stop: 'end',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  length: 'max_tokens',
  content_filter: 'refusal',
};

export function classifyOpenAIError(error: unknown): ModelCallError | null {
  if (error instanceof APIUserAbortError) return null;
  if (error instanceof APIConnectionError) return new ModelCallError('transient', `connection failed: ${error.message}`);
  if (error instanceof OpenAIError && !(error instanceof APIError)) return new ModelCallError('transient', `the answer broke off: ${error.message}`);
  if (!(error instanceof APIError)) return null;
  const status = error.status;
  if (status === undefined) return new ModelCallError('transient', `stream error: ${error.message}`);
  if (status === 429) {
    return new ModelCallError('rate_limited', `rate limited (429): ${error.message}`, status, retryAfterFrom((name) => error.headers?.get(name)));
  }
  if (status === 408 || status === 409 || status >= 500) return new ModelCallError('transient', `server error (${status}): ${error.message}`, status);
  return new ModelCallError('rejected', `request rejected (${status}): ${error.message}`, status);
}

function toMessages(request: ModelRequest): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = [{ role: 'system', content: [request.system, ...request.context].join('\n\n') }];
  for (const message of request.messages) {
    const text = message.parts.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n\n');
    if (message.role === 'assistant') {
      const calls = message.parts.flatMap((part) =>
        part.type === 'tool_call' ? [{ id: part.id, type: 'function' as const, function: { name: part.name, arguments: JSON.stringify(part.input) } }] : [],
      );
      messages.push({ role: 'assistant', content: text || null, ...(calls.length > 0 ? { tool_calls: calls } : {}) });
      continue;
    }
    // Tool results must directly follow the assistant message that made the calls.
    for (const part of message.parts) {
      if (part.type === 'tool_result') messages.push({ role: 'tool', tool_call_id: part.toolCallId, content: part.content });
    }
    if (text) messages.push({ role: 'user', content: text });
  }
  return messages;
}

interface ToolCallDraft {
  id: string;
  name: string;
  arguments: string;
}

export class OpenAIClient implements ModelClient {
  readonly provider = 'openai' as const;
  readonly model: string;
  private readonly sdk: OpenAI;
  private readonly officialApi: boolean;

  constructor(options: OpenAIClientOptions) {
    this.model = options.model;
    const baseURL = options.baseURL ?? OPENAI_API;
    this.officialApi = baseURL.replace(/\/+$/, '') === OPENAI_API;
    // Local servers need no key, but the SDK insists on one.
    this.sdk = new OpenAI({ apiKey: options.apiKey ?? 'none', baseURL, maxRetries: 0, timeout: 10 * 60_000 });
  }

  async send(request: ModelRequest, options: SendOptions): Promise<ModelReply> {
    const tools: ChatCompletionTool[] = request.tools.map((tool) => ({
      type: 'function',
      function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
    }));
    try {
      const stream = await this.sdk.chat.completions.create(
        {
          model: this.model,
          messages: toMessages(request),
          stream: true,
          stream_options: { include_usage: true },
          // OpenAI's own API has renamed the limit; compatible servers still read the old name.
          ...(this.officialApi ? { max_completion_tokens: request.maxOutputTokens } : { max_tokens: request.maxOutputTokens }),
          ...(tools.length > 0 ? { tools } : {}),
        },
        { signal: options.signal },
      );
      let text = '';
      let refusal = '';
      let finish: string | null = null;
      let model = this.model;
      const calls: ToolCallDraft[] = [];
      const usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
      for await (const chunk of stream) {
        options.onActivity();
        if (chunk.model) model = chunk.model;
        if (chunk.usage) {
          const cached = chunk.usage.prompt_tokens_details?.cached_tokens ?? 0;
          usage.inputTokens = chunk.usage.prompt_tokens - cached;
          usage.cacheReadTokens = cached;
          usage.outputTokens = chunk.usage.completion_tokens;
        }
        const choice = chunk.choices[0];
        if (!choice) continue;
        if (choice.finish_reason) finish = choice.finish_reason;
        const delta = choice.delta;
        if (delta?.content) text += delta.content;
        if (delta?.refusal) refusal += delta.refusal;
        for (const call of delta?.tool_calls ?? []) {
          const draft = (calls[call.index] ??= { id: '', name: '', arguments: '' });
          if (call.id) draft.id = call.id;
          if (call.function?.name) draft.name += call.function.name;
          if (call.function?.arguments) draft.arguments += call.function.arguments;
        }
      }
      const parts: ModelReply['parts'] = [];
      if (text) parts.push({ type: 'text', text });
      if (refusal) parts.push({ type: 'text', text: refusal });
      for (const [index, call] of calls.entries()) {
        if (!call) continue;
        parts.push({ type: 'tool_call', id: call.id || `call_${index}`, name: call.name, input: parseArguments(call.arguments) });
      }
      return {
        parts,
        stopReason: refusal ? 'refusal' : (STOP_REASONS[finish ?? ''] ?? 'other'),
        rawStopReason: finish,
        usage,
        model,
      };
    } catch (error) {
      throw classifyOpenAIError(error) ?? error;
    }
  }
}

/** Arguments cut off by the output limit are not JSON: the caller sees `undefined` and drops that call. */
function parseArguments(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
