/**
 * The Claude author against a fake Anthropic API on loopback, through the real SDK and
 * the real executor: every fault the API can throw at a call, at the SPEC step (builds
 * run in `checkpoints` mode and stop at the gate after it, so no npm runs here).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BuildSummary } from '../../src/domain/status.js';
import type { FakeModelServer, ScriptedReply } from '../support/fake-model-server.js';
import { api, type TestExecutor, waitForStatus } from '../support/executor.js';
import { type FaultHost, modelCalls, PARTIAL, partialSpec, SPEC, startFaultHost } from '../support/model-fault-host.js';
import { specAnswer, taskOf } from '../support/model-script.js';

const KEY = 'sk-ant-canary-4d2f7a91c3e8b6';

/** The fields of a content block, as sent on the wire, that these tests read. */
interface WireBlock {
  type: string;
  id?: string;
  tool_use_id?: string;
  text?: string;
}
let host: FaultHost;
let model: FakeModelServer;
let server: TestExecutor;
let logLines: string[];

beforeAll(async () => {
  host = await startFaultHost((url) => ({ ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: url }), 'Note Keeper');
  ({ model, server, logLines } = host);
});

// A test that failed midway must not leave its replies to the next one.
beforeEach(() => {
  model.clearQueue();
});

afterAll(async () => {
  await host?.close();
});

const specBuild = (extra: Record<string, unknown> = {}) => host.specBuild(extra);
const events = (buildId: string) => host.events(buildId);

describe('a SPEC call that succeeds', () => {
  it('uses the key, marks the cacheable prefix, and records usage in the step and the build', async () => {
    model.enqueue({ ...specAnswer(SPEC), usage: { input_tokens: 3_000, output_tokens: 500, cache_creation_input_tokens: 2_500 } });
    const { buildId, first } = await specBuild();
    const waiting = await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(waiting.steps[1]!.details.spec).toBe(SPEC);
    const request = model.requests[first]!;
    expect(taskOf(request)).toBe('spec');
    expect(request.headers.authorization ?? request.headers['x-api-key']).toContain(KEY);
    expect(request.stream).toBe(true);
    const system = request.body.system as Array<{ text: string; cache_control?: unknown }>;
    expect(system.at(-1)).toMatchObject({ cache_control: { type: 'ephemeral' } });
    expect(system.at(-1)!.text).toContain('UDC.md');
    expect(request.body.tools.map((tool: { name: string }) => tool.name)).toEqual(['write_file', 'edit_file', 'delete_file', 'read_file', 'list_files']);
    // sonnet prices: 3000 × $3 + 500 × $15 + 2500 × $3.75 per million
    const cost = (3_000 * 3 + 500 * 15 + 2_500 * 3.75) / 1e6;
    expect(waiting.steps[1]!.details.usage).toEqual({ input_tokens: 3_000, output_tokens: 500, cache_read_tokens: 0, cache_write_tokens: 2_500, cost_usd: cost });
    expect(waiting.usage).toEqual({ input_tokens: 3_000, output_tokens: 500, cache_read_tokens: 0, cache_write_tokens: 2_500, cost_usd: cost, max_cost_usd: null });
    const health = (await api<{ author: string; author_api: Record<string, unknown> }>(server.baseUrl, '/executor/health')).body;
    expect(health.author).toBe('anthropic');
    expect(health.author_api).toMatchObject({ status: 'ok', model: 'claude-sonnet-5-5', last_error: null });
  });
});

