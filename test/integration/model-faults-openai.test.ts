/**
 * The OpenAI-compatible author against a fake chat completions API on loopback,
 * through the real `openai` SDK and the real executor: every fault the API can throw
 * at a call, at the SPEC step (builds run in `checkpoints` mode and stop at the gate
 * after it, so no npm runs here). The Anthropic side: model-faults.test.ts.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BuildSummary, BuildView } from '../../src/domain/status.js';
import type { FakeModelServer, ScriptedReply } from '../support/fake-model-server.js';
import { api, type TestExecutor, waitForStatus } from '../support/executor.js';
import { type FaultHost, modelCalls, PARTIAL, partialSpec, SPEC, startFaultHost } from '../support/model-fault-host.js';
import { specAnswer, taskOf } from '../support/model-script.js';

const KEY = 'sk-proj-canary-8e1b5c07d9a4f2';

/** The fields of a chat message, as sent on the wire, that these tests read. */
interface WireChatMessage {
  role: string;
  content?: string | null;
  tool_call_id?: string;
  tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
}
let host: FaultHost;
let model: FakeModelServer;
let server: TestExecutor;
let logLines: string[];

beforeAll(async () => {
  host = await startFaultHost((url) => ({ MODEL_PROVIDER: 'openai', OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `${url}/v1` }), 'Memo Keeper');
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
  it('uses the key, streams with usage, puts the stable context first, and records usage', async () => {
    model.enqueue({ ...specAnswer(SPEC), usage: { input_tokens: 3_000, output_tokens: 500, cache_read_input_tokens: 2_000 } });
    const { buildId, first } = await specBuild();
    const waiting = await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(waiting.steps[1]!.details.spec).toBe(SPEC);
    const request = model.requests[first]!;
    expect(request).toMatchObject({ api: 'openai', path: '/v1/chat/completions', stream: true });
    expect(request.rejected).toBeUndefined();
    expect(taskOf(request)).toBe('spec');
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.body.stream_options).toEqual({ include_usage: true });
    // Not api.openai.com: a compatible server reads the old name of the limit.
    expect(request.body.max_tokens).toBe(16_000);
    expect(request.body.messages[0].role).toBe('system');
    expect(request.body.messages[0].content).toContain('UDC.md');
    expect(request.body.tools.map((tool: { function: { name: string } }) => tool.function.name)).toEqual(['write_file', 'edit_file', 'delete_file', 'read_file', 'list_files']);
    // prompt_tokens 5000 of which 2000 cached; gpt-5 prices: $1.25 input, $10 output, $0.125 cache read per million
    const usage = waiting.steps[1]!.details.usage as Record<string, number>;
    expect(usage).toMatchObject({ input_tokens: 3_000, output_tokens: 500, cache_read_tokens: 2_000, cache_write_tokens: 0 });
    expect(usage.cost_usd).toBeCloseTo((3_000 * 1.25 + 500 * 10 + 2_000 * 0.125) / 1e6, 12);
    expect(waiting.usage).toMatchObject({ input_tokens: 3_000, output_tokens: 500, cache_read_tokens: 2_000, cache_write_tokens: 0, max_cost_usd: null });
    const health = (await api<{ author: string; author_api: Record<string, unknown> }>(server.baseUrl, '/executor/health')).body;
    expect(health.author).toBe('openai');
    expect(health.author_api).toMatchObject({ status: 'ok', model: 'gpt-5.4', last_error: null });
  });
});

describe('faults the retry policy absorbs', () => {
  it('obeys retry-after on a 429, then succeeds', async () => {
    model.enqueue({ kind: 'error', status: 429, message: 'slow down', headers: { 'retry-after': '1' } }, specAnswer(SPEC));
    const { buildId, first } = await specBuild();
    await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    const [limited, answered] = model.requests.slice(first);
    expect(answered!.receivedAt - limited!.receivedAt).toBeGreaterThanOrEqual(950);
    expect(modelCalls(await events(buildId))).toMatchObject([{ purpose: 'spec', retries: 1 }]);
  });

  it('backs off through three 529s and succeeds on the fourth attempt', async () => {
    const overloaded = { kind: 'error', status: 529, message: 'Overloaded' } as const;
    model.enqueue(overloaded, overloaded, overloaded, specAnswer(SPEC));
    const { buildId, first } = await specBuild();
    await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(model.requests.length - first).toBe(4);
    expect(modelCalls(await events(buildId))).toMatchObject([{ retries: 3 }]);
  });

  it('retries the whole call after an error chunk mid-stream and keeps none of the partial answer', async () => {
    model.enqueue({ kind: 'stream_error', content: partialSpec, after_events: 4, type: 'server_error', message: 'The server had an error while processing your request.' }, specAnswer(SPEC));
    const { buildId, first } = await specBuild();
    const waiting = await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(model.requests.length - first).toBe(2);
    expect(waiting.steps[1]!.details.spec).toBe(SPEC);
    expect(JSON.stringify(waiting)).not.toContain(PARTIAL);
  });

  it('aborts a stream that goes silent and retries it', async () => {
    model.enqueue({ kind: 'stall', content: partialSpec, after_events: 4 }, specAnswer(SPEC));
    const { buildId, first } = await specBuild();
    const waiting = await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(model.requests[first]!.aborted).toBe(true);
    expect(model.requests.length - first).toBe(2);
    expect(waiting.steps[1]!.details.spec).toBe(SPEC);
    expect(modelCalls(await events(buildId))).toMatchObject([{ purpose: 'spec', retries: 1 }]);
  });

  it('retries when the connection drops in the middle of the stream, and keeps none of the partial answer', async () => {
    model.enqueue({ kind: 'stream_drop', content: partialSpec, after_events: 4 }, specAnswer(SPEC));
    const { buildId, first } = await specBuild();
    const waiting = await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(model.requests.length - first).toBe(2);
    expect(model.requests[first]!.aborted).toBe(false);
    expect(waiting.steps[1]!.details.spec).toBe(SPEC);
    expect(JSON.stringify(waiting)).not.toContain(PARTIAL);
  });

  it('retries a stream that ends without a finish_reason, and keeps none of the partial answer', async () => {
    model.enqueue({ kind: 'stream_end', content: [{ type: 'text', text: 'Here is' }, ...partialSpec], after_events: 4 }, specAnswer(SPEC));
    const { buildId, first } = await specBuild();
    const waiting = await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(model.requests.length - first).toBe(2);
    expect(waiting.steps[1]!.details.spec).toBe(SPEC);
    expect(JSON.stringify(waiting)).not.toContain(PARTIAL);
  });
});

