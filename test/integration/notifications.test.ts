/**
 * Announcing through the real pipeline and the real webhook channel (signed POSTs to a
 * loopback receiver, allowed with NOTIFY_ALLOW_PRIVATE): completions from step 8 with
 * every attempt in its details and the journal, failures with their reason and approval
 * requests with their links from the journal, what each channel is configured to
 * announce, and a resumed step 8 that sends nothing twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/domain/events.js';
import type { BuildView } from '../../src/domain/status.js';
import type { DeliveryReport } from '../../src/pipeline/announcement.js';
import { api, startExecutor, submitBuild, type TestExecutor, waitForStatus, waitForStep } from '../support/executor.js';
import { signedWith, WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'whsec-announce-5f0c2a9d';
const receiver = new WebhookReceiver();
let server: TestExecutor;

const env = (overrides: Record<string, string> = {}) => ({
  NOTIFY_WEBHOOK_URL: receiver.url,
  NOTIFY_WEBHOOK_SECRET: SECRET,
  NOTIFY_ALLOW_PRIVATE: 'true',
  NOTIFY_RETRY_BASE_MS: '20',
  DEPLOY_TARGET: 'none',
  ...overrides,
});

beforeAll(async () => {
  await receiver.start();
  server = await startExecutor(env());
});

afterAll(async () => {
  await server?.close();
  await receiver.stop();
});

type Attempted = Extract<BuildEvent, { type: 'notification.attempted' }>['data'];

async function attemptsOf(baseUrl: string, buildId: string): Promise<Attempted[]> {
  const events = (await api<BuildEvent[]>(baseUrl, `/executor/builds/${buildId}/events`)).body;
  return events.flatMap((event) => (event.type === 'notification.attempted' ? [event.data] : []));
}

/** Polls the journal until `check` holds for the build's notification attempts. */
async function attemptsUntil(baseUrl: string, buildId: string, check: (attempts: Attempted[]) => boolean): Promise<Attempted[]> {
  for (;;) {
    const attempts = await attemptsOf(baseUrl, buildId);
    if (check(attempts)) return attempts;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const deliveriesOf = (view: BuildView) => view.steps[7]!.details.deliveries as DeliveryReport[];

describe('a completed build', () => {
  it('is announced on every configured channel; a receiver answering 503 twice is retried, every attempt shown', async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Garden Planner for seasonal planting', approval_mode: 'auto', auto_deploy: false });
    let seen = 0;
    receiver.answer = (hook) => (hook.body.build_id === buildId && ++seen <= 2 ? 503 : 200);
    const done = await waitForStatus(server.baseUrl, buildId, ['completed']);

    const [log, webhook] = deliveriesOf(done);
    expect(log).toMatchObject({ channel: 'log', status: 'delivered', attempts: [{ attempt: 1, outcome: 'delivered' }] });
    expect(webhook).toMatchObject({ channel: 'webhook', delivery_id: `${buildId}:completed`, status: 'delivered', next_attempt_at: null });
    expect(webhook!.attempts.map((attempt) => [attempt.attempt, attempt.outcome, attempt.detail])).toEqual([
      [1, 'retry', 'HTTP 503'],
      [2, 'retry', 'HTTP 503'],
      [3, 'delivered', 'HTTP 200'],
    ]);

    const hooks = receiver.about(buildId);
    expect(hooks).toHaveLength(3);
    for (const hook of hooks) {
      expect(signedWith(hook, SECRET)).toBe(true);
      expect(hook.headers['x-executor-delivery']).toBe(`${buildId}:completed`);
      expect(hook.headers['x-executor-event']).toBe('completed');
    }
    expect(hooks[2]!.body).toMatchObject({
      event: 'completed',
      droplet_name: done.droplet_name,
      build_url: expect.stringMatching(new RegExp(`/executor/builds/${buildId}/status$`)),
      summary: expect.stringContaining('is built and verified'),
      duration_seconds: expect.any(Number),
      failure: null,
      approval: null,
    });

    const journaled = (await attemptsOf(server.baseUrl, buildId)).filter((data) => data.channel === 'webhook');
    expect(journaled.map((data) => [data.attempt, data.outcome, data.status])).toEqual([[1, 'retry', 'pending'], [2, 'retry', 'pending'], [3, 'delivered', 'delivered']]);
    // The shared secret signs, and is nowhere in what the executor recorded or shows.
    expect(JSON.stringify((await api(server.baseUrl, `/executor/builds/${buildId}/events`)).body)).not.toContain(SECRET);
    expect(JSON.stringify(done)).not.toContain(SECRET);
  });

  it("sends only to the channels the build asks for", async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Garden Planner for seasonal planting', approval_mode: 'auto', auto_deploy: false, notify_channels: ['log'] });
    const done = await waitForStatus(server.baseUrl, buildId, ['completed']);
    expect(deliveriesOf(done).map((delivery) => delivery.channel)).toEqual(['log']);
    expect(receiver.about(buildId)).toEqual([]);
  });

  it('sends nothing twice when step 8 runs again: cancelled mid-delivery, retried from step 8', async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Reading List for books to read', approval_mode: 'auto', auto_deploy: false });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    receiver.answer = async (hook) => {
      if (hook.body.build_id !== buildId) return 200;
      arrived();
      await held;
      return 200;
    };
    await waitForStep(server.baseUrl, buildId, 'complete');
    await reached;
    // Step 8 is waiting for the webhook's answer: the build is cancelled under it.
    expect((await api(server.baseUrl, `/executor/builds/${buildId}`, { method: 'DELETE' })).status).toBe(200);
    await waitForStatus(server.baseUrl, buildId, ['cancelled']);
    release();
    // The delivery went on in the background and is recorded.
    await attemptsUntil(server.baseUrl, buildId, (attempts) => attempts.some((data) => data.channel === 'webhook' && data.status === 'delivered'));

    expect((await api(server.baseUrl, `/executor/builds/${buildId}/retry?from_step=8`, { method: 'POST' })).status).toBe(202);
    const done = await waitForStatus(server.baseUrl, buildId, ['completed']);
    expect(receiver.about(buildId)).toHaveLength(1);
    expect(deliveriesOf(done).map((delivery) => [delivery.channel, delivery.status, delivery.attempts.length])).toEqual([['log', 'delivered', 1], ['webhook', 'delivered', 1]]);
    expect((await attemptsOf(server.baseUrl, buildId)).map((data) => data.channel)).toEqual(['log', 'webhook']);
  });
});

