/**
 * The Anthropic Messages API through @anthropic-ai/sdk, always streamed (long code
 * answers would otherwise hit HTTP timeouts, and the stream feeds the idle watchdog).
 * The SDK's own retries are off: one retry policy (retry.ts) serves both providers.
 */
import Anthropic, { AnthropicError, APIConnectionError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { MessageStream } from '@anthropic-ai/sdk/lib/MessageStream';
import type { ContentBlockParam, MessageParam, TextBlockParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import { activityFetch } from './activity-fetch.js';
import {
  type ModelClient,
  ModelCallError,
  type ModelMessage,
  type ModelReply,
  type ModelRequest,
  retryAfterFrom,
  type SendOptions,
  type StopReason,
} from './types.js';

export interface AnthropicClientOptions {
  apiKey: string;
  model: string;
  baseURL?: string;
}

const STOP_REASONS: Record<string, StopReason> = {
  end_turn: 'end',
  stop_sequence: 'end',
  tool_use: 'tool_use',
  max_tokens: 'max_tokens',
  // Continuing would only make the prompt longer.
  model_context_window_exceeded: 'context_exceeded',
  refusal: 'refusal',
};

/** Error types the API sends in a body or mid-stream that a later identical call may not hit. */
const TRANSIENT_TYPES = new Set(['overloaded_error', 'api_error', 'rate_limit_error', 'timeout_error']);

/** With `breakpoint`, the message's last block ends the cached prefix: the next turn of the conversation reads it back. */
function toContent(message: ModelMessage, breakpoint: boolean): ContentBlockParam[] {
  const cache = { cache_control: { type: 'ephemeral' as const } };
  return message.parts.map((part, index): ContentBlockParam => {
    const marker = breakpoint && index === message.parts.length - 1 ? cache : {};
    if (part.type === 'text') return { type: 'text', text: part.text, ...marker };
    if (part.type === 'tool_call') return { type: 'tool_use', id: part.id, name: part.name, input: part.input, ...marker };
    return { type: 'tool_result', tool_use_id: part.toolCallId, content: part.content, ...(part.isError ? { is_error: true } : {}), ...marker };
  });
}

/** System text, then each context block; the end of each context block is a cache breakpoint. */
function toSystem(request: ModelRequest): TextBlockParam[] {
  // The API allows four breakpoints; the last ones matter most (the longest prefix).
  const firstMarked = Math.max(0, request.context.length - 3);
  return [
    { type: 'text', text: request.system },
    ...request.context.map((text, index): TextBlockParam =>
      index >= firstMarked ? { type: 'text', text, cache_control: { type: 'ephemeral' } } : { type: 'text', text },
    ),
  ];
}

/** `instanceof` alone narrows to APIError<any, any, any>; this keeps the declared field types. */
function isAPIError(error: unknown): error is APIError {
  return error instanceof APIError;
}

export function classifyAnthropicError(error: unknown): ModelCallError | null {
  if (error instanceof APIUserAbortError) return null;
  if (error instanceof APIConnectionError) return new ModelCallError('transient', `connection failed: ${error.message}`);
  // The connection broke after the answer began ("terminated"): the partial answer is dropped.
  if (error instanceof AnthropicError && !(error instanceof APIError)) return new ModelCallError('transient', `the answer broke off: ${error.message}`);
  // undici's "terminated" and friends, thrown while the body streams.
  if (error instanceof TypeError) return new ModelCallError('transient', `the connection broke: ${error.message}`);
  if (!isAPIError(error)) return null;
  const detail = error.apiMessage ?? error.message;
  if (error.status === undefined) {
    // An `error` event in the middle of a stream: the partial answer is discarded.
    const type = error.type ?? 'unknown_error';
    return new ModelCallError(type === 'invalid_request_error' ? 'rejected' : 'transient', `stream error (${type}): ${detail}`);
  }
  const status = error.status;
  if (status === 429) {
    return new ModelCallError('rate_limited', `rate limited (429): ${detail}`, status, retryAfterFrom((name) => error.headers?.get(name)));
  }
  if (status === 408 || status === 409 || status >= 500 || TRANSIENT_TYPES.has(error.type ?? '')) {
    return new ModelCallError('transient', `${error.type ?? 'server error'} (${status}): ${detail}`, status, retryAfterFrom((name) => error.headers?.get(name)));
  }
  return new ModelCallError('rejected', `${error.type ?? 'request rejected'} (${status}): ${detail}`, status);
}

function withUsage(fault: ModelCallError, usage: { input_tokens: number; output_tokens: number; cache_read_input_tokens?: number | null; cache_creation_input_tokens?: number | null }): ModelCallError {
  return new ModelCallError(fault.kind, fault.message, fault.status, fault.retryAfterMs, {
    inputTokens: usage.input_tokens,
    outputTokens: usage.output_tokens,
    cacheReadTokens: usage.cache_read_input_tokens ?? 0,
    cacheWriteTokens: usage.cache_creation_input_tokens ?? 0,
  });
}

export class AnthropicClient implements ModelClient {
  readonly provider = 'anthropic' as const;
  readonly model: string;

  constructor(private readonly options: AnthropicClientOptions) {
    this.model = options.model;
  }

  /** One SDK client per call, so its fetch reports this call's bytes to this call's watchdog. */
  private sdkFor(onActivity: () => void): Anthropic {
    const { apiKey, baseURL } = this.options;
    return new Anthropic({ apiKey, baseURL: baseURL ?? null, maxRetries: 0, timeout: 10 * 60_000, fetch: activityFetch(onActivity) });
  }

  async send(request: ModelRequest, options: SendOptions): Promise<ModelReply> {
    const tools: Tool[] = request.tools.map((tool) => ({
      name: tool.name,
      description: tool.description,
      input_schema: tool.inputSchema as Tool['input_schema'],
    }));
    // A conversation of several turns (reads, continuations) caches itself up to its last message; a first call has nothing to reuse.
    const last = request.messages.length - 1;
    const messages: MessageParam[] = request.messages.map((message, index) => ({ role: message.role, content: toContent(message, last > 0 && index === last) }));
    let stream: MessageStream | undefined;
    try {
      stream = this.sdkFor(options.onActivity).messages.stream(
        {
          model: this.model,
          max_tokens: request.maxOutputTokens,
          system: toSystem(request),
          messages,
          ...(tools.length > 0 ? { tools } : {}),
        },
        { signal: options.signal },
      );
      const message = await stream.finalMessage();
      const parts: ModelReply['parts'] = [];
      for (const block of message.content) {
        if (block.type === 'text') parts.push({ type: 'text', text: block.text });
        else if (block.type === 'tool_use') parts.push({ type: 'tool_call', id: block.id, name: block.name, input: block.input });
      }
      const usage = message.usage;
      return {
        parts,
        stopReason: STOP_REASONS[message.stop_reason ?? ''] ?? 'other',
        rawStopReason: message.stop_reason ?? null,
        usage: {
          inputTokens: usage.input_tokens,
          outputTokens: usage.output_tokens,
          cacheReadTokens: usage.cache_read_input_tokens ?? 0,
          cacheWriteTokens: usage.cache_creation_input_tokens ?? 0,
        },
        model: message.model,
      };
    } catch (error) {
      const fault = classifyAnthropicError(error);
      if (!fault) throw error;
      // What the failed attempt already used (message_start carries the input side).
      const usage = stream?.currentMessage?.usage;
      throw usage ? withUsage(fault, usage) : fault;
    }
  }
}