describe('faults the retry policy absorbs', () => {
  it('obeys retry-after on a 429, then succeeds', async () => {
    model.enqueue({ kind: 'error', status: 429, type: 'rate_limit_error', message: 'slow down', headers: { 'retry-after': '1' } }, specAnswer(SPEC));
    const { buildId, first } = await specBuild();
    await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    const [limited, answered] = model.requests.slice(first);
    expect(answered!.receivedAt - limited!.receivedAt).toBeGreaterThanOrEqual(950);
    expect(modelCalls(await events(buildId))).toMatchObject([{ purpose: 'spec', retries: 1 }]);
  });

  it('backs off through three 529s and succeeds on the fourth attempt', async () => {
    const overloaded = { kind: 'error', status: 529, type: 'overloaded_error', message: 'Overloaded' } as const;
    model.enqueue(overloaded, overloaded, overloaded, specAnswer(SPEC));
    const { buildId, first } = await specBuild();
    await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(model.requests.length - first).toBe(4);
    expect(modelCalls(await events(buildId))).toMatchObject([{ retries: 3 }]);
  });

  it('retries the whole call after an error event mid-stream and keeps none of the partial answer', async () => {
    model.enqueue(
      { kind: 'stream_error', content: [{ type: 'tool_use', name: 'write_file', input: { path: 'docs/SPEC.md', content: 'PARTIAL SPEC SHOULD NOT SURVIVE' } }], after_events: 5, type: 'overloaded_error' },
      specAnswer(SPEC),
    );
    const { buildId, first } = await specBuild();
    const waiting = await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(model.requests.length - first).toBe(2);
    expect(waiting.steps[1]!.details.spec).toBe(SPEC);
  });

  it('retries when the connection drops in the middle of the stream, and keeps none of the partial answer', async () => {
    model.enqueue({ kind: 'stream_drop', content: partialSpec, after_events: 5 }, specAnswer(SPEC));
    const { buildId, first } = await specBuild();
    const waiting = await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(model.requests.length - first).toBe(2);
    expect(model.requests[first]!.aborted).toBe(false);
    expect(waiting.steps[1]!.details.spec).toBe(SPEC);
    expect(JSON.stringify(waiting)).not.toContain(PARTIAL);
  });

  it('retries a stream that ends before message_stop, and keeps none of the partial answer', async () => {
    model.enqueue({ kind: 'stream_end', content: partialSpec, after_events: 5 }, specAnswer(SPEC));
    const { buildId, first } = await specBuild();
    const waiting = await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(model.requests.length - first).toBe(2);
    expect(waiting.steps[1]!.details.spec).toBe(SPEC);
    expect(JSON.stringify(waiting)).not.toContain(PARTIAL);
  });

  it('aborts a stream that goes silent and retries it', async () => {
    model.enqueue({ kind: 'stall', content: [{ type: 'text', text: 'thinking about it' }], after_events: 3 }, specAnswer(SPEC));
    const { buildId, first } = await specBuild();
    await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(model.requests[first]!.aborted).toBe(true);
    expect(model.requests.length - first).toBe(2);
  });
});

