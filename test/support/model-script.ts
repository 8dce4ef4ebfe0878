/**
 * Scripts for the fake model server: real droplets (written by the offline author,
 * handed back as the model would: write_file calls or file blocks) and helpers to
 * read what the executor asked for.
 */
import { loadFoundationFiles } from '../../src/authors/foundation.js';
import { OfflineAuthor } from '../../src/authors/offline/index.js';
import type { FileChange } from '../../src/domain/files.js';
import type { SpecProofFiles } from '../../src/domain/ports/verifier.js';
import { minimalProof } from './spec-proof.js';
import { deriveDropletName } from '../../src/domain/naming.js';
import type { FakeModelFallback, RecordedRequest, ScriptedBlock, ScriptedReply } from './fake-model-server.js';

type ScriptedMessage = Extract<ScriptedReply, { kind: 'message' }>;

export interface ScriptedDroplet {
  spec: string;
  /** The SPEC's docs/openapi.json and docs/acceptance.json, as the offline author wrote them. */
  proof: SpecProofFiles;
  files: FileChange[];
}

/** The SPEC and files of a working droplet for `intent` (the first droplet of a fresh executor gets id 1). */
export async function workingDroplet(intent: string, dropletId = 1): Promise<ScriptedDroplet> {
  const author = new OfflineAuthor();
  const droplet = { dropletId, name: deriveDropletName(intent) };
  const foundation = await loadFoundationFiles();
  const signal = new AbortController().signal;
  const { markdown: spec, openapi, acceptance } = await author.writeSpec({ intent, droplet, foundation }, { signal });
  const files = await author.writeCode({ intent, droplet, spec, foundation }, { signal });
  return { spec, proof: { openapi, acceptance }, files };
}

export function writeCalls(changes: readonly FileChange[]): ScriptedBlock[] {
  return changes.map((change) =>
    change.kind === 'write'
      ? { type: 'tool_use', name: 'write_file', input: { path: change.path, content: change.content } }
      : { type: 'tool_use', name: 'delete_file', input: { path: change.path } },
  );
}

/** A complete answer made of write_file/delete_file calls. */
export function toolAnswer(changes: readonly FileChange[], text = 'Here are the files.'): ScriptedMessage {
  return { kind: 'message', content: [{ type: 'text', text }, ...writeCalls(changes)], stop_reason: 'tool_use' };
}

/** The same files as file blocks in one text answer. */
export function fileBlockAnswer(changes: readonly FileChange[]): ScriptedMessage {
  const blocks = changes.map((change) =>
    change.kind === 'write'
      ? `=== FILE: ${change.path} ===\n${change.content.replace(/\n$/, '')}\n=== END FILE: ${change.path} ===`
      : `=== DELETE FILE: ${change.path} ===`,
  );
  return { kind: 'message', content: [{ type: 'text', text: `Files follow.\n\n${blocks.join('\n')}\n` }], stop_reason: 'end_turn' };
}

/** A repair made of edit_file calls, as a model answers when shown excerpts. */
export function editAnswer(edits: ReadonlyArray<{ path: string; oldText: string; newText: string }>): ScriptedMessage {
  return {
    kind: 'message',
    content: [
      { type: 'text', text: 'Fixed.' },
      ...edits.map((edit): ScriptedBlock => ({ type: 'tool_use', name: 'edit_file', input: { path: edit.path, old_text: edit.oldText, new_text: edit.newText } })),
    ],
    stop_reason: 'tool_use',
  };
}

/** A SPEC answer: docs/SPEC.md and its proof files (by default the smallest valid proof). */
export const specAnswer = (spec: string, proof: SpecProofFiles = minimalProof()): ScriptedMessage =>
  toolAnswer(
    [
      { kind: 'write', path: 'docs/SPEC.md', content: spec },
      { kind: 'write', path: 'docs/openapi.json', content: proof.openapi },
      { kind: 'write', path: 'docs/acceptance.json', content: proof.acceptance },
    ],
    'The SPEC.',
  );

export type TaskKind = 'spec' | 'code' | 'repair' | 'unknown';

/** The text of the first user message: the task the executor set. */
export function taskText(request: RecordedRequest): string {
  const messages = (request.body?.messages ?? []) as Array<{ role: string; content: unknown }>;
  const first = messages.find((message) => message.role === 'user');
  if (!first) return '';
  if (typeof first.content === 'string') return first.content;
  return (first.content as Array<{ type: string; text?: string }>).map((part) => part.text ?? '').join('\n');
}

export function taskOf(request: RecordedRequest): TaskKind {
  const text = taskText(request);
  if (text.startsWith('Task: write the SPEC')) return 'spec';
  if (text.startsWith('Task: write every file')) return 'code';
  if (/^Task: verification attempt \d+ of this droplet failed/.test(text)) return 'repair';
  return 'unknown';
}

