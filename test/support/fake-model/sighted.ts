/**
 * A fake model that can change only what it has seen, as a real one: the files the
 * task showed it (whole, or as numbered excerpts) and the files it read with read_file
 * in the same conversation. It knows a file exists only when the conversation names
 * it (the task, or a list_files answer), so it explores the way a model does: list,
 * then read, then edit. What it cannot see it cannot fix: it says so and writes nothing.
 * Both wire formats (Anthropic messages, OpenAI chat completions) are read.
 */
import type { RecordedRequest, ScriptedBlock, ScriptedReply } from './script.js';

export interface IntendedEdit {
  path: string;
  oldText: string;
  newText: string;
}

export interface SightedOptions {
  /** Whether it may use read_file and list_files when the request offers them (default true). */
  read?: boolean;
}

interface ToolExchange {
  name: string;
  input: Record<string, unknown>;
  result: string | null;
}

/** What one request shows the model: the task text, the tools offered and the tool calls it made with their answers. */
export interface Conversation {
  task: string;
  tools: string[];
  exchanges: ToolExchange[];
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((block: { type?: string; text?: string; content?: unknown }) => (block.type === 'text' ? (block.text ?? '') : '')).join('\n');
}

function anthropicConversation(body: any): Conversation {
  const messages = (body?.messages ?? []) as Array<{ role: string; content: unknown }>;
  const calls = new Map<string, ToolExchange>();
  const exchanges: ToolExchange[] = [];
  for (const message of messages) {
    if (!Array.isArray(message.content)) continue;
    for (const block of message.content as Array<Record<string, any>>) {
      if (block.type === 'tool_use') {
        const exchange = { name: String(block.name), input: (block.input ?? {}) as Record<string, unknown>, result: null };
        calls.set(String(block.id), exchange);
        exchanges.push(exchange);
      }
      if (block.type === 'tool_result') {
        const exchange = calls.get(String(block.tool_use_id));
        if (exchange) exchange.result = typeof block.content === 'string' ? block.content : textOf(block.content);
      }
    }
  }
  const tools = ((body?.tools ?? []) as Array<{ name: string }>).map((tool) => tool.name);
  return { task: textOf(messages.find((message) => message.role === 'user')?.content), tools, exchanges };
}

function openaiConversation(body: any): Conversation {
  const messages = (body?.messages ?? []) as Array<Record<string, any>>;
  const calls = new Map<string, ToolExchange>();
  const exchanges: ToolExchange[] = [];
  for (const message of messages) {
    for (const call of (message.tool_calls ?? []) as Array<{ id: string; function: { name: string; arguments: string } }>) {
      const exchange = { name: call.function.name, input: JSON.parse(call.function.arguments || '{}') as Record<string, unknown>, result: null };
      calls.set(call.id, exchange);
      exchanges.push(exchange);
    }
    if (message.role === 'tool') {
      const exchange = calls.get(String(message.tool_call_id));
      if (exchange) exchange.result = textOf(message.content);
    }
  }
  const tools = ((body?.tools ?? []) as Array<{ function: { name: string } }>).map((tool) => tool.function.name);
  return { task: textOf(messages.find((message) => message.role === 'user')?.content), tools, exchanges };
}

export function conversationOf(request: RecordedRequest): Conversation {
  return request.api === 'anthropic' ? anthropicConversation(request.body) : openaiConversation(request.body);
}

/** The section of the task that shows `path` (`## path…` up to the next file header), or null when it is not shown. */
export function shownSection(task: string, path: string): string | null {
  const lines = task.split('\n');
  const start = lines.findIndex((line) => line === `## ${path}` || line.startsWith(`## ${path} (`));
  if (start === -1) return null;
  const end = lines.findIndex((line, index) => index > start && /^#{1,2} /.test(line));
  return lines.slice(start + 1, end === -1 ? undefined : end).join('\n');
}

/** Excerpt lines are `NNNNN| text`: what the model reads is the text. */
function unnumbered(section: string): string {
  return section.replace(/^ {0,5}\d+\| /gm, '');
}

/** The file texts the model has seen, by path: shown in the task, or returned by read_file. */
export function seenFiles(conversation: Conversation): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const add = (path: string, text: string) => seen.set(path, [...(seen.get(path) ?? []), text]);
  for (const header of conversation.task.matchAll(/^## (\S+)/gm)) {
    const section = shownSection(conversation.task, header[1]!);
    if (section !== null) add(header[1]!, unnumbered(section));
  }
  for (const exchange of conversation.exchanges) {
    if (exchange.name === 'read_file' && typeof exchange.input.path === 'string' && exchange.result) add(exchange.input.path, exchange.result);
  }
  return seen;
}

function sees(seen: Map<string, string[]>, edit: IntendedEdit): boolean {
  return (seen.get(edit.path) ?? []).some((text) => text.includes(edit.oldText));
}

/** Whether the conversation names the path anywhere the model could have read it. */
function knowsOf(conversation: Conversation, path: string): boolean {
  return conversation.task.includes(path) || conversation.exchanges.some((exchange) => exchange.name === 'list_files' && (exchange.result ?? '').split('\n').includes(path));
}

const call = (name: string, input: Record<string, unknown>): ScriptedBlock => ({ type: 'tool_use', name, input });

/**
 * The model's next answer in a conversation about `edits`: the edits once it has seen
 * every text they replace; before that, the reads that would show it them (when it may
 * read); else an answer with no files.
 */
export function sightedAnswer(request: RecordedRequest, edits: readonly IntendedEdit[], options: SightedOptions = {}): ScriptedReply {
  const conversation = conversationOf(request);
  const seen = seenFiles(conversation);
  const unseen = edits.filter((edit) => !sees(seen, edit));
  if (unseen.length === 0) {
    return { kind: 'message', content: [{ type: 'text', text: 'Fixed.' }, ...edits.map((edit) => call('edit_file', { path: edit.path, old_text: edit.oldText, new_text: edit.newText }))], stop_reason: 'tool_use' };
  }
  const canRead = options.read !== false && conversation.tools.includes('read_file');
  const tried = new Set(conversation.exchanges.filter((exchange) => exchange.name === 'read_file').map((exchange) => String(exchange.input.path)));
  const readable = [...new Set(unseen.map((edit) => edit.path))].filter((path) => !tried.has(path) && knowsOf(conversation, path));
  if (canRead && readable.length > 0) return { kind: 'message', content: readable.map((path) => call('read_file', { path })), stop_reason: 'tool_use' };
  const listed = conversation.exchanges.some((exchange) => exchange.name === 'list_files');
  if (canRead && !listed && conversation.tools.includes('list_files')) return { kind: 'message', content: [call('list_files', { dir: '' })], stop_reason: 'tool_use' };
  return { kind: 'message', content: [{ type: 'text', text: `I cannot see the code that fails (${unseen.map((edit) => edit.path).join(', ')}), so I cannot fix it.` }], stop_reason: 'end_turn' };
}
