/**
 * The author that asks a model (Claude, or any OpenAI-compatible server) for the
 * SPEC, the code and each repair. One conversation per task: the stable prefix
 * plus a task message; answers cut off by the output limit are continued a bounded
 * number of times, and every call is priced, capped and journaled.
 */
import { createHash } from 'node:crypto';
import { StepError } from '../../domain/errors.js';
import type { Author, AuthorCallOptions, AuthorStatus, AuthorWorkspace, CodeRequest, RepairRequest, SpecDocument, SpecRequest } from '../../domain/ports/author.js';
import type { FileChange } from '../../domain/files.js';
import type { UsageFigures } from '../../domain/usage.js';
import { applyOperation, withAnswerSoFar } from './answer.js';
import { type ParsedAnswer, parseAnswer } from './file-output.js';
import { estimateTokens, type PriceTable } from './pricing.js';
import {
  codeTask,
  continuationNote,
  FILE_TOOLS,
  foundationBlock,
  type OutputFormat,
  repairTask,
  specBlock,
  specTask,
  systemPrompt,
} from './prompts.js';
import { ModelUnavailableError, type RetryPolicy, sendWithRetries } from './retry.js';
import { READ_TOOL_NAMES, READ_TOOLS, RepositoryReader } from './tools.js';
import type { ModelClient, ModelMessage, ModelPart, ModelReply, ModelRequest, TokenUsage } from './types.js';

export interface ModelAuthorOptions {
  client: ModelClient;
  prices: PriceTable;
  retry: RetryPolicy;
  maxOutputTokens: number;
  outputFormat?: OutputFormat;
  /** Continuations of one answer cut off by the output limit before the step fails as truncated. */
  maxContinuations?: number;
  /** Answers of one task that may read the repository (read_file, list_files) before reads are refused. */
  maxReadTurns?: number;
  /** Scrubs the executor's secret values from prompts and reported errors (test output may hold anything). */
  redact?: (text: string) => string;
}

const SPEC_PATH = 'docs/SPEC.md';
/** What a SPEC answer holds: the SPEC and its proof. */
const SPEC_FILES = [SPEC_PATH, 'docs/openapi.json', 'docs/acceptance.json'] as const;

interface Task {
  purpose: string;
  context: string[];
  message: string;
  /** Files the model was shown, which edit_file may change. */
  shown?: readonly { path: string; content: string }[];
  /** What read_file and list_files read; absent, they are answered that there is nothing to read. */
  workspace?: AuthorWorkspace;
}

export function usageFigures(usage: TokenUsage, costUsd: number): UsageFigures {
  return {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cache_read_tokens: usage.cacheReadTokens,
    cache_write_tokens: usage.cacheWriteTokens,
    cost_usd: costUsd,
  };
}

function requestSize(request: ModelRequest): number {
  const messages = request.messages.map((message) => JSON.stringify(message.parts)).join('');
  return estimateTokens(request.system + request.context.join('') + messages + JSON.stringify(request.tools));
}

export class ModelAuthor implements Author {
  readonly id: string;
  readonly description: string;
  private readonly format: OutputFormat;
  private readonly maxContinuations: number;
  private readonly maxReadTurns: number;
  private lastCall: Omit<AuthorStatus, 'provider' | 'model'> = { api: 'unknown', last_call_at: null, last_error: null };

  constructor(private readonly options: ModelAuthorOptions) {
    this.id = options.client.provider;
    this.format = options.outputFormat ?? 'tools';
    this.maxContinuations = options.maxContinuations ?? 3;
    this.maxReadTurns = options.maxReadTurns ?? 6;
    this.description =
      options.client.provider === 'anthropic'
        ? `Claude (${options.client.model}) through the Anthropic Messages API`
        : `${options.client.model} through an OpenAI-compatible chat API`;
  }

  status(): AuthorStatus {
    return { provider: this.options.client.provider, model: this.options.client.model, ...this.lastCall };
  }

  async writeSpec(request: SpecRequest, options: AuthorCallOptions): Promise<SpecDocument> {
    const changes = await this.runTask(
      {
        purpose: request.previousAnswerError ? 'spec, sent back' : 'spec',
        context: [foundationBlock(request.foundation)],
        message: specTask(request.intent, request.droplet, request.previousAnswerError),
      },
      options,
    );
    const written = (path: string) => changes.find((change) => change.kind === 'write' && change.path === path);
    const [spec, openapi, acceptance] = SPEC_FILES.map(written);
    if (!spec || spec.kind !== 'write') {
      throw new StepError('MODEL_NO_SPEC', `The model's answer held no ${SPEC_PATH} (it wrote: ${changes.map((change) => change.path).join(', ') || 'nothing'}).`);
    }
    // A missing proof file is left empty: the SPEC step's check names it and sends the SPEC back.
    const content = (change: FileChange | undefined) => (change?.kind === 'write' ? change.content : '');
    return { markdown: spec.content, openapi: content(openapi), acceptance: content(acceptance) };
  }