/** The droplet a request is about, from the `Droplet: id N` line of its task (0 when none). */
export function dropletIdOf(request: RecordedRequest): number {
  return Number(/Droplet: id (\d+)/.exec(JSON.stringify(request.body?.messages ?? []))?.[1] ?? 0);
}

/**
 * A repair answer: whole files, a reply scripted as is (edits, faults), or a model
 * that answers each turn of the repair's conversation from what it was sent (see
 * fake-model/sighted.ts).
 */
export type ScriptedRepair = FileChange[] | ScriptedReply | ((request: RecordedRequest) => ScriptedReply);

export interface DropletScript {
  spec: string;
  /** The SPEC's proof files; the smallest valid proof when absent. */
  proof?: SpecProofFiles;
  code: FileChange[];
  /** Answered in order, one per repair request. */
  repairs?: ScriptedRepair[];
}

/** A fake model that answers each droplet's SPEC, code and repair requests from its script. */
export function scriptedByDroplet(scripts: ReadonlyMap<number, DropletScript>): FakeModelFallback {
  const current = new Map<DropletScript, ScriptedRepair>();
  return (request) => {
    const script = scripts.get(dropletIdOf(request));
    if (!script) return { kind: 'error', status: 500, message: 'no script for this droplet' };
    const task = taskOf(request);
    if (task === 'spec') return specAnswer(script.spec, script.proof);
    if (task === 'code') return toolAnswer(script.code);
    // The later turns of one repair (reads, continuations) belong to the repair that began it.
    const repair = task !== 'repair' ? undefined : isContinuation(request) && current.has(script) ? current.get(script) : script.repairs?.shift();
    if (!repair) return { kind: 'error', status: 500, message: `no ${task} scripted` };
    current.set(script, repair);
    if (typeof repair === 'function') return repair(request);
    return Array.isArray(repair) ? toolAnswer(repair, 'Fixed.') : repair;
  };
}

/** Whether this request continues an answer cut off by the output limit. */
export function isContinuation(request: RecordedRequest): boolean {
  return ((request.body?.messages ?? []) as unknown[]).length > 1;
}

/** Byte size of what the request sends beyond the cacheable prefix (the messages). */
export function messageBytes(request: RecordedRequest): number {
  const messages = request.api === 'anthropic' ? request.body.messages : (request.body.messages as Array<{ role: string }>).filter((message) => message.role !== 'system');
  return Buffer.byteLength(JSON.stringify(messages));
}

/** The line that breaks a test, by label. */
export const brokenLine = (label: string) => `broken('broken ${label}', () => { throw new Error('${label}'); });`;

/** A working droplet whose one test fails (the test named `broken <label>`) until repaired. */
export function withBrokenTest(files: readonly FileChange[], label = 'deliberately'): FileChange[] {
  return files.map((file) =>
    file.kind === 'write' && file.path === 'test/udc.test.js'
      ? { ...file, content: `${file.content}\nimport { test as broken } from 'node:test';\n${brokenLine(label)}\n` }
      : file,
  );
}

/**
 * The droplet plus an invoice module whose tax rate is wrong (src/pricing/tax.js); only
 * its test notices, two imports away (test/pricing.test.js → invoice.js → tax.js).
 */
export function withWrongTaxRate(files: readonly FileChange[]): FileChange[] {
  const write = (path: string, content: string): FileChange => ({ kind: 'write', path, content });
  const planted = [
    write('src/pricing/invoice.js', "import { tax } from './tax.js';\n\n/** A net amount with its tax. */\nexport function total(net) {\n  return net + tax(net);\n}\n"),
    write('src/pricing/tax.js', '/** VAT on a net amount. */\nexport function tax(net) {\n  return Math.round(net * 0.3 * 100) / 100;\n}\n'),
    write('test/pricing.test.js', "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { total } from '../src/pricing/invoice.js';\n\ntest('an invoice adds 20% tax', () => {\n  assert.equal(total(100), 120);\n});\n"),
  ];
  // A suite that runs in one process loads its files from test/index.js.
  const index = files.find((file) => file.path === 'test/index.js');
  const suite = index?.kind === 'write' ? [write('test/index.js', `${index.content}import './pricing.test.js';\n`)] : [];
  return [...files.filter((file) => file.path !== 'test/index.js'), ...suite, ...planted];
}

/** The one-line fix of withWrongTaxRate. */
export const WRONG_TAX_RATE_FIX = { path: 'src/pricing/tax.js', oldText: 'net * 0.3', newText: 'net * 0.2' };
