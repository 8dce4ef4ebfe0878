/**
 * Undelivered announcements survive a crash: the real service (a child process) finishes
 * builds whose webhook is down or answers 503, is killed with SIGKILL, and once started
 * again on the same data dir delivers them, under the same delivery ids, the attempts
 * counted on in the journal.
 */
import { rmSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/domain/events.js';
import type { BuildView } from '../../src/domain/status.js';
import type { DeliveryReport } from '../../src/pipeline/announcement.js';
import { freePort } from '../../src/sandbox/ports.js';
import { type ExecutorProcess, spawnExecutor } from '../support/executor-process.js';
import { api, submitBuild, tempDataDir, waitForStatus } from '../support/executor.js';
import { signedWith, WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'whsec-restart-91c3e7';
const dataDir = tempDataDir();
const receiver = new WebhookReceiver();
const running: ExecutorProcess[] = [];

afterAll(async () => {
  for (const child of running) await child.kill9();
  await receiver.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

type Attempted = Extract<BuildEvent, { type: 'notification.attempted' }>['data'];

async function webhookAttempts(baseUrl: string, buildId: string): Promise<Attempted[]> {
  const events = (await api<BuildEvent[]>(baseUrl, `/executor/builds/${buildId}/events`)).body;
  return events.flatMap((event) => (event.type === 'notification.attempted' && event.data.channel === 'webhook' ? [event.data] : []));
}

/** The webhook's attempts once the last one says delivered (polls the journal). */
async function deliveredAttempts(baseUrl: string, buildId: string): Promise<Attempted[]> {
  for (;;) {
    const attempts = await webhookAttempts(baseUrl, buildId);
    if (attempts.at(-1)?.status === 'delivered') return attempts;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const webhookReport = (view: BuildView) => (view.steps[7]!.details.deliveries as DeliveryReport[]).find((delivery) => delivery.channel === 'webhook')!;

it('delivers after a restart what the receiver could not take before the crash', async () => {
  await receiver.start();
  const port = await freePort();
  const env = {
    NOTIFY_WEBHOOK_URL: receiver.url,
    NOTIFY_WEBHOOK_SECRET: SECRET,
    NOTIFY_ALLOW_PRIVATE: 'true',
    NOTIFY_RETRY_BASE_MS: '20',
    DEPLOY_TARGET: 'none',
  };
  const build = (baseUrl: string, name: string) => submitBuild(baseUrl, { architect_intent: `Build ${name} for tracking things`, approval_mode: 'auto', auto_deploy: false });

  // The receiver is down while the first build completes…
  await receiver.stop();
  const first = await spawnExecutor({ dataDir, port, env });
  running.push(first);
  const down = await build(first.baseUrl, 'Plant Journal');
  const downView = await waitForStatus(first.baseUrl, down, ['completed']);
  expect(webhookReport(downView)).toMatchObject({ status: 'pending', attempts: [{ outcome: 'retry' }, { outcome: 'retry' }, { outcome: 'retry' }] });

  // …and answers 503 to everything while the second one does.
  receiver.answer = () => 503;
  await receiver.start();
  const refused = await build(first.baseUrl, 'Book Shelf');
  const refusedView = await waitForStatus(first.baseUrl, refused, ['completed']);
  expect(webhookReport(refusedView)).toMatchObject({ status: 'pending', detail: 'HTTP 503' });

  // What the first process journaled (its background retries may add a few more before the kill).
  const journaledBefore = { [down]: (await webhookAttempts(first.baseUrl, down)).length, [refused]: (await webhookAttempts(first.baseUrl, refused)).length };
  await first.kill9();
  const receivedBefore = receiver.hooks.length;
  receiver.answer = () => 200;

  const second = await spawnExecutor({ dataDir, port, env });
  running.push(second);
  for (const buildId of [down, refused]) {
    const attempts = await deliveredAttempts(second.baseUrl, buildId);
    // Numbered on from the previous process's attempts; all but the last were retries.
    expect(attempts.map((data) => data.attempt)).toEqual(attempts.map((_, index) => index + 1));
    expect(attempts.length).toBeGreaterThan(journaledBefore[buildId]!);
    expect(attempts.slice(0, -1).every((data) => data.outcome === 'retry')).toBe(true);
    // Delivered once, signed, under the delivery id every earlier attempt had.
    const after = receiver.hooks.slice(receivedBefore).filter((hook) => hook.body.build_id === buildId);
    expect(after).toHaveLength(1);
    expect(after[0]!.headers['x-executor-delivery']).toBe(`${buildId}:completed`);
    expect(signedWith(after[0]!, SECRET)).toBe(true);
    expect(new Set(receiver.about(buildId).map((hook) => hook.headers['x-executor-delivery']))).toEqual(new Set([`${buildId}:completed`]));
  }
}, 240_000);
