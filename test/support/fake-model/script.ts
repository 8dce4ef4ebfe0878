/**
 * What a test scripts the fake model server to answer, and the helpers both wire
 * formats share: ids, token estimates, how output is cut into stream pieces and how a
 * tool call is cut short by `max_tokens`.
 */
import { randomBytes } from 'node:crypto';
import { partialParse } from '@anthropic-ai/sdk/_vendor/partial-json-parser/parser';

export type ScriptedBlock = { type: 'text'; text: string } | { type: 'tool_use'; name: string; input: unknown };

export interface ScriptedUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
}

export type ScriptedStopReason = 'end_turn' | 'max_tokens' | 'tool_use' | 'refusal';

export type ScriptedReply =
  | { kind: 'message'; content: ScriptedBlock[]; stop_reason?: ScriptedStopReason; usage?: Partial<ScriptedUsage> }
  | { kind: 'error'; status: number; type?: string; message?: string; headers?: Record<string, string> }
  | { kind: 'stream_error'; content: ScriptedBlock[]; after_events: number; type?: string; message?: string }
  | { kind: 'stall'; content: ScriptedBlock[]; after_events: number }
  /** The connection is cut (socket destroyed) after `after_events` events of the answer: no error event, no end. */
  | { kind: 'stream_drop'; content: ScriptedBlock[]; after_events: number }
  /** The response ends cleanly after `after_events` events: no stop event (message_stop, finish_reason, [DONE]) ever comes. */
  | { kind: 'stream_end'; content: ScriptedBlock[]; after_events: number }
  | { kind: 'hang' }
  | { kind: 'drop' };

export type ScriptedMessage = Extract<ScriptedReply, { kind: 'message' }>;

export interface RecordedRequest {
  api: 'anthropic' | 'openai';
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  stream: boolean;
  raw: string;
  receivedAt: number;
  /** The client went away before the answer finished (abort, idle watchdog, cancel). */
  aborted: boolean;
  /**
   * Why the server refused the request as the real API would (answered 400
   * `invalid_request_error` without using a scripted reply); undefined when it was valid.
   */
  rejected?: string;
}

/** A request the real API refuses: the message it answers with, and (OpenAI) the parameter at fault. */
export interface Rejection {
  message: string;
  param?: string;
}

/** Usage with every field settled: what the wire formats report. */
export type SettledUsage = Required<ScriptedUsage>;

/** One block of the answer as it goes on the wire, tool inputs already serialised (and cut, if truncated). */
export type WireBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; json: string; input: unknown; truncated: boolean };

/** A scripted answer made concrete: what both wire formats render, as JSON or as a stream. */
export interface PlannedAnswer {
  blocks: WireBlock[];
  stopReason: ScriptedStopReason;
  usage: SettledUsage;
}

export function randomId(prefix: string, bytes = 12): string {
  return prefix + randomBytes(bytes).toString('hex');
}

/** About four characters a token: close enough to compare prompt sizes between calls. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * Cuts a string into the pieces a stream sends: about four pieces (so every delta
 * path is exercised), never more than 512 code points each, never splitting a
 * surrogate pair.
 */
export function streamPieces(text: string): string[] {
  const points = Array.from(text);
  if (points.length === 0) return [];
  const size = Math.min(512, Math.max(1, Math.ceil(points.length / 4)));
  const pieces: string[] = [];
  for (let start = 0; start < points.length; start += size) pieces.push(points.slice(start, start + size).join(''));
  return pieces;
}

/**
 * Makes a scripted message concrete. When it stops on `max_tokens` and its last block
 * is a tool call, that call's JSON is cut in half, as the real API does when the limit
 * falls inside a tool call; its `input` is then what the Anthropic SDK's own partial
 * parser makes of the half (complete leading fields only; the field being written is
 * missing).
 */
export function planAnswer(reply: { content: ScriptedBlock[]; stop_reason?: ScriptedStopReason }, usage: SettledUsage): PlannedAnswer {
  const stopReason = reply.stop_reason ?? (reply.content.some((block) => block.type === 'tool_use') ? 'tool_use' : 'end_turn');
  const blocks = reply.content.map((block, index): WireBlock => {
    if (block.type === 'text') return { type: 'text', text: block.text };
    const json = JSON.stringify(block.input ?? {});
    const cut = stopReason === 'max_tokens' && index === reply.content.length - 1;
    if (!cut) return { type: 'tool_use', id: randomId('toolu_'), name: block.name, json, input: block.input ?? {}, truncated: false };
    const points = Array.from(json);
    const half = points.slice(0, Math.floor(points.length / 2)).join('');
    return { type: 'tool_use', id: randomId('toolu_'), name: block.name, json: half, input: half ? partialParse(half) : {}, truncated: true };
  });
  return { blocks, stopReason, usage };
}

/** Output tokens when the script does not say: estimated from what is sent. */
export function estimateOutputTokens(content: ScriptedBlock[]): number {
  const text = content.map((block) => (block.type === 'text' ? block.text : JSON.stringify(block.input ?? {}))).join('');
  return Math.max(1, estimateTokens(text));
}

/** One API's wire format: how an answer, an error and a stream look on it. */
export interface WireFormat {
  /** Response header carrying the request id. */
  readonly requestIdHeader: string;
  /** A whole answer as the JSON body of a non-streaming response. */
  messageBody(request: RecordedRequest, answer: PlannedAnswer): unknown;
  /** A whole answer as stream frames, each one complete SSE event (what `after_events` counts). */
  streamFrames(request: RecordedRequest, answer: PlannedAnswer): string[];
  /** Frames after the last event of a stream that completed (OpenAI's `[DONE]`). */
  streamEnd(): string[];
  /** The body of an HTTP error response (`param`: the request field at fault, where the API names one). */
  errorBody(status: number, requestId: string, type?: string, message?: string, param?: string): unknown;
  /** The rule of the real API that the request body breaks, or null when it is valid. */
  validate(body: any): Rejection | null;
  /** The frame that reports an error in the middle of a stream. */
  streamErrorFrame(type?: string, message?: string): string;
  /** The HTTP status that stands for a mid-generation error when the request did not stream. */
  midGenerationStatus(type?: string): number;
}