describe('answers cut off by the output limit', () => {
  it('continues with a conversation the API accepts: the complete call, its tool message, then the note', async () => {
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
    const messages = continuation.body.messages as WireChatMessage[];
    expect(messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool', 'user']);
    const assistant = messages[2]!;
    expect(assistant.content).toBe('Here are the files.');
    // Only the complete call goes back; the one cut in half is dropped, not sent as broken JSON.
    expect(assistant.tool_calls).toHaveLength(1);
    const [call] = assistant.tool_calls ?? [];
    expect(JSON.parse(call!.function.arguments)).toEqual(notes);
    expect(messages[3]!.tool_call_id).toBe(call!.id);
    expect(messages[4]!.content).toContain('cut off');
    expect(messages[4]!.content).toContain('docs/NOTES.md');
    // The cut call's arguments are half a JSON object, but the path it began with is named.
    expect(messages[4]!.content).toContain('The file docs/SPEC.md was cut off');
    expect(modelCalls(await events(buildId)).map((call) => call.purpose)).toEqual(['spec', 'spec (continued 1)']);
  });

  it('fails as truncated after three continuations, with nothing written', async () => {
    const cut: ScriptedReply = { kind: 'message', content: [{ type: 'tool_use', name: 'write_file', input: { path: 'docs/SPEC.md', content: SPEC } }], stop_reason: 'max_tokens' };
    model.enqueue(cut, cut, cut, cut);
    const { buildId, first } = await specBuild();
    const failed = await waitForStatus(server.baseUrl, buildId, ['failed']);
    expect(model.requests.length - first).toBe(4);
    expect(model.requests.slice(first).map((request) => request.rejected)).toEqual([undefined, undefined, undefined, undefined]);
    expect(failed.steps[1]).toMatchObject({ status: 'failed', error: { code: 'MODEL_OUTPUT_TRUNCATED' } });
    expect(failed.repository_path).toBeNull();
  });
});

describe('answers and errors that fail the step', () => {
  it('fails with the model’s own reason when it refuses (content_filter and message.refusal)', async () => {
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

  it.each([400, 401, 413])('does not retry a %i and says why, without the key', async (status) => {
    model.enqueue({ kind: 'error', status, message: `rejected with ${status}` });
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
    const overloaded = { kind: 'error', status: 503, message: 'Service unavailable' } as const;
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

describe('cancel', () => {
  it('aborts a request still waiting for its answer at once', async () => {
    model.enqueue({ kind: 'hang' });
    const { buildId, first } = await specBuild();
    await model.waitForRequests(first + 1);
    const started = Date.now();
    const cancelled = await api<BuildSummary>(server.baseUrl, `/executor/builds/${buildId}`, { method: 'DELETE' });
    expect(cancelled.body.status).toBe('cancelled');
    await expect.poll(() => model.requests[first]!.aborted, { timeout: 2_000 }).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('aborts a stream mid-answer at once, and journals no call as answered', async () => {
    model.enqueue({ kind: 'stall', content: partialSpec, after_events: 3 });
    const { buildId, first } = await specBuild();
    await model.waitForRequests(first + 1);
    // Let the first chunks reach the client (well within the 1 s idle timeout).
    await new Promise((resolve) => setTimeout(resolve, 200));
    const cancelled = await api<BuildSummary>(server.baseUrl, `/executor/builds/${buildId}`, { method: 'DELETE' });
    expect(cancelled.body.status).toBe('cancelled');
    await expect.poll(() => model.requests[first]!.aborted, { timeout: 2_000 }).toBe(true);
    // Give a wrongly finished call time to be journaled, then look: the build stays cancelled, with no call and no error.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const view = (await api<BuildView>(server.baseUrl, `/executor/builds/${buildId}/status`)).body;
    expect(view.status).toBe('cancelled');
    expect(view.steps[1]!.status).not.toBe('failed');
    expect(modelCalls(await events(buildId))).toEqual([]);
    expect(model.requests.length - first).toBe(1);
  });
});

describe('what the executor sent, and the key', () => {
  it('sent no request the real API would refuse', () => {
    expect(model.requests.length).toBeGreaterThan(20);
    expect(model.requests.filter((request) => request.rejected !== undefined).map((request) => request.rejected)).toEqual([]);
  });

  it('never wrote the key to the logs, the events or the database', async () => {
    expect(logLines.length).toBeGreaterThan(10);
    expect(logLines.join('')).not.toContain(KEY);
    const builds = (await api<BuildSummary[]>(server.baseUrl, '/executor/builds?limit=200')).body;
    expect(builds.length).toBe(host.submitted());
    for (const build of builds) expect(JSON.stringify(await events(build.build_id))).not.toContain(KEY);
    for (const file of readdirSync(server.dataDir).filter((name) => name.startsWith('executor.db'))) {
      expect(readFileSync(join(server.dataDir, file)).includes(KEY)).toBe(false);
    }
  });
});
