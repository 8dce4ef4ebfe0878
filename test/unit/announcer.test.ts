/**
 * The announcer over the real SQLite store, outbox and in-memory bus, with scripted
 * channels: retries with back-off inside the window, every attempt recorded and
 * journaled, failures and approval requests announced from the journal (links signed for
 * the very wait announced), channel choice, nothing sent twice, what a closed process left
 * pending delivered by the next one, and an approval request whose wait is over not sent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { AnnouncedEvent, BuildNotification, DeliveryAttempt } from '../../src/domain/notification.js';
import type { ApprovalLinkIssuer } from '../../src/domain/ports/approval-links.js';
import type { Notifier } from '../../src/domain/ports/notifier.js';
import type { BuildRecord } from '../../src/domain/records.js';
import { Announcer, type AnnouncerOptions } from '../../src/pipeline/announcer.js';
import { afterAttempt, backoffMs } from '../../src/pipeline/delivery-schedule.js';
import { InMemoryEventBus } from '../../src/pipeline/events.js';
import { SqliteBuildCatalog } from '../../src/store/build-catalog.js';
import { SqliteBuildStore } from '../../src/store/build-store.js';
import { type Db, openDatabase } from '../../src/store/db.js';
import { ModelCallStore, SqliteModelCallLedger } from '../../src/store/model-calls.js';
import { SqliteNotificationOutbox } from '../../src/store/notification-outbox.js';

/** A channel that answers the scripted outcomes in turn, then `delivered`. */
class ScriptedNotifier implements Notifier {
  readonly sent: BuildNotification[] = [];

  constructor(
    readonly channel: string,
    private readonly script: DeliveryAttempt['outcome'][] = [],
    readonly events: readonly AnnouncedEvent[] = ['completed', 'failed', 'waiting_approval'],
  ) {}

  async deliver(notification: BuildNotification): Promise<DeliveryAttempt> {
    this.sent.push(notification);
    const outcome = this.script.shift() ?? 'delivered';
    return { outcome, detail: outcome === 'delivered' ? 'HTTP 200' : outcome === 'retry' ? 'HTTP 503' : 'HTTP 410' };
  }
}

const fast: AnnouncerOptions = {
  publicUrl: 'http://executor.test',
  policy: { windowMs: 60_000, baseDelayMs: 5, maxDelayMs: 20, attemptTimeoutMs: 5_000 },
  firstRound: { attempts: 3, maxMs: 5_000 },
};

const opened: { db: Db; announcers: Announcer[] }[] = [];
afterEach(async () => {
  for (const { db, announcers } of opened.splice(0)) {
    for (const announcer of announcers) await announcer.close();
    db.close();
  }
});

function setup(db: Db = openDatabase(':memory:')) {
  const bus = new InMemoryEventBus();
  const store = new SqliteBuildStore(db, (event) => bus.publish(event), new ModelCallStore(db));
  const outbox = new SqliteNotificationOutbox(db, (buildId, event) => store.journalNotificationNow(buildId, event));
  const slot = { db, announcers: [] as Announcer[] };
  opened.push(slot);
  const announcer = (notifiers: Notifier[], options: Partial<AnnouncerOptions> = {}, links?: ApprovalLinkIssuer) => {
    const made = new Announcer(
      { outbox, catalog: new SqliteBuildCatalog(db), notifiers, store, ledger: new SqliteModelCallLedger(new ModelCallStore(db)), bus, links, log: pino({ level: 'silent' }), redact: (text) => text.replaceAll('s3cret', '[REDACTED]') },
      { ...fast, ...options },
    );
    slot.announcers.push(made);
    return made;
  };
  let count = 0;
  const build = async (notifyChannels: string[] | null = null): Promise<BuildRecord> => {
    const id = `build-${++count}`;
    await store.create(
      { dropletId: count, dropletName: 'quote-keeper', intent: 'Build Quote Keeper', approvalMode: 'auto', autoDeploy: false, notifyChannels, createdAt: new Date().toISOString(), estimatedSeconds: 60 },
      () => id,
    );
    return (await store.claim(id))!;
  };
  const journal = async (id: string) => (await store.listEvents(id, 0)).filter((event) => event.type === 'notification.attempted').map((event) => event.data);
  return { db, bus, store, outbox, announcer, build, journal };
}

