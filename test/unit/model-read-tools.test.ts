/**
 * A model author that reads the repository: read_file and list_files answered from a
 * real git repository (through the pipeline's read-only view and its safe-path check),
 * every turn a paid, capped and journaled call, with both wire protocols (real SDKs
 * against the fake model API on loopback).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnthropicClient } from '../../src/authors/model/anthropic-client.js';
import { ModelAuthor } from '../../src/authors/model/model-author.js';
import { OpenAIClient } from '../../src/authors/model/openai-client.js';
import { RepositoryReader } from '../../src/authors/model/tools.js';
import { PriceTable } from '../../src/authors/model/pricing.js';
import { StepError } from '../../src/domain/errors.js';
import type { ModelCallJournal, RepairRequest } from '../../src/domain/ports/author.js';
import type { ModelCallRecord } from '../../src/domain/usage.js';
import type { VerificationReport } from '../../src/domain/verification.js';
import { authorWorkspace } from '../../src/pipeline/repair-context.js';
import { GitWorkspace } from '../../src/repo/repo.js';
import { type FakeModelServer, type ScriptedReply, startFakeModelServer } from '../support/fake-model-server.js';
import { conversationOf, sightedAnswer } from '../support/fake-model/sighted.js';

let model: FakeModelServer;
let reposDir: string;
let workspace: ReturnType<typeof authorWorkspace>;

const TAX = 'export const tax = (net) => net * 0.3;\n';
const FILES = {
  'src/invoice.js': "import { tax } from './tax.js';\nexport const total = (net) => net + tax(net);\n",
  'src/tax.js': TAX,
  'test/invoice.test.js': "import { total } from '../src/invoice.js';\n",
};

class Journal implements ModelCallJournal {
  readonly reserved: string[] = [];
  readonly records: ModelCallRecord[] = [];
  savedResult = () => Promise.resolve(undefined);
  saveResult(): void {}
  reserve(_worstCaseUsd: number, purpose: string): Promise<void> {
    this.reserved.push(purpose);
    return Promise.resolve();
  }
  record(call: ModelCallRecord): Promise<void> {
    this.records.push(call);
    return Promise.resolve();
  }
}

const failure: VerificationReport = { passed: false, stage: 'tests', summary: '1 test failed: adds the tax.', childProcessMs: 0 };

function repairRequest(files: RepairRequest['files'], withWorkspace = true): RepairRequest {
  return {
    intent: 'Build Invoice Desk for invoices',
    droplet: { dropletId: 1, name: 'invoice-desk' },
    spec: '# SPEC',
    foundation: [],
    attempt: 1,
    failure,
    files,
    ...(withWorkspace ? { workspace } : {}),
  };
}

const providers = {
  anthropic: () => new AnthropicClient({ apiKey: 'sk-ant-test', model: 'claude-sonnet-5-5', baseURL: model.url }),
  openai: () => new OpenAIClient({ apiKey: 'sk-test', model: 'gpt-5.4', baseURL: `${model.url}/v1` }),
};

function authorFor(provider: keyof typeof providers, maxReadTurns?: number): ModelAuthor {
  return new ModelAuthor({
    client: providers[provider](),
    prices: new PriceTable(),
    retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1, idleTimeoutMs: 10_000 },
    maxOutputTokens: 4_000,
    ...(maxReadTurns === undefined ? {} : { maxReadTurns }),
  });
}

beforeAll(async () => {
  model = await startFakeModelServer();
  reposDir = mkdtempSync(join(tmpdir(), 'read-tools-'));
  const repo = new GitWorkspace({ reposDir }).repoFor({ dropletId: 1, name: 'invoice-desk' });
  await repo.ensure();
  await repo.commitChanges(Object.entries(FILES).map(([path, content]) => ({ kind: 'write' as const, path, content })), 'feat: invoice', { step: 'test', buildId: 'b' });
  workspace = authorWorkspace(repo);
});

afterAll(async () => {
  await model?.close();
  rmSync(reposDir, { recursive: true, force: true });
});

const fix = [{ path: 'src/tax.js', oldText: 'net * 0.3', newText: 'net * 0.2' }];

describe.each(['anthropic', 'openai'] as const)('read tools with %s', (provider) => {
  it('lists, reads, then edits a file it was never shown; every turn reserved, journaled and priced', async () => {
    const first = model.requests.length;
    model.fallback = (request) => sightedAnswer(request, fix);
    const journal = new Journal();
    const testFile = { path: 'test/invoice.test.js', content: FILES['test/invoice.test.js'] };
    const changes = await authorFor(provider).repair(repairRequest([testFile]), { signal: new AbortController().signal, calls: journal });
    expect(changes).toEqual([{ kind: 'write', path: 'src/tax.js', content: TAX.replace('0.3', '0.2') }]);
    const requests = model.requests.slice(first);
    // The task names no tax.js: the model lists the files, reads the one it needs, then edits it.
    expect(requests.map((request) => conversationOf(request).exchanges.map((exchange) => exchange.name))).toEqual([[], ['list_files'], ['list_files', 'read_file']]);
    expect(conversationOf(requests[1]!).exchanges[0]!.result).toBe('src/invoice.js\nsrc/tax.js\ntest/invoice.test.js');
    expect(conversationOf(requests[2]!).exchanges[1]!.result).toBe(TAX);
    expect(journal.reserved).toEqual(['repair after attempt 1', 'repair after attempt 1 (turn 2)', 'repair after attempt 1 (turn 3)']);
    expect(journal.records.map((record) => record.purpose)).toEqual(journal.reserved);
    expect(journal.records.every((record) => record.usage.cost_usd > 0 && record.usage.input_tokens + record.usage.cache_read_tokens > 0)).toBe(true);
    expect(requests.every((request) => conversationOf(request).tools.join() === 'write_file,edit_file,delete_file,read_file,list_files')).toBe(true);
  });

  it('answers a path outside the repository, and an untracked one, as errors and reads nothing', async () => {
    const first = model.requests.length;
    const reads: ScriptedReply = {
      kind: 'message',
      content: [
        { type: 'tool_use', name: 'read_file', input: { path: '../../../etc/passwd' } },
        { type: 'tool_use', name: 'read_file', input: { path: '.git/config' } },
        { type: 'tool_use', name: 'read_file', input: { path: 'node_modules/x/index.js' } },
        { type: 'tool_use', name: 'list_files', input: { dir: '../..' } },
      ],
      stop_reason: 'tool_use',
    };
    model.fallback = undefined;
    model.enqueue(reads, { kind: 'message', content: [{ type: 'tool_use', name: 'write_file', input: { path: 'src/tax.js', content: TAX } }], stop_reason: 'tool_use' });
    await authorFor(provider).repair(repairRequest([]), { signal: new AbortController().signal, calls: new Journal() });
    const results = conversationOf(model.requests[first + 1]!).exchanges.map((exchange) => exchange.result ?? '');
    expect(results[0]).toMatch(/^Refused: Refused path "\.\.\/\.\.\/\.\.\/etc\/passwd"/);
    expect(results[1]).toMatch(/^Refused: Refused path "\.git\/config"/);
    expect(results[2]).toBe('There is no file node_modules/x/index.js in the repository (list_files shows what there is).');
    expect(results[3]).toMatch(/^Refused: /);
    expect(JSON.stringify(model.requests[first + 1]!.body)).not.toContain('root:x:0');
  });

  it('refuses reads once the turns are spent, and fails as an empty answer when the model only goes on reading', async () => {
    const first = model.requests.length;
    const read: ScriptedReply = { kind: 'message', content: [{ type: 'tool_use', name: 'read_file', input: { path: 'src/tax.js' } }], stop_reason: 'tool_use' };
    model.fallback = () => read;
    const journal = new Journal();
    const attempt = authorFor(provider, 2).repair(repairRequest([]), { signal: new AbortController().signal, calls: journal });
    await expect(attempt).rejects.toMatchObject({ code: 'MODEL_EMPTY_ANSWER' });
    await expect(attempt).rejects.toThrow(/still reading the repository after 2 turns/);
    const requests = model.requests.slice(first);
    expect(requests).toHaveLength(4);
    expect(conversationOf(requests[3]!).exchanges.at(-1)!.result).toMatch(/^Refused: the 2 turns of reading are spent/);
    expect(journal.records).toHaveLength(4);
    model.fallback = undefined;
  });

  it('without a workspace, says there is nothing to read', async () => {
    const first = model.requests.length;
    model.enqueue(
      { kind: 'message', content: [{ type: 'tool_use', name: 'list_files', input: { dir: '' } }], stop_reason: 'tool_use' },
      { kind: 'message', content: [{ type: 'tool_use', name: 'write_file', input: { path: 'src/tax.js', content: TAX } }], stop_reason: 'tool_use' },
    );
    await authorFor(provider).repair(repairRequest([], false), { signal: new AbortController().signal });
    expect(conversationOf(model.requests[first + 1]!).exchanges[0]!.result).toMatch(/^There is no repository to read/);
  });
});

describe('a model that changes only what it has seen', () => {
  it('edits a file shown as an excerpt, and cannot fix one it was not shown when it may not read', async () => {
    model.fallback = (request) => sightedAnswer(request, fix, { read: false });
    const signal = new AbortController().signal;
    const shown = { path: 'src/tax.js', content: TAX, why: 'imported by src/invoice.js', lines: [1], excerpt: true };
    expect(await authorFor('anthropic').repair(repairRequest([shown]), { signal })).toEqual([{ kind: 'write', path: 'src/tax.js', content: TAX.replace('0.3', '0.2') }]);
    const attempt = authorFor('anthropic').repair(repairRequest([{ path: 'src/invoice.js', content: FILES['src/invoice.js'] }]), { signal });
    await expect(attempt).rejects.toBeInstanceOf(StepError);
    await expect(attempt).rejects.toThrow(/I cannot see the code that fails \(src\/tax\.js\)/);
    model.fallback = undefined;
  });
});

describe('the caps on reading', () => {
  const read = (id: string, path: string) => ({ type: 'tool_call' as const, id, name: 'read_file', input: { path } });

  it('cuts a long file with a note, then refuses reads past the task total', async () => {
    const reader = new RepositoryReader(workspace, { fileChars: 30, taskChars: 50, listEntries: 2 });
    const first = await reader.answer(read('a', 'src/invoice.js'));
    expect(first.result.content).toBe(`${FILES['src/invoice.js'].slice(0, 30)}\n[… cut: ${FILES['src/invoice.js'].length - 30} more characters of src/invoice.js not shown]`);
    // The author keeps the whole file, so an edit of the part not shown still applies.
    expect(first.file).toEqual({ path: 'src/invoice.js', content: FILES['src/invoice.js'] });
    expect((await reader.answer(read('b', 'src/tax.js'))).result.content).toBe(TAX.slice(0, 20) + `\n[… cut: ${TAX.length - 20} more characters of src/tax.js not shown]`);
    expect((await reader.answer(read('c', 'src/tax.js'))).result).toMatchObject({ isError: true, content: expect.stringMatching(/^Refused: this task has read 50 characters/) });
    const listing = await reader.answer({ type: 'tool_call', id: 'd', name: 'list_files', input: { dir: '' } });
    expect(listing.result.content).toBe('src/invoice.js\nsrc/tax.js\n[… 1 more]');
  });

  it('answers malformed calls with what they need', async () => {
    const reader = new RepositoryReader(workspace);
    expect((await reader.answer({ type: 'tool_call', id: 'x', name: 'read_file', input: { file: 'a' } })).result.content).toMatch(/^read_file needs/);
    expect((await reader.answer({ type: 'tool_call', id: 'y', name: 'list_files', input: {} })).result.content).toMatch(/^list_files needs/);
    expect((await reader.answer({ type: 'tool_call', id: 'z', name: 'list_files', input: { dir: 'src' } })).result.content).toBe('src/invoice.js\nsrc/tax.js');
  });
});
