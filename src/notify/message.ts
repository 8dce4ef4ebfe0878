/**
 * A BuildNotification rendered once for people (Slack, email, the log line): a title,
 * the facts, why it failed or what to review, and the links. Channels only lay it out.
 */
import type { AnnouncedEvent, BuildNotification } from '../domain/notification.js';

export interface MessageFact {
  label: string;
  value: string;
  /** Shown as a link when set (always http or https). */
  url?: string;
}

export interface MessageLink {
  label: string;
  url: string;
  /** How a button shows it: `primary` for approve, `danger` for reject. */
  style?: 'primary' | 'danger';
}

export interface RenderedMessage {
  title: string;
  summary: string;
  facts: MessageFact[];
  /** `failed`: the code, the step and the message. */
  reason: string | null;
  /** `waiting_approval`: the gate and what the approver is asked to look at. */
  review: string | null;
  /** The build's status page, then approve and reject when the build waits. */
  links: MessageLink[];
  /** One line under the links (when the approval links expire, or how to approve without them). */
  linkNote: string | null;
}

const OUTCOMES: Record<AnnouncedEvent, string> = {
  completed: 'completed',
  failed: 'failed',
  waiting_approval: 'waiting for approval',
};

/** Only http(s) URLs become links: anything else is shown as text. */
export function linkable(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** `45 s`, `3 min 20 s`, `1 h 05 min`. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return 'unknown';
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')} min`;
}

/** `$0.0420` below a dollar, `$12.34` above. */
export function formatCost(usd: number | null): string {
  if (usd === null || !Number.isFinite(usd)) return 'not recorded';
  return `$${usd.toFixed(usd < 1 ? 4 : 2)}`;
}

function titleOf(notification: BuildNotification): string {
  const name = notification.dropletName;
  if (notification.event === 'completed') return `${name}: build completed`;
  if (notification.event === 'failed') return `${name}: build failed`;
  return `${name}: waiting for approval${notification.approval ? ` (${notification.approval.gate})` : ''}`;
}

function factsOf(notification: BuildNotification): MessageFact[] {
  const outcome = OUTCOMES[notification.event];
  const facts: MessageFact[] = [
    { label: 'Droplet', value: `${notification.dropletName} (#${notification.dropletId})` },
    { label: 'Outcome', value: notification.approval ? `${outcome} at ${notification.approval.gate}` : outcome },
    { label: 'URL', value: notification.deploymentUrl ?? 'not deployed', url: linkable(notification.deploymentUrl) },
    { label: 'Duration', value: formatDuration(notification.durationSeconds) },
    { label: 'Cost', value: formatCost(notification.costUsd) },
  ];
  if (notification.repositoryUrl) {
    facts.push({ label: 'Repository', value: notification.repositoryUrl, url: linkable(notification.repositoryUrl) });
  }
  facts.push({ label: 'Build', value: notification.buildId, url: linkable(notification.buildUrl) });
  return facts.map(({ url, ...fact }) => (url ? { ...fact, url } : fact));
}

function reasonOf({ failure }: BuildNotification): string | null {
  if (!failure) return null;
  return `${failure.code}${failure.step ? ` in step ${failure.step}` : ''}: ${failure.message}`;
}

function linksOf(notification: BuildNotification): { links: MessageLink[]; linkNote: string | null } {
  const links: MessageLink[] = [];
  const build = linkable(notification.buildUrl);
  if (build) links.push({ label: 'View build', url: build });
  const approval = notification.approval;
  if (!approval) return { links, linkNote: null };
  const approve = linkable(approval.links?.approveUrl);
  const reject = linkable(approval.links?.rejectUrl);
  if (!approval.links || !approve || !reject) {
    return { links, linkNote: `Approve or reject through the executor's API (POST /executor/builds/${notification.buildId}/approve).` };
  }
  links.push({ label: 'Approve', url: approve, style: 'primary' }, { label: 'Reject', url: reject, style: 'danger' });
  return { links, linkNote: `The approve and reject links work once and expire at ${approval.links.expiresAt}.` };
}

export function renderMessage(notification: BuildNotification): RenderedMessage {
  const approval = notification.approval;
  return {
    title: titleOf(notification),
    summary: notification.summary,
    facts: factsOf(notification),
    reason: reasonOf(notification),
    review: approval ? `Gate ${approval.gate}: ${approval.summary}` : null,
    ...linksOf(notification),
  };
}

/** The plain-text form (email text part): the same facts, one per line. */
export function renderText(message: RenderedMessage): string {
  const lines = [message.title, '', message.summary, ''];
  for (const fact of message.facts) lines.push(`${fact.label}: ${fact.value}${fact.url && fact.url !== fact.value ? ` <${fact.url}>` : ''}`);
  if (message.reason) lines.push('', `Reason: ${message.reason}`);
  if (message.review) lines.push('', `To review: ${message.review}`);
  if (message.links.length > 0) lines.push('');
  for (const link of message.links) lines.push(`${link.label}: ${link.url}`);
  if (message.linkNote) lines.push('', message.linkNote);
  return `${lines.join('\n')}\n`;
}

/**
 * A notification as JSON, in the API's snake_case: the webhook's body, and (without the
 * signed links, which are bearer capabilities) the log line's fields.
 */
export function notificationJson(notification: BuildNotification, { links }: { links: boolean }): Record<string, unknown> {
  const { approval, failure } = notification;
  return {
    delivery_id: notification.deliveryId,
    event: notification.event,
    build_id: notification.buildId,
    droplet_id: notification.dropletId,
    droplet_name: notification.dropletName,
    build_url: notification.buildUrl,
    deployment_url: notification.deploymentUrl,
    repository_url: notification.repositoryUrl,
    summary: notification.summary,
    duration_seconds: notification.durationSeconds,
    cost_usd: notification.costUsd,
    intent_coverage: notification.intentCoverage,
    failure: failure ? { code: failure.code, message: failure.message, step: failure.step } : null,
    approval: approval
      ? {
          gate: approval.gate,
          summary: approval.summary,
          ...(links && {
            approve_url: approval.links?.approveUrl ?? null,
            reject_url: approval.links?.rejectUrl ?? null,
            links_expire_at: approval.links?.expiresAt ?? null,
          }),
        }
      : null,
    at: notification.at,
  };
}
