import { afterEach, describe, expect, it } from 'vitest';
import { ANNOUNCED_EVENTS, type BuildNotification } from '../../src/domain/notification.js';
import { SlackNotifier } from '../../src/notify/slack.js';
import { TargetGuard } from '../../src/notify/target-guard.js';
import { startReceiver, type Receiver, type Reply } from '../support/notify-receiver.js';
import { completedNotification, failedNotification, waitingNotification } from '../support/notifications.js';

const live = () => new AbortController().signal;

interface TextObject {
  type: string;
  text: string;
}
interface SlackBlock {
  type: string;
  text?: TextObject;
  fields?: TextObject[];
  elements?: Array<{ type: string; text: TextObject | string; url?: string; style?: string }>;
}
interface SlackPayload {
  text: string;
  blocks: SlackBlock[];
}

describe('SlackNotifier', () => {
  let receiver: Receiver;
  afterEach(async () => {
    await receiver?.close();
  });

  /** A stand-in for hooks.slack.com on loopback; the path plays the secret part of the URL. */
  async function deliver(notification: BuildNotification, replies: Reply[] = []) {
    receiver = await startReceiver(replies);
    const notifier = new SlackNotifier({
      url: `${receiver.origin}/services/T000/B000/secret-part`,
      events: ANNOUNCED_EVENTS,
      guard: new TargetGuard({ allowPrivate: true }),
      timeoutMs: 2_000,
    });
    const attempt = await notifier.deliver(notification, live());
    const payloads = receiver.received.map((request) => JSON.parse(request.body) as SlackPayload);
    return { attempt, payloads };
  }

  const fields = (payload: SlackPayload) => payload.blocks.find((block) => block.fields)?.fields?.map((field) => field.text) ?? [];
  const sections = (payload: SlackPayload) => payload.blocks.filter((block) => block.type === 'section' && block.text).map((block) => block.text!.text);
  const buttons = (payload: SlackPayload) =>
    payload.blocks.find((block) => block.type === 'actions')?.elements?.map((button) => ({ label: (button.text as TextObject).text, url: button.url, style: button.style })) ?? [];

  it('posts a Block Kit message with droplet, outcome, url, duration, cost and a link to the build', async () => {
    const notification = completedNotification();
    const { attempt, payloads } = await deliver(notification);
    expect(attempt).toEqual({ outcome: 'delivered', detail: 'HTTP 200' });
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.url).toBe('/services/T000/B000/secret-part');
    expect(receiver.received[0]!.headers['content-type']).toBe('application/json');
    expect(receiver.received[0]!.headers['user-agent']).toContain('@slack:webhook');
    const [payload] = payloads as [SlackPayload];
    expect(payload.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'analytics-engine: build completed', emoji: true } });
    expect(sections(payload)[0]).toBe('Droplet analytics-engine is live — “ünïcode” included.');
    expect(fields(payload)).toEqual([
      '*Droplet*\nanalytics-engine (#13)',
      '*Outcome*\ncompleted',
      '*URL*\n<http://droplets.example:41001|http://droplets.example:41001>',
      '*Duration*\n3 min 20 s',
      '*Cost*\n$0.0420',
      '*Repository*\ngit@github.com:fleet/analytics-engine.git',
      `*Build*\n<${notification.buildUrl}|${notification.buildId}>`,
    ]);
    expect(buttons(payload)).toEqual([{ label: 'View build', url: notification.buildUrl, style: undefined }]);
    // The fallback text (notifications, clients without blocks) holds the same facts.
    expect(payload.text).toContain('analytics-engine: build completed');
    expect(payload.text).toContain('Duration: 3 min 20 s');
    expect(payload.text).toContain(`<${notification.buildUrl}|View build>`);
    expect(payload.text).toContain(`Build: <${notification.buildUrl}|${notification.buildId}>`);
  });

  it('shows the failure reason', async () => {
    const { payloads } = await deliver(failedNotification());
    const [payload] = payloads as [SlackPayload];
    expect(payload.blocks[0]!.text!.text).toBe('analytics-engine: build failed');
    expect(fields(payload)).toContain('*Outcome*\nfailed');
    expect(fields(payload)).toContain('*URL*\nnot deployed');
    expect(sections(payload)).toContain('*Reason*\nVERIFICATION_FAILED in step verifier: 3 of 12 tests failed after 10 attempts');
  });

  it('asks for approval with what to review and approve / reject buttons carrying the signed links', async () => {
    const notification = waitingNotification();
    const { payloads } = await deliver(notification);
    const [payload] = payloads as [SlackPayload];
    expect(payload.blocks[0]!.text!.text).toBe('analytics-engine: waiting for approval (after_spec)');
    expect(fields(payload)).toContain('*Outcome*\nwaiting for approval at after_spec');
    expect(sections(payload)).toContain('*To review*\nGate after_spec: Review SPEC.md: 4 resources, 18 acceptance criteria.');
    expect(buttons(payload)).toEqual([
      { label: 'View build', url: notification.buildUrl, style: undefined },
      { label: 'Approve', url: notification.approval!.links!.approveUrl, style: 'primary' },
      { label: 'Reject', url: notification.approval!.links!.rejectUrl, style: 'danger' },
    ]);
    const context = payload.blocks.find((block) => block.type === 'context')!;
    expect(context.elements).toEqual([{ type: 'mrkdwn', text: 'The approve and reject links work once and expire at 2026-01-02T00:10:00.000Z.' }]);
    expect(payload.text).toContain(`<${notification.approval!.links!.approveUrl}|Approve>`);
    expect(payload.text).toContain(`<${notification.approval!.links!.rejectUrl}|Reject>`);
  });

  it('says how to approve when no signed links are configured', async () => {
    const notification = waitingNotification({ approval: { gate: 'before_deploy', summary: 'Review the verified build.', links: null } });
    const { payloads } = await deliver(notification);
    const [payload] = payloads as [SlackPayload];
    expect(buttons(payload).map((button) => button.label)).toEqual(['View build']);
    expect(JSON.stringify(payload.blocks)).toContain(`POST /executor/builds/${notification.buildId}/approve`);
  });

  it('escapes mrkdwn so build text cannot mention @channel or forge links', async () => {
    const { payloads } = await deliver(failedNotification({ summary: 'Failed <!channel> & <http://evil.example|click>' }));
    const [payload] = payloads as [SlackPayload];
    expect(sections(payload)[0]).toBe('Failed &lt;!channel&gt; &amp; &lt;http://evil.example|click&gt;');
  });

  it('escapes the fallback text too: the only links in it are the ones the executor made', async () => {
    const injected = 'Done <!channel> <@U024BE7LH> <https://evil.example/approve|Approve> & <!subteam^S0|@oncall>';
    const notification = waitingNotification({
      dropletName: 'evil<!here>',
      summary: injected,
      deploymentUrl: 'https://droplets.example/x|<!channel>',
      approval: { gate: 'after_spec', summary: injected, links: waitingNotification().approval!.links },
    });
    const { payloads } = await deliver(notification);
    const { text } = payloads[0]!;
    // Every `<` in the text opens a link the executor made, to a URL it made.
    const links = [...text.matchAll(/<([^<>|]*)\|([^<>]*)>/g)].map((match) => match[1]);
    expect(text.split('<').length - 1).toBe(links.length);
    expect(links).toEqual([
      'https://droplets.example/x%7C%3C!channel%3E',
      notification.buildUrl,
      notification.buildUrl,
      notification.approval!.links!.approveUrl,
      notification.approval!.links!.rejectUrl,
    ]);
    expect(text).toContain('Done &lt;!channel&gt; &lt;@U024BE7LH&gt; &lt;https://evil.example/approve|Approve&gt; &amp; &lt;!subteam^S0|@oncall&gt;');
    expect(text).toContain('evil&lt;!here&gt;: waiting for approval (after_spec)');
    expect(text).not.toMatch(/<[!@#]/);
  });

  it('keeps the fallback text within Slack\'s bounds without cutting an escape or a link in two', async () => {
    const { payloads } = await deliver(failedNotification({ summary: '&'.repeat(5_000), failure: { code: 'X', message: '<'.repeat(5_000), step: null } }));
    const { text } = payloads[0]!;
    expect(text.length).toBeLessThanOrEqual(3000);
    expect(text).toContain(`<${completedNotification().buildUrl}|View build>`);
    const withoutLinks = text.replace(/<https?:\/\/[^<>|]+\|[^<>]*>/g, '');
    expect(withoutLinks.replace(/&(amp|lt|gt);/g, '')).not.toMatch(/[&<>]/);
  });

  it('links only http(s) URLs', async () => {
    const { payloads } = await deliver(completedNotification({ deploymentUrl: 'javascript:alert(1)' }));
    expect(fields(payloads[0]!)).toContain('*URL*\njavascript:alert(1)');
  });

  it.each([
    [{ status: 500, body: 'internal_error' }, { outcome: 'retry', detail: 'HTTP 500: internal_error' }],
    [{ status: 429, body: 'rate_limited' }, { outcome: 'retry', detail: 'HTTP 429: rate_limited' }],
    [{ status: 404, body: 'no_service' }, { outcome: 'rejected', detail: 'HTTP 404: no_service' }],
    [{ status: 400, body: 'invalid_payload' }, { outcome: 'rejected', detail: 'HTTP 400: invalid_payload' }],
    [{ status: 302, headers: { location: 'http://127.0.0.1:1/' } }, { outcome: 'rejected', detail: 'HTTP 302: redirects are not followed' }],
  ])('answers %j → %j in one attempt (the library retries nothing)', async (reply, expected) => {
    const { attempt } = await deliver(completedNotification(), [reply]);
    expect(attempt).toEqual(expected);
    expect(receiver.received).toHaveLength(1);
  });

  it('times out as worth a retry', async () => {
    receiver = await startReceiver([{ status: 200, hang: true }]);
    const notifier = new SlackNotifier({ url: `${receiver.origin}/services/x`, events: ['failed'], guard: new TargetGuard({ allowPrivate: true }), timeoutMs: 300 });
    expect(await notifier.deliver(completedNotification(), live())).toEqual({ outcome: 'retry', detail: 'timed out after 300 ms' });
    expect(notifier.events).toEqual(['failed']);
  });

  it('is refused, sending nothing, on loopback without NOTIFY_ALLOW_PRIVATE', async () => {
    receiver = await startReceiver();
    const notifier = new SlackNotifier({ url: `${receiver.origin}/services/x`, events: ANNOUNCED_EVENTS, guard: new TargetGuard({ allowPrivate: false }), timeoutMs: 2_000 });
    expect(await notifier.deliver(completedNotification(), live())).toEqual({
      outcome: 'rejected',
      detail: 'target refused: 127.0.0.1 is a loopback address (NOTIFY_ALLOW_PRIVATE=true allows it)',
    });
    expect(receiver.received).toHaveLength(0);
  });
});
