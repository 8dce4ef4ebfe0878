/**
 * The `slack` channel: an incoming webhook (SLACK_WEBHOOK_URL) through @slack/webhook,
 * as a Block Kit message. The library's request goes through the target guard: it is
 * handed a fetch that POSTs with `guardedPost`, and it retries nothing (one attempt).
 */
import { IncomingWebhook, type FetchFunction, type IncomingWebhookSendArguments } from '@slack/webhook';
import { CancelledError } from '../domain/errors.js';
import type { AnnouncedEvent, BuildNotification, DeliveryAttempt } from '../domain/notification.js';
import type { Notifier } from '../domain/ports/notifier.js';
import { attempt } from './attempt.js';
import { attemptOf, guardedPost, type PostOutcome } from './guarded-post.js';
import { renderMessage, type MessageFact, type RenderedMessage } from './message.js';
import type { TargetGuard } from './target-guard.js';

export interface SlackOptions {
  /** SLACK_WEBHOOK_URL: a secret (the path is the credential), never logged or shown. */
  url: string;
  events: readonly AnnouncedEvent[];
  guard: TargetGuard;
  timeoutMs: number;
}

type Block = NonNullable<IncomingWebhookSendArguments['blocks']>[number];
type FetchResponse = Awaited<ReturnType<FetchFunction>>;

/** Slack's mrkdwn control characters; escaping them also keeps `<!channel>` out. */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** `<url|label>`, with the characters that would end the link encoded. */
function mrkdwnLink(url: string, label: string): string {
  return `<${url.replace(/[|<>]/g, (c) => encodeURIComponent(c))}|${escapeMrkdwn(label)}>`;
}

function factField({ label, value, url }: MessageFact): { type: 'mrkdwn'; text: string } {
  return { type: 'mrkdwn', text: cut(`*${label}*\n${url ? mrkdwnLink(url, value) : escapeMrkdwn(value)}`, 2000) };
}

const section = (text: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text: cut(text, 3000) } });

/** The Block Kit message: header, summary, facts, reason or review, link buttons. */
export function slackBlocks(message: RenderedMessage): Block[] {
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(message.title, 150), emoji: true } },
    section(escapeMrkdwn(message.summary)),
    // A section holds at most 10 fields.
    { type: 'section', fields: message.facts.slice(0, 10).map(factField) },
  ];
  if (message.reason) blocks.push(section(`*Reason*\n${escapeMrkdwn(message.reason)}`));
  if (message.review) blocks.push(section(`*To review*\n${escapeMrkdwn(message.review)}`));
  if (message.links.length > 0) {
    blocks.push({
      type: 'actions',
      elements: message.links.map((link, index) => ({
        type: 'button',
        text: { type: 'plain_text', text: link.label },
        url: link.url,
        action_id: `link-${index}`,
        ...(link.style ? { style: link.style } : {}),
      })),
    });
  }
  if (message.linkNote) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(message.linkNote) }] });
  return blocks;
}

/** Most of the fallback text Slack takes; a line that would pass it is left out whole, so no escape or link is cut in two. */
const FALLBACK_LIMIT = 3000;

/**
 * The top-level `text` (notifications, clients without blocks). Slack parses it as
 * mrkdwn too, so it is built from escaped pieces like the blocks: the only links in it
 * are the ones made here, as `<url|label>`.
 */
export function slackFallback(message: RenderedMessage): string {
  const text = (raw: string, max = 500) => escapeMrkdwn(cut(raw, max));
  const lines = [text(message.title, 150), text(message.summary)];
  for (const fact of message.facts) lines.push(`${text(fact.label, 40)}: ${fact.url ? mrkdwnLink(fact.url, cut(fact.value, 200)) : text(fact.value, 200)}`);
  if (message.reason) lines.push(`Reason: ${text(message.reason)}`);
  if (message.review) lines.push(`To review: ${text(message.review)}`);
  if (message.links.length > 0) lines.push(message.links.map((link) => mrkdwnLink(link.url, link.label)).join(' · '));
  if (message.linkNote) lines.push(text(message.linkNote));
  const kept: string[] = [];
  let length = 0;
  for (const line of lines) {
    if (length + line.length + 1 > FALLBACK_LIMIT) continue;
    length += line.length + 1;
    kept.push(line);
  }
  return kept.join('\n');
}

function asFetchResponse(url: string, status: number, body: string): FetchResponse {
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: '',
    url,
    headers: { get: () => null, entries: () => [] },
    text: async () => body,
    json: async () => JSON.parse(body) as unknown,
    arrayBuffer: async () => new TextEncoder().encode(body).buffer,
  };
}

export class SlackNotifier implements Notifier {
  readonly channel = 'slack';
  readonly events: readonly AnnouncedEvent[];

  constructor(private readonly options: SlackOptions) {
    this.events = options.events;
  }

  async deliver(notification: BuildNotification, signal: AbortSignal): Promise<DeliveryAttempt> {
    const message = renderMessage(notification);
    let outcome: PostOutcome | undefined;
    // The library builds and sends the payload; the guarded POST records how it went.
    const fetch: FetchFunction = async (target, init) => {
      outcome = await guardedPost(this.options.guard, target, {
        headers: init?.headers ?? { 'content-type': 'application/json' },
        body: typeof init?.body === 'string' ? init.body : '',
        timeoutMs: this.options.timeoutMs,
        signal,
      });
      if (outcome.kind !== 'response') throw new Error(outcome.kind);
      return asFetchResponse(String(target), outcome.status, outcome.body);
    };
    const webhook = new IncomingWebhook(this.options.url, { fetch, retryConfig: { retries: 0 } });
    try {
      await webhook.send({ text: slackFallback(message), blocks: slackBlocks(message), unfurl_links: false });
    } catch (error) {
      if (signal.aborted) throw new CancelledError();
      if (!outcome) return attempt('retry', `slack client error: ${(error as Error).name}`);
    }
    return outcome ? attemptOf(outcome) : attempt('retry', 'not sent');
  }
}