/** Links that name what they were signed for, and how many were signed before. */
function countingLinks(): ApprovalLinkIssuer & { waits: string[] } {
  const waits: string[] = [];
  return {
    waits,
    linksFor: (buildId, wait) => {
      waits.push(wait.requestedAt);
      const approveUrl = `http://executor.test/a/${buildId}/${wait.gate}/${wait.requestedAt}/${waits.length}`;
      return { approveUrl, rejectUrl: `http://executor.test/r/${waits.length}`, expiresAt: '2026-01-02T00:00:00.000Z' };
    },
  };
}

/** Waits (without a time limit of its own: vitest's applies) until `check` holds. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('the retry schedule', () => {
  const policy = { windowMs: 60_000, baseDelayMs: 1_000, maxDelayMs: 8_000 };

  it('doubles the delay per attempt up to the cap, jittered to 50–100 %', () => {
    expect([1, 2, 3, 4, 5, 9].map((attempt) => backoffMs(attempt, policy, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    expect(backoffMs(2, policy, () => 0)).toBe(1_000);
  });

  it('gives up once the next attempt would fall outside the window from the first attempt', () => {
    const first = new Date('2026-01-01T00:00:00Z');
    const retry = { outcome: 'retry' as const, detail: 'HTTP 503' };
    expect(afterAttempt(retry, 1, { firstAttemptAt: first, at: first }, policy, () => 1)).toEqual({ status: 'pending', nextAttemptAt: '2026-01-01T00:00:01.000Z', detail: 'HTTP 503' });
    const late = new Date('2026-01-01T00:00:55Z');
    expect(afterAttempt(retry, 7, { firstAttemptAt: first, at: late }, policy, () => 1)).toEqual({
      status: 'failed', nextAttemptAt: null, detail: 'HTTP 503; given up after 7 attempt(s) (retry window 60 s)',
    });
    expect(afterAttempt({ outcome: 'rejected', detail: 'HTTP 404' }, 1, { firstAttemptAt: first, at: first }, policy)).toMatchObject({ status: 'failed', detail: 'HTTP 404' });
    expect(afterAttempt(retry, 1, { firstAttemptAt: first, at: first }, { ...policy, windowMs: 0 })).toMatchObject({ status: 'failed' });
  });
});

describe('the announcer', () => {
  it('retries with back-off, records and journals every attempt, and reports the first round', async () => {
    const { announcer, build, journal } = setup();
    const webhook = new ScriptedNotifier('webhook', ['retry', 'retry']);
    const log = new ScriptedNotifier('log');
    const record = await build();
    const reports = await announcer([log, webhook]).announce({ build: record, event: 'completed', summary: 'live' }, { wait: true });
    expect(reports.map((report) => [report.channel, report.status, report.attempts.map((attempt) => attempt.outcome)])).toEqual([
      ['log', 'delivered', ['delivered']],
      ['webhook', 'delivered', ['retry', 'retry', 'delivered']],
    ]);
    expect(reports[1]).toMatchObject({ delivery_id: `${record.id}:completed`, detail: 'HTTP 200', next_attempt_at: null });
    expect(new Set(webhook.sent.map((sent) => sent.deliveryId))).toEqual(new Set([`${record.id}:completed`]));
    expect(webhook.sent[0]).toMatchObject({ event: 'completed', buildUrl: `http://executor.test/executor/builds/${record.id}/status`, dropletName: 'quote-keeper', costUsd: null });
    const attempted = (await journal(record.id)).filter((data) => data.channel === 'webhook');
    expect(attempted.map((data) => [data.attempt, data.outcome, data.status])).toEqual([[1, 'retry', 'pending'], [2, 'retry', 'pending'], [3, 'delivered', 'delivered']]);
    expect(attempted[0]!.next_attempt_at).toEqual(expect.any(String));
  });

  it('counts a channel that throws as a retry, its message redacted', async () => {
    const { announcer, build, journal } = setup();
    let calls = 0;
    const flaky: Notifier = {
      channel: 'webhook',
      events: ['completed'],
      deliver: async () => {
        calls += 1;
        if (calls === 1) throw new Error('connect ECONNREFUSED (token s3cret)');
        return { outcome: 'delivered', detail: 'HTTP 204' };
      },
    };
    const record = await build();
    const [report] = await announcer([flaky]).announce({ build: record, event: 'completed', summary: 'live' }, { wait: true });
    expect(report!.attempts.map((attempt) => [attempt.outcome, attempt.detail])).toEqual([['retry', 'connect ECONNREFUSED (token [REDACTED])'], ['delivered', 'HTTP 204']]);
    expect(JSON.stringify(await journal(record.id))).not.toContain('s3cret');
  });

  it('sends nothing twice: announcing the same thing again reports what was done', async () => {
    const { announcer, build } = setup();
    const webhook = new ScriptedNotifier('webhook');
    const announcing = announcer([webhook]);
    const record = await build();
    await announcing.announce({ build: record, event: 'completed', summary: 'live' }, { wait: true });
    const again = await announcing.announce({ build: record, event: 'completed', summary: 'live' }, { wait: true });
    expect(webhook.sent).toHaveLength(1);
    expect(again).toMatchObject([{ channel: 'webhook', status: 'delivered', attempts: [{ attempt: 1, outcome: 'delivered' }] }]);
  });

  it('stops at a rejection, and leaves a slow retry pending for the background', async () => {
    const { announcer, build, outbox } = setup();
    const refused = new ScriptedNotifier('webhook', ['rejected']);
    const record = await build();
    expect(await announcer([refused]).announce({ build: record, event: 'completed', summary: 'live' }, { wait: true })).toMatchObject([
      { status: 'failed', detail: 'HTTP 410', attempts: [{ outcome: 'rejected' }] },
    ]);
    const { announcer: slowAnnouncer, build: slowBuild } = setup();
    const down = new ScriptedNotifier('webhook', ['retry', 'retry', 'retry']);
    const other = await slowBuild();
    // The second attempt is due after the first round's deadline: step 8 does not wait for it.
    const [report] = await slowAnnouncer([down], { policy: { ...fast.policy, baseDelayMs: 60_000, maxDelayMs: 60_000 }, firstRound: { attempts: 3, maxMs: 1_000 } })
      .announce({ build: other, event: 'completed', summary: 'live' }, { wait: true });
    expect(report).toMatchObject({ status: 'pending', attempts: [{ outcome: 'retry' }], next_attempt_at: expect.any(String) });
    expect(await outbox.pending()).toEqual([]);
  });

  it('announces failures and approval requests from the journal, with fresh links per attempt that are never stored', async () => {
    const { announcer, build, store, outbox } = setup();
    const webhook = new ScriptedNotifier('webhook', ['retry']);
    const links = countingLinks();
    announcer([webhook], {}, links);
    const waiting = await build();
    const requestedAt = new Date().toISOString();
    await store.awaitApproval(waiting.id, { gate: 'before_deploy', step_number: 6, requested_at: requestedAt, summary: 'Review the verified droplet.' });
    const failing = await build();
    await store.failBuild(failing.id, { code: 'VERIFICATION_FAILED', message: 'npm test failed', details: {} });
    await until(() => webhook.sent.filter((sent) => sent.event === 'waiting_approval').length === 2 && webhook.sent.some((sent) => sent.event === 'failed'));
    await until(async () => (await outbox.pending()).length === 0);

    const approvals = webhook.sent.filter((sent) => sent.event === 'waiting_approval');
    // Signed for the wait announced, fresh for each attempt.
    expect(approvals.map((sent) => sent.approval)).toEqual([
      { gate: 'before_deploy', summary: 'Review the verified droplet.', requestedAt, links: expect.objectContaining({ approveUrl: `http://executor.test/a/${waiting.id}/before_deploy/${requestedAt}/1` }) },
      { gate: 'before_deploy', summary: 'Review the verified droplet.', requestedAt, links: expect.objectContaining({ approveUrl: `http://executor.test/a/${waiting.id}/before_deploy/${requestedAt}/2` }) },
    ]);
    const approvalEvent = (await store.listEvents(waiting.id, 0)).find((event) => event.type === 'build.waiting_approval')!;
    expect(approvals[0]!.deliveryId).toBe(`${waiting.id}:waiting_approval:${approvalEvent.seq}`);
    const stored = await outbox.get(approvals[0]!.deliveryId, 'webhook');
    expect(stored!.notification.approval!.links).toBeNull();

    const failure = webhook.sent.find((sent) => sent.event === 'failed')!;
    expect(failure.failure).toEqual({ code: 'VERIFICATION_FAILED', message: 'npm test failed', step: null });
    expect(failure.summary).toContain(`build ${failing.id} failed`);
    // The build ended; its journal still gains the attempt.
    expect((await store.listEvents(failing.id, 0)).at(-1)).toMatchObject({ type: 'notification.attempted', data: { event: 'failed', outcome: 'delivered' } });
  });

  it("chooses the request's channels, else NOTIFY_CHANNELS, else every configured one, each only for its events", async () => {
    const { announcer, build } = setup();
    const log = new ScriptedNotifier('log');
    const webhook = new ScriptedNotifier('webhook');
    const email = new ScriptedNotifier('email', [], ['failed']);
    const all = announcer([log, webhook, email]);
    const channels = async (record: BuildRecord, announcing = all, event: AnnouncedEvent = 'completed') =>
      (await announcing.announce({ build: record, event, summary: 'x', occurrence: event === 'completed' ? undefined : 1 })).map((report) => report.channel);
    expect(await channels(await build())).toEqual(['log', 'webhook']);
    expect(await channels(await build(), all, 'failed')).toEqual(['log', 'webhook', 'email']);
    expect(await channels(await build(['webhook']))).toEqual(['webhook']);
    expect(await channels(await build(['email']))).toEqual([]);
    expect(await channels(await build(), announcer([log, webhook, email], { defaultChannels: ['log'] }))).toEqual(['log']);
  });

  it('delivers after a restart what the previous process left pending, counting its attempts on', async () => {
    const { db, announcer, build, outbox, journal } = setup();
    const down = new ScriptedNotifier('webhook', ['retry']);
    const record = await build();
    const first = announcer([down], { policy: { ...fast.policy, baseDelayMs: 60_000, maxDelayMs: 60_000 }, firstRound: { attempts: 1, maxMs: 1_000 } });
    expect(await first.announce({ build: record, event: 'completed', summary: 'live' }, { wait: true })).toMatchObject([{ status: 'pending' }]);
    await first.close();

    const { announcer: next } = setup(db);
    const up = new ScriptedNotifier('webhook');
    expect(await next([up]).resume()).toEqual({ retried: 1, recovered: 0 });
    await until(async () => (await outbox.get(`${record.id}:completed`, 'webhook'))?.status === 'delivered');
    expect(up.sent.map((sent) => sent.deliveryId)).toEqual([`${record.id}:completed`]);
    expect((await outbox.attempts(`${record.id}:completed`, 'webhook')).map((attempt) => [attempt.attempt, attempt.outcome])).toEqual([[1, 'retry'], [2, 'delivered']]);
    expect((await journal(record.id)).map((data) => data.status)).toEqual(['pending', 'delivered']);
  });

  it('announces at start the failures and approval requests a crash kept from being queued, once', async () => {
    const { db, announcer, build, store, outbox } = setup();
    // Committed while no announcer listened: the process died before queuing them.
    const failed = await build();
    await store.failBuild(failed.id, { code: 'VERIFICATION_FAILED', message: 'npm test failed', details: {} });
    const waiting = await build();
    await store.awaitApproval(waiting.id, { gate: 'after_spec', step_number: 2, requested_at: new Date().toISOString(), summary: 'Review the spec.' });
    // A failure older than the retry window is left alone; a build retried since is not failed any more.
    const old = await build();
    await store.failBuild(old.id, { code: 'DEPLOY_FAILED', message: 'gone', details: {} });
    db.prepare(`UPDATE build_events SET at = ? WHERE build_id = ? AND type = 'build.failed'`).run(new Date(Date.now() - 2 * 3_600_000).toISOString(), old.id);
    const retried = await build();
    await store.failBuild(retried.id, { code: 'DEPLOY_FAILED', message: 'flaky', details: {} });
    await store.retry(retried.id, {});

    const webhook = new ScriptedNotifier('webhook');
    const first = announcer([webhook], { policy: { ...fast.policy, windowMs: 3_600_000 } });
    // Queued by the listener as usual: not announced again at start.
    const listened = await build();
    await store.failBuild(listened.id, { code: 'VERIFICATION_FAILED', message: 'lint failed', details: {} });
    await until(() => webhook.sent.length === 1);
    await until(async () => (await outbox.pending()).length === 0);

    expect(await first.resume()).toEqual({ retried: 0, recovered: 2 });
    await until(async () => (await outbox.pending()).length === 0);
    const seq = async (id: string, type: string) => (await store.listEvents(id, 0)).find((event) => event.type === type)!.seq;
    const failedId = `${failed.id}:failed:${await seq(failed.id, 'build.failed')}`;
    const waitingId = `${waiting.id}:waiting_approval:${await seq(waiting.id, 'build.waiting_approval')}`;
    expect(webhook.sent.slice(1).map((sent) => sent.deliveryId).sort()).toEqual([failedId, waitingId].sort());
    expect(webhook.sent.find((sent) => sent.deliveryId === failedId)).toMatchObject({ event: 'failed', failure: { code: 'VERIFICATION_FAILED', message: 'npm test failed' } });
    expect(webhook.sent.find((sent) => sent.deliveryId === waitingId)).toMatchObject({ event: 'waiting_approval', approval: { gate: 'after_spec', summary: 'Review the spec.' } });
    expect((await outbox.attempts(failedId, 'webhook')).map((attempt) => attempt.outcome)).toEqual(['delivered']);
    expect(await outbox.isQueued(`${old.id}:failed:${await seq(old.id, 'build.failed')}`)).toBe(false);
    expect(await outbox.isQueued(`${retried.id}:failed:${await seq(retried.id, 'build.failed')}`)).toBe(false);

    // A normal restart (and a second resume) finds nothing lost and sends nothing again.
    expect(await first.resume()).toEqual({ retried: 0, recovered: 0 });
    await first.close();
    const again = new ScriptedNotifier('webhook');
    const { announcer: next } = setup(db);
    expect(await next([again]).resume()).toEqual({ retried: 0, recovered: 0 });
    expect(again.sent).toEqual([]);
    expect(webhook.sent).toHaveLength(3);
  });

  it('does not send, after a restart, an approval request whose wait is over; the newer wait is sent with its own links', async () => {
    const { db, announcer, build, store, outbox, journal } = setup();
    const down = new ScriptedNotifier('webhook', ['retry']);
    const first = announcer([down], { policy: { ...fast.policy, baseDelayMs: 60_000, maxDelayMs: 60_000 } }, countingLinks());
    const record = await build();
    const firstWait = '2026-01-01T00:00:00.001Z';
    await store.awaitApproval(record.id, { gate: 'before_deploy', step_number: 6, requested_at: firstWait, summary: 'Review the verified droplet.' });
    const firstId = `${record.id}:waiting_approval:${(await store.listEvents(record.id, 0)).at(-1)!.seq}`;
    await until(async () => (await outbox.get(firstId, 'webhook'))?.attempts === 1);
    await first.close();

    // While no executor ran: approved there, run on, and waiting at the same gate again.
    await store.decide(record.id, { approved: true, feedback: null });
    await store.claim(record.id);
    const secondWait = '2026-01-01T00:00:05.002Z';
    await store.awaitApproval(record.id, { gate: 'before_deploy', step_number: 6, requested_at: secondWait, summary: 'Review it again.' });
    const secondId = `${record.id}:waiting_approval:${(await store.listEvents(record.id, 0)).at(-1)!.seq}`;

    const { announcer: next } = setup(db);
    const up = new ScriptedNotifier('webhook');
    const links = countingLinks();
    expect(await next([up], {}, links).resume()).toEqual({ retried: 1, recovered: 1 });
    await until(async () => (await outbox.pending()).length === 0);

    // The first request is given up without being sent; only the second goes out, signed for its own wait.
    expect(await outbox.get(firstId, 'webhook')).toMatchObject({ status: 'failed', attempts: 2 });
    const [, given] = await outbox.attempts(firstId, 'webhook');
    expect(given).toMatchObject({ outcome: 'rejected' });
    expect(given!.detail).toBe(`obsolete, not sent: build ${record.id} is past the wait at the before_deploy gate from ${firstWait} this approval request is for (it waits at the before_deploy gate since ${secondWait})`);
    expect(up.sent.map((sent) => sent.deliveryId)).toEqual([secondId]);
    expect(up.sent[0]!.approval).toMatchObject({ requestedAt: secondWait, links: { approveUrl: expect.stringContaining(`/before_deploy/${secondWait}/`) } });
    expect(links.waits).toEqual([secondWait]);
    expect((await journal(record.id)).filter((data) => data.delivery_id === firstId).map((data) => [data.outcome, data.status])).toEqual([['retry', 'pending'], ['rejected', 'failed']]);
  });

  it('does not send an approval request whose build was cancelled before its first attempt', async () => {
    const { announcer, build, store, outbox } = setup();
    const record = await build();
    const requestedAt = new Date().toISOString();
    // Committed while nobody listened; step-8-like, the request is announced only now.
    await store.awaitApproval(record.id, { gate: 'after_spec', step_number: 2, requested_at: requestedAt, summary: 'Review the spec.' });
    await store.cancel(record.id);
    const webhook = new ScriptedNotifier('webhook');
    const approval = { gate: 'after_spec', summary: 'Review the spec.', requestedAt } as const;
    const [report] = await announcer([webhook], {}, countingLinks()).announce(
      { build: (await store.get(record.id))!, event: 'waiting_approval', occurrence: 1, summary: 'waits', approval },
      { wait: true },
    );
    expect(report).toMatchObject({ status: 'failed', detail: `obsolete, not sent: build ${record.id} is past the wait at the after_spec gate from ${requestedAt} this approval request is for (it is cancelled)` });
    expect(webhook.sent).toEqual([]);
    expect(await outbox.pending()).toEqual([]);
  });
});
