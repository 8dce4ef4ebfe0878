/**
 * The tools a model author reads the repository with, and the executor's answers to
 * them: `read_file {path}` and `list_files {dir}`, over the step's read-only view of
 * the repository (tracked files, the repository's safe-path check), capped per file
 * and per task. A path the check refuses is answered as an error, not obeyed.
 */
import { z } from 'zod';
import { UnsafePathError } from '../../domain/errors.js';
import type { AuthorWorkspace } from '../../domain/ports/author.js';
import type { ModelPart, ModelTool } from './types.js';

export const READ_TOOLS: ModelTool[] = [
  {
    name: 'read_file',
    description:
      'Read one file of the droplet repository that you were not shown (or were shown only as an excerpt). ' +
      'The result comes back to you; then continue. Read only what you need.',
    inputSchema: {
      type: 'object',
      properties: { path: { type: 'string', description: 'Repository-relative path, e.g. src/routes/items.js' } },
      required: ['path'],
      additionalProperties: false,
    },
  },
  {
    name: 'list_files',
    description: 'List the files of the droplet repository under a directory ("" for all of them). The result comes back to you.',
    inputSchema: {
      type: 'object',
      properties: { dir: { type: 'string', description: 'Repository-relative directory, e.g. src or "" for the root.' } },
      required: ['dir'],
      additionalProperties: false,
    },
  },
];

export const READ_TOOL_NAMES: ReadonlySet<string> = new Set(READ_TOOLS.map((tool) => tool.name));

export interface ReadLimits {
  /** Characters of one file returned; the rest is cut with a note (edits still apply to the whole file). */
  fileChars: number;
  /** Characters returned by all reads of one task; later reads are refused. */
  taskChars: number;
  /** Paths in one listing. */
  listEntries: number;
}

export const DEFAULT_READ_LIMITS: ReadLimits = { fileChars: 40_000, taskChars: 160_000, listEntries: 400 };

type ToolCall = Extract<ModelPart, { type: 'tool_call' }>;

export interface ReadAnswer {
  result: Extract<ModelPart, { type: 'tool_result' }>;
  /** The whole file a read_file returned, so the author's later edit_file calls can apply to it. */
  file?: { path: string; content: string };
}

const readInput = z.object({ path: z.string().min(1).max(1024) }).strict();
const listInput = z.object({ dir: z.string().max(1024) }).strict();

/** Answers the read calls of one task, keeping its running total against the cap. */
export class RepositoryReader {
  private charsReturned = 0;

  constructor(
    private readonly workspace: AuthorWorkspace | undefined,
    private readonly limits: ReadLimits = DEFAULT_READ_LIMITS,
  ) {}

  /** `refusal`: the task may not read any more (its turns are spent); the call is answered with why. */
  async answer(call: ToolCall, refusal?: string): Promise<ReadAnswer> {
    const reply = (content: string, isError = false): ReadAnswer => ({ result: { type: 'tool_result', toolCallId: call.id, content, ...(isError ? { isError } : {}) } });
    if (refusal) return reply(refusal, true);
    if (!this.workspace) return reply('There is no repository to read in this task: everything there is is in the prompt.', true);
    try {
      return call.name === 'read_file' ? await this.readFile(call.input, reply) : await this.listFiles(call.input, reply);
    } catch (error) {
      if (error instanceof UnsafePathError) return reply(`Refused: ${error.message}`, true);
      throw error;
    }
  }

  private async readFile(input: unknown, reply: (content: string, isError?: boolean) => ReadAnswer): Promise<ReadAnswer> {
    const parsed = readInput.safeParse(input);
    if (!parsed.success) return reply('read_file needs {"path": "<repository-relative path>"}.', true);
    const { path } = parsed.data;
    const content = await this.workspace!.readFile(path);
    if (content === null) return reply(`There is no file ${path} in the repository (list_files shows what there is).`, true);
    const room = Math.min(this.limits.fileChars, this.limits.taskChars - this.charsReturned);
    if (room <= 0) return reply(`Refused: this task has read ${this.charsReturned} characters, its limit. Write your changes with what you have.`, true);
    const shown = content.length <= room ? content : `${content.slice(0, room)}\n[… cut: ${content.length - room} more characters of ${path} not shown]`;
    this.charsReturned += Math.min(content.length, room);
    return { ...reply(shown), file: { path, content } };
  }

  private async listFiles(input: unknown, reply: (content: string, isError?: boolean) => ReadAnswer): Promise<ReadAnswer> {
    const parsed = listInput.safeParse(input);
    if (!parsed.success) return reply('list_files needs {"dir": "<repository-relative directory>"} ("" for all).', true);
    const paths = await this.workspace!.listFiles(parsed.data.dir);
    if (paths.length === 0) return reply(`No tracked files under "${parsed.data.dir}".`);
    const shown = paths.slice(0, this.limits.listEntries);
    const more = paths.length > shown.length ? `\n[… ${paths.length - shown.length} more]` : '';
    return reply(`${shown.join('\n')}${more}`);
  }
}