describe('builds announced from the journal', () => {
  it('a failed build: the webhook gets the reason', async () => {
    receiver.answer = () => 200;
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Créer un service de gestion des factures', approval_mode: 'auto', auto_deploy: false });
    const failed = await waitForStatus(server.baseUrl, buildId, ['failed']);
    await attemptsUntil(server.baseUrl, buildId, (attempts) => attempts.filter((data) => data.status === 'delivered').length === 2);
    const events = (await api<BuildEvent[]>(server.baseUrl, `/executor/builds/${buildId}/events`)).body;
    const failure = events.find((event) => event.type === 'build.failed')!;

    const [hook] = receiver.about(buildId);
    expect(receiver.about(buildId)).toHaveLength(1);
    expect(signedWith(hook!, SECRET)).toBe(true);
    expect(hook!.headers['x-executor-delivery']).toBe(`${buildId}:failed:${failure.seq}`);
    expect(hook!.body).toMatchObject({
      event: 'failed',
      failure: { code: 'INTENT_NOT_COVERED', message: failed.error!.message, step: 'spec_generation' },
      summary: expect.stringContaining(failed.error!.message),
    });
    // The attempts come after the build ended, in its journal.
    expect(events.slice(events.indexOf(failure) + 1).map((event) => event.type)).toEqual(['notification.attempted', 'notification.attempted']);
  });

  it('a build waiting for approval: the webhook gets what to review and the one-click links', async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Habit Tracker for daily streaks', approval_mode: 'checkpoints', auto_deploy: false });
    const waiting = await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    await attemptsUntil(server.baseUrl, buildId, (attempts) => attempts.some((data) => data.channel === 'webhook' && data.status === 'delivered'));
    const [hook] = receiver.about(buildId);
    expect(hook!.headers['x-executor-event']).toBe('waiting_approval');
    expect(hook!.body.approval).toMatchObject({
      gate: 'after_spec',
      summary: waiting.pending_approval!.summary,
      approve_url: expect.stringContaining('/executor/approvals/'),
      reject_url: expect.stringContaining('/executor/approvals/'),
    });
    await api(server.baseUrl, `/executor/builds/${buildId}`, { method: 'DELETE' });
  });
});

describe('what a channel is configured to announce', () => {
  it('NOTIFY_WEBHOOK_EVENTS=completed: an approval request reaches the log but not the webhook', async () => {
    const other = await startExecutor(env({ NOTIFY_WEBHOOK_EVENTS: 'completed' }));
    try {
      const buildId = await submitBuild(other.baseUrl, { architect_intent: 'Build Habit Tracker for daily streaks', approval_mode: 'checkpoints', auto_deploy: false });
      await waitForStatus(other.baseUrl, buildId, ['waiting_approval']);
      const attempts = await attemptsUntil(other.baseUrl, buildId, (found) => found.length > 0);
      expect(attempts.map((data) => [data.channel, data.event, data.status])).toEqual([['log', 'waiting_approval', 'delivered']]);
      expect(receiver.about(buildId)).toEqual([]);
      await api(other.baseUrl, `/executor/builds/${buildId}`, { method: 'DELETE' });
    } finally {
      await other.close();
    }
  });
});
