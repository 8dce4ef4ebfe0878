/**
 * Any OpenAI-compatible chat completions server (OpenAI, Ollama, vLLM, llama.cpp)
 * through the `openai` SDK, streamed. The server caches a repeated prompt prefix on
 * its own; the stable context therefore goes first, in one system message.
 */
import OpenAI, { APIConnectionError, APIError, APIUserAbortError, OpenAIError } from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { activityFetch } from './activity-fetch.js';
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

/** `instanceof` alone narrows to APIError<any, any, any>; this keeps the declared field types. */
function isAPIError(error: unknown): error is APIError {
  return error instanceof APIError;
}

export function classifyOpenAIError(error: unknown): ModelCallError | null {
  if (error instanceof APIUserAbortError) return null;
  if (error instanceof APIConnectionError) return new ModelCallError('transient', `connection failed: ${error.message}`);
  if (error instanceof OpenAIError && !(error instanceof APIError)) return new ModelCallError('transient', `the answer broke off: ${error.message}`);
  // undici's "terminated", or a chunk that is not JSON, while the body streams.
  if (error instanceof TypeError || error instanceof SyntaxError) return new ModelCallError('transient', `the answer broke off: ${error.message}`);
  if (!isAPIError(error)) return null;
  const status = error.status;
  if (status === undefined) return new ModelCallError('transient', `stream error: ${error.message}`);
  // Out of credit is a 429 too, but waiting does not refill the account.
  if (status === 429 && (error.code === 'insufficient_quota' || error.type === 'insufficient_quota')) {
    return new ModelCallError('rejected', `quota exhausted (429): ${error.message}`, status);
  }
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
  private readonly baseURL: string;
  private readonly officialApi: boolean;
  /** Ids for tool calls a server sent without one: unique across the calls of this client. */
  private fallbackIds = 0;

  constructor(private readonly options: OpenAIClientOptions) {
    this.model = options.model;
    this.baseURL = options.baseURL ?? OPENAI_API;
    this.officialApi = this.baseURL.replace(/\/+$/, '') === OPENAI_API;
  }

  /** One SDK client per call, so its fetch reports this call's bytes to this call's watchdog. */
  private sdkFor(onActivity: () => void): OpenAI {
    // Local servers need no key, but the SDK insists on one.
    return new OpenAI({ apiKey: this.options.apiKey ?? 'none', baseURL: this.baseURL, maxRetries: 0, timeout: 10 * 60_000, fetch: activityFetch(onActivity) });
  }

  async send(request: ModelRequest, options: SendOptions): Promise<ModelReply> {
    const tools: ChatCompletionTool[] = request.tools.map((tool) => ({
      type: 'function',
      function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
    }));
    try {
      const stream = await this.sdkFor(options.onActivity).chat.completions.create(
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
          // Some compatible servers omit `index`: a new id starts a new call, else it continues the last.
          const index = typeof call.index === 'number' ? call.index : call.id || calls.length === 0 ? calls.length : calls.length - 1;
          const draft = (calls[index] ??= { id: '', name: '', arguments: '' });
          if (call.id) draft.id = call.id;
          if (call.function?.name) draft.name += call.function.name;
          if (call.function?.arguments) draft.arguments += call.function.arguments;
        }
      }
      // The SDK ends its iteration quietly when the stream is aborted or cut: that is no answer.
      if (finish === null) throw new ModelCallError('transient', 'the answer ended before the model said it was done');
      const parts: ModelReply['parts'] = [];
      if (text) parts.push({ type: 'text', text });
      if (refusal) parts.push({ type: 'text', text: refusal });
      for (const call of calls) {
        if (!call) continue;
        parts.push({ type: 'tool_call', id: call.id || `call_fallback_${(this.fallbackIds += 1)}`, name: call.name, input: parseArguments(call.arguments) });
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

/**
 * Arguments cut off by the output limit are not JSON: the caller gets at most the
 * `path` they began with (so the continuation can name the file) and drops that call.
 */
function parseArguments(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    const path = /^\s*\{\s*"path"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(raw)?.[1];
    return path === undefined ? undefined : { path: JSON.parse(`"${path}"`) as string };
  }
}
