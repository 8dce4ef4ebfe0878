/**
 * Turns a model's answer into file changes, from tool calls or from file blocks in
 * text. A file the output limit cut off is reported as such and never returned, so
 * no half file is ever committed. Paths are not trusted here: the workspace passes
 * every one through the safe-path function before anything is written.
 */
import { z } from 'zod';
import type { FileChange } from '../../domain/files.js';
import { FILE_BLOCK_CLOSE, FILE_BLOCK_DELETE, FILE_BLOCK_END, FILE_BLOCK_START } from './prompts.js';
import { READ_TOOL_NAMES } from './tools.js';
import type { ModelReply } from './types.js';

/** Replace the one occurrence of `oldText` in a file the model was shown (cheaper than resending it). */
export interface FileEdit {
  kind: 'edit';
  path: string;
  oldText: string;
  newText: string;
}

export type FileOperation = FileChange | FileEdit;

export interface ParsedAnswer {
  /** Complete operations in the order given (the author applies them in turn, so later ones win). */
  changes: FileOperation[];
  /** The path whose content the output limit cut off, if any. */
  cutOff: string | null;
  /** Tool calls or blocks that are not a valid file change (unknown tool, missing field). */
  invalid: string[];
  /** Text the model wrote outside files (its explanation, or its reason for writing nothing). */
  text: string;
}

const writeInput = z.object({ path: z.string().min(1), content: z.string() }).strict();
const deleteInput = z.object({ path: z.string().min(1) }).strict();
const editInput = z.object({ path: z.string().min(1), old_text: z.string().min(1), new_text: z.string() }).strict();

/** How each tool's input becomes an operation. */
const TOOL_READERS: Record<string, (input: unknown) => { operation: FileOperation } | { error: string }> = {
  write_file: (input) => {
    const parsed = writeInput.safeParse(input);
    return parsed.success ? { operation: { kind: 'write', path: parsed.data.path, content: parsed.data.content } } : { error: issueOf(parsed.error) };
  },
  edit_file: (input) => {
    const parsed = editInput.safeParse(input);
    return parsed.success
      ? { operation: { kind: 'edit', path: parsed.data.path, oldText: parsed.data.old_text, newText: parsed.data.new_text } }
      : { error: issueOf(parsed.error) };
  },
  delete_file: (input) => {
    const parsed = deleteInput.safeParse(input);
    return parsed.success ? { operation: { kind: 'delete', path: parsed.data.path } } : { error: issueOf(parsed.error) };
  },
};

function issueOf(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'invalid input';
}

/**
 * Tool calls → changes. With `truncated`, the call that ends the answer was cut off:
 * whatever the SDK parsed of it (even a path) may be a prefix, so none of it is used.
 */
export function changesFromToolCalls(parts: ModelReply['parts'], truncated: boolean): ParsedAnswer {
  const changes: FileOperation[] = [];
  const invalid: string[] = [];
  let cutOff: string | null = null;
  const calls = parts.filter((part) => part.type === 'tool_call');
  calls.forEach((call, index) => {
    // Reads change nothing: the author answers them and the conversation goes on.
    if (READ_TOOL_NAMES.has(call.name)) return;
    const read = TOOL_READERS[call.name];
    if (!read) {
      invalid.push(`unknown tool "${call.name}"`);
      return;
    }
    if (truncated && parts.at(-1) === call) {
      const partial = call.input as { path?: unknown } | undefined;
      cutOff = typeof partial?.path === 'string' ? partial.path : '(unnamed file)';
      return;
    }
    const result = read(call.input);
    if ('operation' in result) changes.push(result.operation);
    else invalid.push(`${call.name} call ${index + 1}: ${result.error}`);
  });
  const text = parts.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n').trim();
  return { changes, cutOff, invalid, text };
}

function markerPath(line: string, prefix: string): string | null {
  if (!line.startsWith(prefix) || !line.endsWith(FILE_BLOCK_CLOSE)) return null;
  const path = line.slice(prefix.length, line.length - FILE_BLOCK_CLOSE.length).trim();
  return path.length > 0 ? path : null;
}

/**
 * File blocks → changes. A block ends only at its own end marker (same path), so
 * code fences or other markers inside a file are content. Line endings are read as
 * LF and a leading byte-order mark is dropped, from the answer and from each file.
 */
export function parseFileBlocks(answer: string, truncated: boolean): ParsedAnswer {
  const lines = answer.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split('\n');
  const changes: FileChange[] = [];
  const outside: string[] = [];
  const invalid: string[] = [];
  let cutOff: string | null = null;
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index]!;
    const deleted = markerPath(line.trim(), FILE_BLOCK_DELETE);
    if (deleted) {
      changes.push({ kind: 'delete', path: deleted });
      continue;
    }
    const path = markerPath(line.trim(), FILE_BLOCK_START);
    if (!path) {
      if (markerPath(line.trim(), FILE_BLOCK_END)) invalid.push(`end marker for "${markerPath(line.trim(), FILE_BLOCK_END)}" without its start`);
      else outside.push(line);
      continue;
    }
    const end = lines.findIndex((candidate, at) => at > index && candidate.trim() === `${FILE_BLOCK_END}${path}${FILE_BLOCK_CLOSE}`);
    if (end === -1) {
      if (truncated) cutOff = path;
      else invalid.push(`file block "${path}" has no end marker`);
      break;
    }
    const content = lines.slice(index + 1, end).join('\n').replace(/^\uFEFF/, '');
    changes.push({ kind: 'write', path, content: content.length > 0 ? `${content}\n` : '' });
    index = end;
  }
  return { changes, cutOff, invalid, text: outside.join('\n').trim() };
}

/** Reads an answer in the format the request asked for. */
export function parseAnswer(reply: ModelReply, format: 'tools' | 'file_blocks'): ParsedAnswer {
  const truncated = reply.stopReason === 'max_tokens';
  if (format === 'tools') return changesFromToolCalls(reply.parts, truncated);
  const text = reply.parts.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
  return parseFileBlocks(text, truncated);
}