describe('answers cut off by the output limit', () => {
  it('continues a SPEC cut off mid-file and commits only the whole one', async () => {
    model.enqueue(
      { kind: 'message', content: [{ type: 'tool_use', name: 'write_file', input: { path: 'docs/SPEC.md', content: SPEC } }], stop_reason: 'max_tokens' },
      specAnswer(SPEC),
    );
    const { buildId, first } = await specBuild();
    const waiting = await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(waiting.steps[1]!.details.spec).toBe(SPEC);
    const continuation = model.requests[first + 1]!;
    expect(continuation.rejected).toBeUndefined();
    const lastMessage = JSON.stringify(continuation.body.messages.at(-1));
    expect(lastMessage).toContain('cut off');
    expect(lastMessage).toContain('docs/SPEC.md');
    expect(modelCalls(await events(buildId)).map((call) => call.purpose)).toEqual(['spec', 'spec (continued 1)']);
  });

  it('continues with a conversation the API accepts: the complete tool_use, then its tool_result first and the note', async () => {
    const notes = { path: 'docs/NOTES.md', content: '# Notes\n\nWritten before the cut.\n' };
    model.enqueue(
      {
        kind: 'message',
        content: [
          { type: 'text', text: 'Here are the files.' },
          { type: 'tool_use', name: 'write_file', input: notes },
          { type: 'tool_use', name: 'write_file', input: { path: 'docs/SPEC.md', content: SPEC } },
        ],
        stop_reason: 'max_tokens',
      },
      specAnswer(SPEC),
    );
    const { buildId, first } = await specBuild();
    const waiting = await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(waiting.steps[1]!.details.spec).toBe(SPEC);
    const continuation = model.requests[first + 1]!;
    expect(continuation.rejected).toBeUndefined();
    const [task, assistant, user, ...rest] = continuation.body.messages as Array<{ role: string; content: WireBlock[] }>;
    expect(rest).toEqual([]);
    expect([task!.role, assistant!.role, user!.role]).toEqual(['user', 'assistant', 'user']);
    // Only the complete call goes back; the one cut in half is dropped.
    expect(assistant!.content.map((block) => block.type)).toEqual(['text', 'tool_use']);
    expect(assistant!.content[1]).toMatchObject({ name: 'write_file', input: notes });
    expect(user!.content.map((block) => block.type)).toEqual(['tool_result', 'text']);
    expect(user!.content[0]!.tool_use_id).toBe(assistant!.content[1]!.id);
    expect(user!.content[1]!.text).toContain('docs/NOTES.md');
    expect(user!.content[1]!.text).toContain('docs/SPEC.md');
  });

  it('fails as truncated after three continuations, with nothing written', async () => {
    const cut: ScriptedReply = { kind: 'message', content: [{ type: 'tool_use', name: 'write_file', input: { path: 'docs/SPEC.md', content: SPEC } }], stop_reason: 'max_tokens' };
    model.enqueue(cut, cut, cut, cut);
    const { buildId, first } = await specBuild();
    const failed = await waitForStatus(server.baseUrl, buildId, ['failed']);
    expect(model.requests.length - first).toBe(4);
    expect(failed.steps[1]).toMatchObject({ status: 'failed', error: { code: 'MODEL_OUTPUT_TRUNCATED' } });
    expect(failed.repository_path).toBeNull();
  });

  it('after an outage in the middle of a continued answer, the retry pays only for the rest', async () => {
    const overloaded: ScriptedReply = { kind: 'error', status: 529, type: 'overloaded_error', message: 'Overloaded' };
    model.enqueue(
      { kind: 'message', content: [{ type: 'tool_use', name: 'write_file', input: { path: 'docs/SPEC.md', content: SPEC } }], stop_reason: 'max_tokens' },
      overloaded,
      overloaded,
      overloaded,
      overloaded,
    );
    const { buildId, first } = await specBuild();
    const failed = await waitForStatus(server.baseUrl, buildId, ['failed']);
    expect(failed.error).toMatchObject({ code: 'MODEL_UNAVAILABLE' });
    expect(model.requests.length - first).toBe(5);

    model.enqueue(specAnswer(SPEC));
    const beforeRetry = model.requests.length;
    expect((await api(server.baseUrl, `/executor/builds/${buildId}/retry`, { method: 'POST' })).status).toBe(202);
    const waiting = await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(waiting.steps[1]!.details.spec).toBe(SPEC);
    // The first, cut answer was saved: only the continuation is asked for again.
    const asked = model.requests.slice(beforeRetry);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.body.messages).toHaveLength(3);
    expect(modelCalls(await events(buildId)).map((call) => call.purpose)).toEqual(['spec', 'spec (continued 1)']);
  });
});

