/** The progress stream over a real WebSocket on loopback. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BuildView } from '../../src/domain/status.js';
import type { BuildEvent } from '../../src/domain/events.js';
import { type TestApp, createTestApp, listen } from '../support/http-app.js';
import { collectStream } from '../support/ws-client.js';

type StreamMessage = BuildEvent | { type: 'snapshot'; build: BuildView };

let server: TestApp;
let baseUrl: string;

beforeEach(async () => {
  server = await createTestApp();
  baseUrl = await listen(server.app);
});

afterEach(async () => {
  await server.app.close();
});

async function startBuild(architectIntent = 'Build Analytics Engine for tracking droplet metrics'): Promise<string> {
  return (await server.builds.submit({ architectIntent, approvalMode: 'auto', autoDeploy: true })).build_id;
}

const last = (events: BuildEvent[]): BuildEvent => events.at(-1)!;

const streamUrl = (id: string, after?: number) => `${baseUrl}/executor/builds/${id}/stream${after === undefined ? '' : `?after=${after}`}`;
const seqs = (messages: readonly unknown[]) => (messages as StreamMessage[]).filter((m): m is BuildEvent => 'seq' in m).map((m) => m.seq);

/** Waits until the server has dropped every subscription of the build (it does so on close). */
async function unsubscribed(id: string): Promise<number> {
  for (let attempt = 0; attempt < 200 && server.builds.subscriberCount(id) > 0; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return server.builds.subscriberCount(id);
}

describe('WS /executor/builds/:id/stream', () => {
  it('sends the snapshot, replays the journal, follows live events and closes 1000 after the terminal one', async () => {
    const id = await startBuild();
    const other = await startBuild('Build Ticket Desk for support requests');
    const started = last(await server.builds.begin(id));
    const expectedLive: BuildEvent[] = [];
    let moved: Promise<void> = Promise.resolve();

    const result = await collectStream(streamUrl(id), {
      onMessage: (message) => {
        // Once the replay has caught up, the build moves on while the client listens.
        if ((message as BuildEvent).seq !== started.seq) return;
        moved = (async () => {
          await server.builds.begin(other);
          expectedLive.push(...(await server.builds.completeStep(id, 1)));
          expectedLive.push(...(await server.builds.completeBuild(id)));
          // Journaled after the terminal event: the closed stream must not send it.
          await server.builds.store.recordProgress(id, 1, { message: 'after the end' });
        })();
      },
    });
    await moved;

    const [snapshot, ...events] = result.messages as StreamMessage[];
    expect(snapshot).toMatchObject({ type: 'snapshot', build: { build_id: id, status: 'in_progress' } });
    expect(events).toEqual([...(await server.builds.service.events(id, 0)).slice(0, 3), ...expectedLive]);
    expect(events.map((event) => event.type)).toEqual(['build.queued', 'build.started', 'step.started', 'step.completed', 'build.completed']);
    expect(Object.keys(events[0]!).sort()).toEqual(['at', 'build_id', 'data', 'seq', 'type']);
    expect(result.closeCode).toBe(1000);
    expect(await unsubscribed(id)).toBe(0);
  });

  it('replays only what came after `after`, and a reconnect gets exactly the missed events', async () => {
    const id = await startBuild();
    const first = last(await server.builds.begin(id));

    // The client drops out after the first live event.
    const partial = await collectStream(streamUrl(id, first.seq), {
      onMessage: (message) => {
        if ((message as StreamMessage).type === 'snapshot') void server.builds.completeStep(id, 1);
      },
      stopWhen: (message) => (message as StreamMessage).type === 'step.completed',
    });
    expect(partial.messages).toHaveLength(2);
    const lastSeen = seqs(partial.messages).at(-1)!;
    expect(await unsubscribed(id)).toBe(0);

    const missed = [
      ...(await server.builds.startStep(id, 2)),
      ...(await server.builds.completeStep(id, 2)),
      ...(await server.builds.startStep(id, 3)),
      ...(await server.builds.failStep(id, 3)),
    ];
    const resumed = await collectStream(streamUrl(id, lastSeen));
    expect((resumed.messages[0] as StreamMessage).type).toBe('snapshot');
    expect(resumed.messages.slice(1)).toEqual(missed);
    expect(resumed.closeCode).toBe(1000);
  });

  it('closes 1000 right after the replay when the build has already ended', async () => {
    const id = await startBuild();
    const end = last(await server.builds.cancel(id));
    const nothingNew = await collectStream(streamUrl(id, end.seq));
    expect(nothingNew.messages).toEqual([{ type: 'snapshot', build: await server.builds.service.get(id) }]);
    expect(nothingNew.closeCode).toBe(1000);

    const everything = await collectStream(streamUrl(id));
    expect(seqs(everything.messages)).toEqual((await server.builds.service.events(id, 0)).map((event) => event.seq));
    expect(everything.closeCode).toBe(1000);
  });

  it('closes a finished build\'s stream even when a paid model call was journaled after its cancel', async () => {
    const id = await startBuild();
    await server.builds.begin(id);
    await server.builds.cancel(id);
    // Paid for is paid for: a call in flight at the cancel is still recorded, after build.cancelled.
    const usage = { input_tokens: 10, output_tokens: 5, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: 0.001 };
    const call = { purpose: 'spec', provider: 'anthropic', model: 'claude-sonnet-5-5', usage, stopReason: 'end_turn', retries: 0, durationMs: 20 };
    await server.builds.store.recordModelCall(id, 1, call, { message: 'model call for spec', model_call: usage });
    const result = await collectStream(streamUrl(id));
    expect((result.messages as StreamMessage[]).map((m) => m.type)).toEqual([
      'snapshot', 'build.queued', 'build.started', 'step.started', 'build.cancelled', 'step.progress',
    ]);
    expect(result.closeCode).toBe(1000);
  });

  it('keeps following a build retried after it failed', async () => {
    const id = await startBuild();
    await server.builds.begin(id);
    await server.builds.failStep(id, 1);
    await server.builds.retry(id, 1);
    let done: BuildEvent | undefined;
    const result = await collectStream(streamUrl(id), {
      onMessage: (message) => {
        if ((message as StreamMessage).type !== 'build.retried') return;
        void (async () => {
          await server.builds.store.claim(id);
          done = last(await server.builds.completeBuild(id));
        })();
      },
    });
    expect((result.messages as StreamMessage[]).map((m) => m.type)).toEqual([
      'snapshot', 'build.queued', 'build.started', 'step.started', 'step.failed', 'build.failed', 'build.retried', 'build.started', 'build.completed',
    ]);
    expect(result.messages.at(-1)).toEqual(done);
    expect(result.closeCode).toBe(1000);
  });

  it('sends an event committed while the stream subscribes exactly once', async () => {
    const id = await startBuild();
    let racing: BuildEvent | undefined;
    // Committed after the subscription but before the journal is read: it reaches
    // the stream twice (bus and journal) and must be sent once.
    server.builds.onNextSubscribe = async (buildId) => {
      racing = last(await server.builds.begin(buildId));
    };
    let end: BuildEvent | undefined;
    const result = await collectStream(streamUrl(id), {
      onMessage: (message) => {
        if ((message as BuildEvent).seq === racing?.seq) void server.builds.completeBuild(id).then((events) => (end = last(events)));
      },
    });
    expect(seqs(result.messages)).toEqual((await server.builds.service.events(id, 0)).map((event) => event.seq));
    expect(result.messages.filter((m) => (m as BuildEvent).seq === racing!.seq)).toHaveLength(1);
    expect(result.messages.at(-1)).toEqual(end);
    expect(result.closeCode).toBe(1000);
  });

  it('sends an event committed just after the journal read, from the buffer', async () => {
    const id = await startBuild();
    await server.builds.begin(id);
    let late: BuildEvent | undefined;
    server.builds.onNextEventsRead = async (buildId) => {
      late = last(await server.builds.completeBuild(buildId));
    };
    const result = await collectStream(streamUrl(id));
    expect(result.messages.slice(1)).toEqual(await server.builds.service.events(id, 0));
    expect(result.messages.at(-1)).toEqual(late);
    expect(result.closeCode).toBe(1000);
  });

  it('refuses a bad `after` before the upgrade', async () => {
    const id = await startBuild();
    const refused = await collectStream(streamUrl(id).concat('?after=-3')).catch((error: { status?: number }) => error);
    expect((refused as { status: number }).status).toBe(400);
  });
});
