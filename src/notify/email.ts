/**
 * The `email` channel: one message over SMTP (SMTP_URL) via nodemailer, from
 * NOTIFY_EMAIL_FROM to NOTIFY_EMAIL_TO, as plain text and HTML with the same facts.
 * SMTP_URL is the operator's relay (often on this machine), so it is not put through
 * the target guard; its credentials are in config.secrets and never in a detail.
 * Off loopback, `smtp://` must upgrade with STARTTLS before AUTH: a relay (or a man in
 * the middle stripping the offer) that does not gets no credentials and no message.
 */
import { createHash } from 'node:crypto';
import type { SMTPSentMessageInfo, Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { CancelledError } from '../domain/errors.js';
import type { AnnouncedEvent, BuildNotification, DeliveryAttempt } from '../domain/notification.js';
import type { Notifier } from '../domain/ports/notifier.js';
import { isLoopbackHost } from './address-ranges.js';
import { attempt } from './attempt.js';
import { renderMessage, renderText, type RenderedMessage } from './message.js';

export interface EmailOptions {
  /** smtp://user:pass@host:587 (STARTTLS required unless the host is loopback) or smtps://…:465. */
  smtpUrl: string;
  from: string;
  to: readonly string[];
  events: readonly AnnouncedEvent[];
  /** Per attempt: connecting, the greeting, each wait on the server, and the whole send. */
  timeoutMs: number;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const anchor = (url: string, label: string, style = '') => `<a href="${escapeHtml(url)}"${style ? ` style="${style}"` : ''}>${escapeHtml(label)}</a>`;

const BUTTON = 'display:inline-block;padding:8px 14px;margin-right:8px;border-radius:4px;background:#1f6feb;color:#fff;text-decoration:none';

/** The HTML part: everything that came from the build escaped, links only to http(s) URLs. */
export function renderHtml(message: RenderedMessage): string {
  const rows = message.facts
    .map(({ label, value, url }) => `<tr><th align="left" style="padding-right:12px">${escapeHtml(label)}</th><td>${url ? anchor(url, value) : escapeHtml(value)}</td></tr>`)
    .join('');
  const parts = [
    `<h2>${escapeHtml(message.title)}</h2>`,
    `<p>${escapeHtml(message.summary)}</p>`,
    `<table>${rows}</table>`,
  ];
  if (message.reason) parts.push(`<p><strong>Reason:</strong> ${escapeHtml(message.reason)}</p>`);
  if (message.review) parts.push(`<p><strong>To review:</strong> ${escapeHtml(message.review)}</p>`);
  if (message.links.length > 0) parts.push(`<p>${message.links.map((link) => anchor(link.url, link.label, BUTTON)).join(' ')}</p>`);
  if (message.linkNote) parts.push(`<p><small>${escapeHtml(message.linkNote)}</small></p>`);
  return `<!doctype html><html><body style="font-family:sans-serif">${parts.join('\n')}</body></html>`;
}

/** nodemailer's transport options: timeouts, no file or URL access, and TLS before AUTH off loopback. */
export function smtpTransportOptions(smtpUrl: string, timeoutMs: number): SMTPTransport.Options {
  const { protocol, hostname } = new URL(smtpUrl);
  return {
    url: smtpUrl,
    // smtps:// is TLS from the first byte; plain smtp:// to this machine never leaves it.
    ...(protocol === 'smtp:' && !isLoopbackHost(hostname) ? { requireTLS: true } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    logger: false,
    debug: false,
    // Nothing of a message is read from files or URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/** SMTP 4xx and connection trouble may pass later; 5xx and a refused envelope will not. */
export function attemptOfSmtpError(error: unknown): DeliveryAttempt {
  const { responseCode, code, originalCode } = (error ?? {}) as { responseCode?: unknown; code?: unknown; originalCode?: unknown };
  // A relay without STARTTLS (or a path that strips it) stays that way for this configuration.
  if (code === 'ETLS') return attempt('rejected', 'SMTP refused: the server did not upgrade to TLS (STARTTLS is required off loopback)');
  if (typeof responseCode === 'number' && responseCode >= 400) {
    return attempt(responseCode < 500 ? 'retry' : 'rejected', `SMTP ${responseCode}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
  if (code === 'ETIMEDOUT') return attempt('retry', 'SMTP timed out');
  if (code === 'EAUTH' || code === 'EENVELOPE' || code === 'EMESSAGE') return attempt('rejected', `SMTP refused (${code})`);
  // nodemailer's own code (ESOCKET, ECONNECTION), then the system's underneath (ECONNREFUSED).
  const names = [code, originalCode].filter((name): name is string => typeof name === 'string' && /^[A-Z_]{2,40}$/.test(name));
  return attempt('retry', `SMTP connection error (${names.length > 0 ? names.join(': ') : 'connection failed'})`);
}

/** Same delivery id, same Message-ID: mail clients and relays drop the duplicate of a retry. */
function messageIdOf(deliveryId: string): string {
  return `<${createHash('sha256').update(deliveryId).digest('hex').slice(0, 32)}@autonomous-executor>`;
}

export class EmailNotifier implements Notifier {
  readonly channel = 'email';
  readonly events: readonly AnnouncedEvent[];
  private transport: Promise<Transporter<SMTPSentMessageInfo>> | undefined;

  constructor(private readonly options: EmailOptions) {
    this.events = options.events;
  }

  /** nodemailer is loaded on the first message, so a start without email pays nothing for it. */
  private transporter(): Promise<Transporter<SMTPSentMessageInfo>> {
    this.transport ??= import('nodemailer').then(({ createTransport }) =>
      createTransport(smtpTransportOptions(this.options.smtpUrl, this.options.timeoutMs)),
    );
    return this.transport;
  }

  async deliver(notification: BuildNotification, signal: AbortSignal): Promise<DeliveryAttempt> {
    if (signal.aborted) throw new CancelledError();
    const message = renderMessage(notification);
    const transport = await this.transporter();
    const sending = transport.sendMail({
      from: this.options.from,
      to: [...this.options.to],
      subject: message.title.replace(/[\r\n]+/g, ' '),
      text: renderText(message),
      html: renderHtml(message),
      messageId: messageIdOf(notification.deliveryId),
      headers: { 'X-Executor-Delivery': notification.deliveryId, 'X-Executor-Event': notification.event },
    });
    try {
      const info = await raceAbort(sending, signal, this.options.timeoutMs);
      const code = /^\d{3}/.exec(info.response)?.[0] ?? '250';
      const rejected = info.rejected.length > 0 ? `, ${info.rejected.length} recipient(s) refused` : '';
      return attempt('delivered', `SMTP ${code}: accepted for ${info.accepted.length} recipient(s)${rejected}`);
    } catch (error) {
      if (signal.aborted) throw new CancelledError();
      return attemptOfSmtpError(error);
    }
  }
}

/** nodemailer takes no signal: the attempt ends at the caller's abort or its own deadline. */
async function raceAbort<T>(work: Promise<T>, signal: AbortSignal, timeoutMs: number): Promise<T> {
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  let stop: (() => void) | undefined;
  const stopped = new Promise<never>((_resolve, reject) => {
    stop = () => reject(Object.assign(new Error('SMTP timed out'), { code: 'ETIMEDOUT' }));
    deadline.addEventListener('abort', stop, { once: true });
  });
  try {
    return await Promise.race([work, stopped]);
  } finally {
    if (stop) deadline.removeEventListener('abort', stop);
    // The losing send still settles later; nothing may be left to reject unheard.
    void work.catch(() => undefined);
    void stopped.catch(() => undefined);
  }
}
