/**
 * The request rules of OpenAI's chat completions API that the fake server enforces,
 * so that a conversation the real API would answer with 400 `invalid_request_error`
 * fails here too, with the real API's wording and `param` where they are known.
 *
 * Faithful, not stricter. Sources: the `openai` package typings
 * (resources/chat/completions/completions.d.ts: an assistant message's `content` is
 * "Required unless `tool_calls` or `function_call` is specified"; a function name is
 * "a-z, A-Z, 0-9, or … underscores and dashes, with a maximum length of 64"), the
 * function-calling guide (each tool call is answered by a `role: "tool"` message with
 * its `tool_call_id`), and the 400s the API is seen to send: "An assistant message with
 * 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'…"
 * and "messages with role 'tool' must be a response to a preceeding message with
 * 'tool_calls'". Unlike Anthropic, roles need not alternate and the order of the tool
 * messages among themselves is free.
 */
import type { Rejection } from './script.js';

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);
const FUNCTION_NAME = /^[a-zA-Z0-9_-]+$/;

function asArray(value: unknown): any[] {
  return Array.isArray(value) ? value : [];
}

function checkTools(tools: unknown): Rejection | null {
  for (const [index, tool] of asArray(tools).entries()) {
    if (tool?.type !== 'function') continue;
    const name = tool.function?.name;
    const param = `tools[${index}].function.name`;
    if (typeof name !== 'string' || !FUNCTION_NAME.test(name)) {
      return { message: `Invalid '${param}': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`, param };
    }
    if (name.length > 64) {
      return { message: `Invalid '${param}': string too long. Expected a string with maximum length 64, but got a string with length ${name.length} instead.`, param };
    }
  }
  return null;
}

function checkAssistant(message: any, index: number): Rejection | null {
  if (message.tool_calls !== undefined && message.tool_calls !== null) {
    if (!Array.isArray(message.tool_calls) || message.tool_calls.length === 0) {
      const param = `messages[${index}].tool_calls`;
      return { message: `Invalid '${param}': empty array. Expected an array with minimum length 1, but got an empty array instead.`, param };
    }
    return null;
  }
  if ((message.content === null || message.content === undefined) && (message.function_call === null || message.function_call === undefined)) {
    return { message: "Invalid value for 'content': expected a string, got null.", param: `messages.[${index}].content` };
  }
  return null;
}

function unanswered(assistant: number, pending: Set<string>): Rejection {
  return {
    message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...pending].join(', ')}`,
    param: `messages.[${assistant}].role`,
  };
}

export function validateOpenAIRequest(body: any): Rejection | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { message: 'The request body must be a JSON object.' };
  if (typeof body.model !== 'string' || body.model === '') return { message: 'you must provide a model parameter', param: 'model' };
  if (!Array.isArray(body.messages)) return { message: "Missing required parameter: 'messages'.", param: 'messages' };
  if (body.messages.length === 0) return { message: "[] is too short - 'messages'", param: 'messages' };
  const tools = checkTools(body.tools);
  if (tools) return tools;

  // The calls of the assistant message the tool messages now in sequence answer, and those not yet answered.
  let calls: { index: number; ids: Set<string>; pending: Set<string> } | null = null;
  for (const [index, message] of body.messages.entries()) {
    const role = message?.role;
    if (!ROLES.has(role)) {
      return { message: `Invalid value: '${String(role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`, param: `messages[${index}].role` };
    }
    if (role === 'tool') {
      if (!calls) return { message: "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.", param: `messages.[${index}].role` };
      const id = String(message.tool_call_id);
      if (!calls.ids.has(id)) return { message: `Invalid parameter: 'tool_call_id' of '${id}' not found in 'tool_calls' of previous message.`, param: `messages.[${index}].tool_call_id` };
      calls.pending.delete(id);
      continue;
    }
    if (calls && calls.pending.size > 0) return unanswered(calls.index, calls.pending);
    calls = null;
    if (role !== 'assistant') continue;
    const bad = checkAssistant(message, index);
    if (bad) return bad;
    if (Array.isArray(message.tool_calls)) {
      const ids = message.tool_calls.map((call: any) => String(call?.id));
      calls = { index, ids: new Set(ids), pending: new Set(ids) };
    }
  }
  if (calls && calls.pending.size > 0) return unanswered(calls.index, calls.pending);
  return null;
}