  writeCode(request: CodeRequest, options: AuthorCallOptions): Promise<FileChange[]> {
    return this.runTask(
      {
        purpose: 'code',
        context: [foundationBlock(request.foundation), specBlock(request.spec)],
        message: codeTask(request.intent, request.droplet),
        ...(request.workspace ? { workspace: request.workspace } : {}),
      },
      options,
    );
  }

  repair(request: RepairRequest, options: AuthorCallOptions): Promise<FileChange[]> {
    return this.runTask(
      {
        purpose: `repair after attempt ${request.attempt}`,
        context: [foundationBlock(request.foundation), specBlock(request.spec)],
        message: repairTask(request.droplet, request.attempt, request.failure, request.files, {
          previousAnswerError: request.previousAnswerError,
          notShown: request.notShown,
          canRead: this.format === 'tools' && request.workspace !== undefined,
        }),
        shown: request.files,
        ...(request.workspace ? { workspace: request.workspace } : {}),
      },
      options,
    );
  }

  /**
   * One task: a conversation of calls, each answer applied in turn. It goes on when
   * the answer was cut off by the output limit (a bounded number of continuations) or
   * asked to read the repository (a bounded number of turns; the reads are answered),
   * and ends with the first answer that does neither.
   */
  private async runTask(task: Task, options: AuthorCallOptions): Promise<FileChange[]> {
    const base = {
      system: systemPrompt(this.format),
      context: task.context,
      tools: this.format === 'tools' ? [...FILE_TOOLS, ...READ_TOOLS] : [],
      maxOutputTokens: this.options.maxOutputTokens,
    };
    const redact = this.options.redact ?? ((text: string) => text);
    const messages: ModelMessage[] = [{ role: 'user', parts: [{ type: 'text', text: redact(task.message) }] }];
    const collected = new Map<string, FileChange>();
    const contents = new Map<string, string | null>((task.shown ?? []).map((file) => [file.path, file.content]));
    const reader = new RepositoryReader(task.workspace && withAnswerSoFar(task.workspace, contents));
    let continuations = 0;
    let readTurns = 0;
    for (;;) {
      const purpose = messages.length === 1 ? task.purpose : continuations > 0 && readTurns === 0 ? `${task.purpose} (continued ${continuations})` : `${task.purpose} (turn ${continuations + readTurns + 1})`;
      const reply = await this.call({ ...base, messages }, purpose, options);
      const answer = this.usableAnswer(reply, task.purpose);
      const errors = answer.changes.map((operation) => applyOperation(operation, contents, collected)).filter((error) => error !== null);
      if (errors.length > 0) {
        throw new StepError('MODEL_OUTPUT_INVALID', `The model's answer to the ${task.purpose} task has edits that do not apply: ${errors.join('; ')}.`);
      }
      const truncated = reply.stopReason === 'max_tokens';
      const reads = reply.parts.filter((part) => part.type === 'tool_call' && READ_TOOL_NAMES.has(part.name) && !(truncated && part === reply.parts.at(-1)));
      if (!truncated && reads.length === 0) return this.finished(task.purpose, collected, answer.text, reply);
      if (truncated && (continuations += 1) > this.maxContinuations) throw this.truncatedError(task.purpose, collected);
      if (reads.length > 0 && (readTurns += 1) > this.maxReadTurns + 1) {
        throw new StepError('MODEL_EMPTY_ANSWER', `The model was still reading the repository after ${this.maxReadTurns} turns of the ${task.purpose} task and wrote ${collected.size} file(s).`);
      }
      // Past the turns allowed, reads are answered with a refusal, once: the next answer must write.
      const refusal = readTurns > this.maxReadTurns ? `Refused: the ${this.maxReadTurns} turns of reading are spent. Write your changes now with what you have.` : undefined;
      const results = new Map<string, ModelPart>();
      for (const call of reads) {
        if (call.type !== 'tool_call') continue;
        const read = await reader.answer(call, refusal);
        if (read.file && !contents.has(read.file.path)) contents.set(read.file.path, read.file.content);
        results.set(call.id, { ...read.result, content: redact(read.result.content) });
      }
      messages.push(...this.nextTurn(reply, [...collected.keys()], truncated ? { cutOff: answer.cutOff } : null, results));
    }
  }

  /** The reply as changes, or the step error its stop reason or its calls call for. */
  private usableAnswer(reply: ModelReply, purpose: string): ParsedAnswer {
    if (reply.stopReason === 'context_exceeded') {
      throw new StepError('MODEL_CONTEXT_EXCEEDED', `The ${purpose} task does not fit the model's context window; use a model with a larger one or narrow the intent.`);
    }
    if (reply.stopReason === 'refusal') {
      const reason = reply.parts.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join(' ').trim();
      throw new StepError('MODEL_REFUSED', `The model declined the ${purpose} task: ${reason || `stop reason ${reply.rawStopReason}`}.`);
    }
    const answer = parseAnswer(reply, this.format);
    if (answer.invalid.length > 0) {
      throw new StepError('MODEL_OUTPUT_INVALID', `The model's answer to the ${purpose} task is not a valid file change: ${answer.invalid.join('; ')}.`);
    }
    return answer;
  }