describe('answers and errors that fail the step', () => {
  it('fails with the model’s own reason when it refuses', async () => {
    model.enqueue({ kind: 'message', content: [{ type: 'text', text: 'I cannot help build that service.' }], stop_reason: 'refusal' });
    const { buildId } = await specBuild();
    const failed = await waitForStatus(server.baseUrl, buildId, ['failed']);
    expect(failed.error).toMatchObject({ code: 'MODEL_REFUSED' });
    expect(failed.error!.message).toContain('I cannot help build that service.');
  });

  it('fails with the model’s words when it writes no file', async () => {
    model.enqueue({ kind: 'message', content: [{ type: 'text', text: 'What should the service do?' }], stop_reason: 'end_turn' });
    const { buildId } = await specBuild();
    const failed = await waitForStatus(server.baseUrl, buildId, ['failed']);
    expect(failed.error).toMatchObject({ code: 'MODEL_EMPTY_ANSWER' });
    expect(failed.error!.message).toContain('What should the service do?');
  });

  it.each([
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [413, 'request_too_large'],
  ])('does not retry a %i and says why, without the key', async (status, type) => {
    model.enqueue({ kind: 'error', status, type, message: `rejected with ${status}` });
    const { buildId, first } = await specBuild();
    const failed = await waitForStatus(server.baseUrl, buildId, ['failed']);
    expect(model.requests.length - first).toBe(1);
    expect(failed.error).toMatchObject({ code: 'MODEL_REQUEST_REJECTED' });
    expect(failed.error!.message).toContain(`rejected with ${status}`);
    expect(JSON.stringify(failed)).not.toContain(KEY);
    const health = (await api<{ author_api: { status: string; last_error: string } }>(server.baseUrl, '/executor/health')).body;
    expect(health.author_api.status).toBe('failing');
  });

  it('fails when retries run out, and a retry resumes at the SPEC step without redoing the intent step', async () => {
    const overloaded = { kind: 'error', status: 529, type: 'overloaded_error', message: 'Overloaded' } as const;
    model.enqueue(overloaded, overloaded, overloaded, overloaded);
    const { buildId, first } = await specBuild();
    const failed = await waitForStatus(server.baseUrl, buildId, ['failed']);
    expect(model.requests.length - first).toBe(4);
    expect(failed.error).toMatchObject({ code: 'MODEL_UNAVAILABLE' });
    expect(failed.error!.message).toMatch(/after 4 attempt/);
    const intentDone = failed.steps[0]!.completed_at;

    model.enqueue(specAnswer(SPEC));
    expect((await api(server.baseUrl, `/executor/builds/${buildId}/retry`, { method: 'POST' })).status).toBe(202);
    const waiting = await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(waiting.steps[0]!.completed_at).toBe(intentDone);
    expect(waiting.steps[1]!.details.spec).toBe(SPEC);
  });
});

describe('cancel and the budget', () => {
  it('cancel aborts the request in flight at once', async () => {
    model.enqueue({ kind: 'hang' });
    const { buildId, first } = await specBuild();
    await model.waitForRequests(first + 1);
    const started = Date.now();
    const cancelled = await api<BuildSummary>(server.baseUrl, `/executor/builds/${buildId}`, { method: 'DELETE' });
    expect(cancelled.body.status).toBe('cancelled');
    await expect.poll(() => model.requests[first]!.aborted, { timeout: 2_000 }).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('does not make a call that could pass the cap, and says what was spent', async () => {
    const { buildId, first } = await specBuild({ max_cost_usd: 0.01 });
    const failed = await waitForStatus(server.baseUrl, buildId, ['failed']);
    expect(model.requests.length).toBe(first);
    expect(failed.error).toMatchObject({ code: 'BUDGET_EXHAUSTED' });
    expect(failed.error!.message).toMatch(/\$0\.0000 spent of the \$0\.01 cap, and the spec call could cost up to \$0\.\d+/);
    expect(failed.usage.max_cost_usd).toBe(0.01);
  });
});

describe('what the executor sent, and the key', () => {
  it('sent no request the real API would refuse', () => {
    expect(model.requests.length).toBeGreaterThan(20);
    expect(model.requests.filter((request) => request.rejected !== undefined).map((request) => request.rejected)).toEqual([]);
  });

  it('never reaches the logs, the events or the database', async () => {
    expect(logLines.length).toBeGreaterThan(10);
    expect(logLines.join('')).not.toContain(KEY);
    const builds = (await api<BuildSummary[]>(server.baseUrl, '/executor/builds?limit=200')).body;
    for (const build of builds) expect(JSON.stringify(await events(build.build_id))).not.toContain(KEY);
    for (const file of readdirSync(server.dataDir).filter((name) => name.startsWith('executor.db'))) {
      expect(readFileSync(join(server.dataDir, file)).includes(KEY)).toBe(false);
    }
  });
});
