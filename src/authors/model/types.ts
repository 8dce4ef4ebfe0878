/**
 * The provider-neutral shape of a model conversation. The prompt builder, the output
 * parser and the retry policy speak only this; one client per wire protocol
 * (Anthropic Messages, OpenAI chat completions) translates it.
 */

export type ModelPart =
  | { type: 'text'; text: string }
  | { type: 'tool_call'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; toolCallId: string; content: string; isError?: boolean };

export interface ModelMessage {
  role: 'user' | 'assistant';
  parts: ModelPart[];
}

export interface ModelTool {
  name: string;
  description: string;
  /** JSON Schema of the tool's input object. */
  inputSchema: Record<string, unknown>;
}

export interface ModelRequest {
  /** Instructions that never change between calls. */
  system: string;
  /**
   * Large stable context (foundation files, then the SPEC), in order. The client
   * marks the end of each block as a cache breakpoint where the API supports it,
   * so later calls of a build read the shared prefix from the cache.
   */
  context: string[];
  messages: ModelMessage[];
  /** Empty when output comes as file blocks in text. */
  tools: ModelTool[];
  maxOutputTokens: number;
}

/** Why the model stopped, in our terms. */
export type StopReason = 'end' | 'tool_use' | 'max_tokens' | 'context_exceeded' | 'refusal' | 'other';

export interface TokenUsage {
  /** Input tokens billed at the full rate (neither read from nor written to the cache). */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export interface ModelReply {
  /** Text and tool calls, in the order the model produced them. */
  parts: Array<Extract<ModelPart, { type: 'text' } | { type: 'tool_call' }>>;
  stopReason: StopReason;
  /** The provider's own word for it (`end_turn`, `length`, `content_filter`…). */
  rawStopReason: string | null;
  usage: TokenUsage;
  /** The model that answered (may be a dated variant of the one asked for). */
  model: string;
}

export interface SendOptions {
  signal: AbortSignal;
  /** Called whenever bytes of the answer arrive: feeds the idle watchdog. */
  onActivity: () => void;
}

/** One wire protocol. Throws ModelCallError for every failure it can classify. */
export interface ModelClient {
  readonly provider: 'anthropic' | 'openai';
  readonly model: string;
  send(request: ModelRequest, options: SendOptions): Promise<ModelReply>;
}

/** How a failed call should be treated by the retry policy. */
export type FaultKind =
  /** 429: wait `retryAfterMs` when the server said, else back off. */
  | 'rate_limited'
  /** 529 / overloaded_error, 5xx, a dropped connection, an error event mid-stream. */
  | 'transient'
  /** The stream went silent for longer than the idle timeout. */
  | 'stalled'
  /** 400, 401, 403, 404, 413…: the same call will fail the same way. */
  | 'rejected';

export class ModelCallError extends Error {
  constructor(
    readonly kind: FaultKind,
    message: string,
    readonly status: number | null = null,
    readonly retryAfterMs: number | null = null,
    /** Tokens the failed attempt had already used (known when the stream had begun). */
    readonly partialUsage: TokenUsage | null = null,
  ) {
    super(message);
    this.name = 'ModelCallError';
  }
}

/** Parses `retry-after` (seconds or an HTTP date) and `retry-after-ms`; null when absent or unreadable. */
export function retryAfterFrom(header: (name: string) => string | null | undefined, now = Date.now()): number | null {
  const ms = Number(header('retry-after-ms'));
  if (header('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return ms;
  const value = header('retry-after');
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
