/**
 * The OpenAI chat completions API on the wire (POST /v1/chat/completions): a
 * `chat.completion` JSON, or `data: {chat.completion.chunk}` lines ending in
 * `data: [DONE]`; errors as `{error:{message, type, param, code}}`.
 *
 * Stop reasons map as end_turn→stop, max_tokens→length, tool_use→tool_calls,
 * refusal→content_filter (the scripted text then goes in `message.refusal`, and
 * `content` is null). Text blocks are joined into one `content` string.
 */
import { validateOpenAIRequest } from './openai-rules.js';
import { randomId, streamPieces, type PlannedAnswer, type RecordedRequest, type ScriptedStopReason, type WireFormat } from './script.js';

const FINISH_REASONS: Record<ScriptedStopReason, string> = {
  end_turn: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

const ERRORS: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: 'invalid_request_error', code: null, message: 'Invalid request.' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' },
  403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory', message: 'Forbidden.' },
  404: { type: 'invalid_request_error', code: 'model_not_found', message: 'The model does not exist.' },
  413: { type: 'invalid_request_error', code: 'request_too_large', message: 'Request too large.' },
  429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests.' },
};

function errorFor(status: number) {
  return ERRORS[status] ?? (status >= 500
    ? { type: 'server_error', code: null, message: 'The server had an error while processing your request.' }
    : { type: 'invalid_request_error', code: null, message: 'Invalid request.' });
}

function usageJson(answer: PlannedAnswer) {
  const { input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens } = answer.usage;
  const prompt = input_tokens + cache_read_input_tokens + cache_creation_input_tokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: output_tokens,
    total_tokens: prompt + output_tokens,
    prompt_tokens_details: { cached_tokens: cache_read_input_tokens, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function textOf(answer: PlannedAnswer): string {
  return answer.blocks.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

function toolCalls(answer: PlannedAnswer) {
  return answer.blocks.flatMap((block) => (block.type === 'tool_use' ? [block] : []));
}

function dataFrame(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

export const openaiWire: WireFormat = {
  requestIdHeader: 'x-request-id',

  messageBody(request: RecordedRequest, answer: PlannedAnswer) {
    const refused = answer.stopReason === 'refusal';
    const text = textOf(answer);
    const calls = toolCalls(answer).map((call) => ({ id: call.id.replace('toolu_', 'call_'), type: 'function', function: { name: call.name, arguments: call.json } }));
    return {
      id: randomId('chatcmpl-'),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: String(request.body?.model ?? 'unknown'),
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: refused || text === '' ? null : text,
            refusal: refused ? text : null,
            annotations: [],
            ...(calls.length > 0 ? { tool_calls: calls } : {}),
          },
          logprobs: null,
          finish_reason: FINISH_REASONS[answer.stopReason],
        },
      ],
      usage: usageJson(answer),
      service_tier: 'default',
      system_fingerprint: null,
    };
  },

  streamFrames(request: RecordedRequest, answer: PlannedAnswer): string[] {
    const includeUsage = request.body?.stream_options?.include_usage === true;
    const base = {
      id: randomId('chatcmpl-'),
      object: 'chat.completion.chunk',
      created: Math.floor(Date.now() / 1000),
      model: String(request.body?.model ?? 'unknown'),
      service_tier: 'default',
      system_fingerprint: null,
      ...(includeUsage ? { usage: null } : {}),
    };
    const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
      dataFrame({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });
    const refused = answer.stopReason === 'refusal';
    const frames = [chunk({ role: 'assistant', content: '', refusal: null })];
    for (const piece of streamPieces(textOf(answer))) frames.push(chunk(refused ? { refusal: piece } : { content: piece }));
    toolCalls(answer).forEach((call, index) => {
      const opening = { index, id: call.id.replace('toolu_', 'call_'), type: 'function', function: { name: call.name, arguments: '' } };
      frames.push(chunk({ tool_calls: [opening] }));
      for (const piece of streamPieces(call.json)) frames.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    });
    frames.push(chunk({}, FINISH_REASONS[answer.stopReason]));
    if (includeUsage) frames.push(dataFrame({ ...base, choices: [], usage: usageJson(answer) }));
    return frames;
  },

  streamEnd: () => ['data: [DONE]\n\n'],

  errorBody(status: number, _requestId: string, type?: string, message?: string, param?: string) {
    const known = errorFor(status);
    return { error: { message: message ?? known.message, type: type ?? known.type, param: param ?? null, code: known.code } };
  },

  streamErrorFrame(type?: string, message?: string): string {
    const known = errorFor(500);
    return dataFrame({ error: { message: message ?? known.message, type: type ?? known.type, param: null, code: null } });
  },

  midGenerationStatus: () => 500,

  validate: validateOpenAIRequest,
};