  private finished(purpose: string, collected: Map<string, FileChange>, text: string, reply: ModelReply): FileChange[] {
    if (collected.size === 0) {
      throw new StepError(
        'MODEL_EMPTY_ANSWER',
        `The model wrote no files for the ${purpose} task${text ? `: "${text.slice(0, 500)}"` : ` (stop reason ${reply.rawStopReason ?? 'none'})`}.`,
      );
    }
    return [...collected.values()];
  }

  private truncatedError(purpose: string, collected: Map<string, FileChange>): StepError {
    return new StepError(
      'MODEL_OUTPUT_TRUNCATED',
      `The model's answer to the ${purpose} task was still cut off at the output limit after ${this.maxContinuations} continuation(s); nothing was written. Raise MODEL_MAX_OUTPUT_TOKENS or narrow the intent.`,
      { saved_files: [...collected.keys()] },
    );
  }

  /**
   * The assistant's complete output so far and the user turn that answers it: each
   * tool call's result (a read's content, `saved` for a change) and, after a cut-off,
   * the note asking for the rest.
   */
  private nextTurn(reply: ModelReply, saved: string[], cut: { cutOff: string | null } | null, reads: ReadonlyMap<string, ModelPart>): ModelMessage[] {
    const last = reply.parts.at(-1);
    const dropped = cut !== null && last?.type === 'tool_call' && (cut.cutOff !== null || READ_TOOL_NAMES.has(last.name)) ? last : undefined;
    // The APIs refuse empty text blocks in a replayed turn.
    const kept = reply.parts.filter((part) => part !== dropped && (part.type !== 'text' || part.text.trim().length > 0));
    const results: ModelPart[] = kept.flatMap((part) =>
      part.type === 'tool_call' ? [reads.get(part.id) ?? { type: 'tool_result' as const, toolCallId: part.id, content: 'saved' }] : [],
    );
    const assistant: ModelMessage = { role: 'assistant', parts: kept.length > 0 ? kept : [{ type: 'text', text: '(no complete file)' }] };
    const note: ModelPart[] = cut ? [{ type: 'text', text: continuationNote(saved, cut.cutOff) }] : [];
    return [assistant, { role: 'user', parts: [...results, ...note] }];
  }

  /** One paid call, or its saved answer when this build already paid for the very same request. */
  private async call(request: ModelRequest, purpose: string, options: AuthorCallOptions): Promise<ModelReply> {
    const { client, prices, retry } = this.options;
    const key = createHash('sha256').update(JSON.stringify([client.provider, client.model, request])).digest('hex');
    const saved = (await options.calls?.savedResult(key)) as ModelReply | undefined;
    if (saved?.parts) return saved;
    const worstCase = prices.worstCaseOf(client.model, requestSize(request), request.maxOutputTokens);
    const startedAt = Date.now();
    let retries = 0;
    try {
      const reply = await sendWithRetries(client, request, retry, {
        signal: options.signal,
        onRetry: () => void (retries += 1),
        // Every attempt may be billed, so every attempt must fit the cap.
        beforeAttempt: () => options.calls?.reserve(worstCase, purpose),
        onFailedAttempt: async (fault) => {
          if (!fault.partialUsage) return;
          await options.calls?.record({
            purpose: `${purpose} (failed attempt)`,
            provider: client.provider,
            model: client.model,
            usage: usageFigures(fault.partialUsage, prices.costOf(client.model, fault.partialUsage)),
            stopReason: 'error',
            retries,
            durationMs: Date.now() - startedAt,
          });
        },
      });
      this.lastCall = { api: 'ok', last_call_at: new Date().toISOString(), last_error: null };
      await options.calls?.record({
        purpose,
        provider: client.provider,
        model: reply.model,
        usage: usageFigures(reply.usage, prices.costOf(reply.model, reply.usage)),
        stopReason: reply.rawStopReason,
        retries,
        durationMs: Date.now() - startedAt,
      });
      options.calls?.saveResult(key, reply);
      return reply;
    } catch (error) {
      if (error instanceof ModelUnavailableError) {
        this.lastCall = { api: 'failing', last_call_at: new Date().toISOString(), last_error: (this.options.redact ?? String)(error.message) };
        const rejected = error.fault.kind === 'rejected';
        throw new StepError(
          rejected ? 'MODEL_REQUEST_REJECTED' : 'MODEL_UNAVAILABLE',
          `${error.message} (during the ${purpose} call)`,
          { status: error.fault.status, attempts: error.attempts },
        );
      }
      throw error;
    }
  }
}
