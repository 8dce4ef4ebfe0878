/**
 * The Anthropic Messages API on the wire (POST /v1/messages): a Message JSON, or the
 * SSE sequence message_start, content_block_start, ping, content_block_delta…,
 * content_block_stop, message_delta, message_stop; errors as
 * `{type:'error', error:{type, message}, request_id}`.
 */
import { validateAnthropicRequest } from './anthropic-rules.js';
import { randomId, streamPieces, type PlannedAnswer, type RecordedRequest, type SettledUsage, type WireBlock, type WireFormat } from './script.js';

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

const ERROR_MESSAGES: Record<string, string> = {
  invalid_request_error: 'Invalid request.',
  authentication_error: 'invalid x-api-key',
  permission_error: 'Your API key does not have permission to use the specified resource.',
  not_found_error: 'The requested resource could not be found.',
  request_too_large: 'Request exceeds the maximum allowed number of bytes.',
  rate_limit_error: 'Number of request tokens has exceeded your per-minute rate limit.',
  api_error: 'Internal server error',
  overloaded_error: 'Overloaded',
};

function errorTypeFor(status: number): string {
  return ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

function usageJson(usage: SettledUsage, outputTokens: number) {
  return {
    input_tokens: usage.input_tokens,
    cache_creation_input_tokens: usage.cache_creation_input_tokens,
    cache_read_input_tokens: usage.cache_read_input_tokens,
    cache_creation: { ephemeral_5m_input_tokens: usage.cache_creation_input_tokens, ephemeral_1h_input_tokens: 0 },
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

/** A refusal names its reason in `stop_details`; the scripted text doubles as the explanation. */
function stopDetails(answer: PlannedAnswer) {
  if (answer.stopReason !== 'refusal') return null;
  const text = answer.blocks.map((block) => (block.type === 'text' ? block.text : '')).join('');
  return { type: 'refusal', category: null, explanation: text || null };
}

function contentJson(block: WireBlock) {
  if (block.type === 'text') return { type: 'text', text: block.text };
  return { type: 'tool_use', id: block.id, name: block.name, input: block.input };
}

function frame(data: { type: string } & Record<string, unknown>): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

export const anthropicWire: WireFormat = {
  requestIdHeader: 'request-id',

  messageBody(request: RecordedRequest, answer: PlannedAnswer) {
    return {
      id: randomId('msg_'),
      type: 'message',
      role: 'assistant',
      model: String(request.body?.model ?? 'unknown'),
      content: answer.blocks.map(contentJson),
      stop_reason: answer.stopReason,
      stop_sequence: null,
      stop_details: stopDetails(answer),
      usage: usageJson(answer.usage, answer.usage.output_tokens),
    };
  },

  streamFrames(request: RecordedRequest, answer: PlannedAnswer): string[] {
    const frames = [
      frame({
        type: 'message_start',
        message: {
          id: randomId('msg_'),
          type: 'message',
          role: 'assistant',
          model: String(request.body?.model ?? 'unknown'),
          content: [],
          stop_reason: null,
          stop_sequence: null,
          stop_details: null,
          usage: usageJson(answer.usage, 1),
        },
      }),
    ];
    answer.blocks.forEach((block, index) => {
      const start = block.type === 'text' ? { type: 'text', text: '' } : { type: 'tool_use', id: block.id, name: block.name, input: {} };
      frames.push(frame({ type: 'content_block_start', index, content_block: start }));
      // The real API sends its first ping right after the first block opens.
      if (index === 0) frames.push(frame({ type: 'ping' }));
      const pieces = block.type === 'text' ? streamPieces(block.text) : streamPieces(block.json);
      for (const piece of pieces) {
        const delta = block.type === 'text' ? { type: 'text_delta', text: piece } : { type: 'input_json_delta', partial_json: piece };
        frames.push(frame({ type: 'content_block_delta', index, delta }));
      }
      frames.push(frame({ type: 'content_block_stop', index }));
    });
    if (answer.blocks.length === 0) frames.push(frame({ type: 'ping' }));
    const { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens } = answer.usage;
    frames.push(
      frame({
        type: 'message_delta',
        delta: { stop_reason: answer.stopReason, stop_sequence: null, stop_details: stopDetails(answer) },
        usage: { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens },
      }),
      frame({ type: 'message_stop' }),
    );
    return frames;
  },

  streamEnd: () => [],

  errorBody(status: number, requestId: string, type?: string, message?: string) {
    const errorType = type ?? errorTypeFor(status);
    return { type: 'error', error: { type: errorType, message: message ?? ERROR_MESSAGES[errorType] ?? 'Error' }, request_id: requestId };
  },

  streamErrorFrame(type = 'overloaded_error', message?: string): string {
    return frame({ type: 'error', error: { type, message: message ?? ERROR_MESSAGES[type] ?? 'Error' } });
  },

  midGenerationStatus: (type?: string) => (type === undefined || type === 'overloaded_error' ? 529 : 500),

  validate: validateAnthropicRequest,
};
