/**
 * The request rules of the Anthropic Messages API that the fake server enforces, so
 * that a conversation the real API would answer with 400 `invalid_request_error`
 * fails here too. Messages follow the real API's wording where it is known.
 *
 * Faithful, not stricter. Sources: the `messages` and `max_tokens` parameter docs in
 * @anthropic-ai/sdk's typings (resources/messages/messages.d.ts), the tool-use docs
 * (platform.claude.com … tool-use/handle-tool-calls: a `tool_result` answers a
 * `tool_use` of the previous message, results first in the user content), the
 * prompt-caching docs (at most 4 breakpoints), the tool docs (names match
 * `^[a-zA-Z0-9_-]{1,64}$`) and the 400 messages the API is seen to send.
 * - Consecutive turns of one role are merged into one turn, as the docs say the API
 *   does ("Consecutive `user` or `assistant` turns … will be combined"), so they are
 *   not an error, and an assistant turn may come first (the first-party API accepts
 *   it: anthropics/anthropic-sdk-typescript#622). Pairing rules apply to merged turns.
 * - An assistant turn ending the conversation (prefill) may be empty and need no results.
 */
import type { Rejection } from './script.js';

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX_CACHE_BREAKPOINTS = 4;

interface Located {
  /** Path of the block in the request, e.g. `messages.2.content.0`. */
  at: string;
  block: any;
}

interface Turn {
  role: 'user' | 'assistant';
  /** Index of the first message merged into this turn. */
  message: number;
  blocks: Located[];
}

function asArray(value: unknown): any[] {
  return Array.isArray(value) ? value : [];
}

function blocksOf(message: any, index: number): Located[] {
  if (typeof message?.content === 'string') return [{ at: `messages.${index}.content`, block: { type: 'text', text: message.content } }];
  return asArray(message?.content).map((block, position) => ({ at: `messages.${index}.content.${position}`, block }));
}

function countCacheControl(blocks: unknown[]): number {
  let count = 0;
  for (const block of blocks) {
    if (block === null || typeof block !== 'object') continue;
    const marker: unknown = (block as any).cache_control;
    if (marker !== null && marker !== undefined) count += 1;
    if ((block as any).type === 'tool_result') count += countCacheControl(asArray((block as any).content));
  }
  return count;
}

function checkTools(tools: unknown): Rejection | null {
  const names = new Set<string>();
  for (const [index, tool] of asArray(tools).entries()) {
    // Server tools (web_search…) carry a `type` other than `custom`; their names are fixed by the API.
    if (tool?.type !== undefined && tool.type !== 'custom') continue;
    if (typeof tool?.name !== 'string' || !TOOL_NAME.test(tool.name)) {
      return { message: `tools.${index}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'` };
    }
    if (names.has(tool.name)) return { message: 'tools: Tool names must be unique.' };
    names.add(tool.name);
  }
  return null;
}

function checkText(located: Located): Rejection | null {
  const { block, at } = located;
  if (block?.type !== 'text') return null;
  if (typeof block.text !== 'string' || block.text === '') return { message: `${at}: text content blocks must be non-empty` };
  if (block.text.trim() === '') return { message: `${at}: text content blocks must contain non-whitespace text` };
  return null;
}

function turnsOf(messages: any[]): Turn[] | Rejection {
  const turns: Turn[] = [];
  for (const [index, message] of messages.entries()) {
    const role = message?.role;
    if (role !== 'user' && role !== 'assistant') return { message: `messages.${index}.role: Input should be 'user' or 'assistant'` };
    const blocks = blocksOf(message, index);
    const last = index === messages.length - 1;
    if (blocks.length === 0 && !(last && role === 'assistant')) {
      return { message: `messages.${index}: all messages must have non-empty content except for the optional final assistant message` };
    }
    for (const located of blocks) {
      const bad = checkText(located);
      if (bad) return bad;
    }
    const previous = turns.at(-1);
    if (previous && previous.role === role) previous.blocks.push(...blocks);
    else turns.push({ role, message: index, blocks });
  }
  return turns;
}

/** Each `tool_use` is answered by a `tool_result` at the start of the next turn; no result answers anything else. */
function checkToolPairing(turns: Turn[]): Rejection | null {
  for (const [index, turn] of turns.entries()) {
    const previous = turns[index - 1];
    const asked = new Set(
      previous?.role === 'assistant' ? previous.blocks.filter(({ block }) => block?.type === 'tool_use').map(({ block }) => String(block.id)) : [],
    );
    const results = turn.blocks.filter(({ block }) => block?.type === 'tool_result');
    for (const { at, block } of results) {
      if (!asked.has(String(block.tool_use_id))) {
        return {
          message: `${at}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${block.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
        };
      }
    }
    if (!previous || asked.size === 0) continue;
    const answered = new Set(results.map(({ block }) => String(block.tool_use_id)));
    const missing = [...asked].filter((id) => !answered.has(id));
    if (missing.length > 0) {
      return {
        message: `messages.${previous.message}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
      };
    }
    const leading = turn.blocks.findIndex(({ block }) => block?.type !== 'tool_result');
    if ((leading === -1 ? turn.blocks.length : leading) < asked.size) {
      return {
        message: `messages.${turn.message}: Did not find ${asked.size} \`tool_result\` block(s) at the beginning of this message. Messages following \`tool_use\` blocks must begin with a matching number of \`tool_result\` blocks.`,
      };
    }
  }
  return null;
}

export function validateAnthropicRequest(body: any): Rejection | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { message: 'The request body must be a JSON object.' };
  if (typeof body.model !== 'string' || body.model === '') return { message: 'model: Field required' };
  if (body.max_tokens === undefined) return { message: 'max_tokens: Field required' };
  if (!Number.isInteger(body.max_tokens) || body.max_tokens < 0) return { message: 'max_tokens: Input should be a valid integer greater than or equal to 0' };
  if (!Array.isArray(body.messages)) return { message: 'messages: Field required' };
  if (body.messages.length === 0) return { message: 'messages: at least one message is required' };
  const tools = checkTools(body.tools);
  if (tools) return tools;
  const turns = turnsOf(body.messages);
  if (!Array.isArray(turns)) return turns;
  const pairing = checkToolPairing(turns);
  if (pairing) return pairing;
  const system = Array.isArray(body.system) ? body.system : [];
  const breakpoints =
    countCacheControl(asArray(body.tools)) + countCacheControl(system) + countCacheControl(body.messages.flatMap((message: any) => asArray(message?.content)));
  if (breakpoints > MAX_CACHE_BREAKPOINTS) {
    return { message: `A maximum of ${MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found ${breakpoints}.` };
  }
  return null;
}
