/** The notification channels the configuration asks for: `log` always, webhook, Slack and email when configured. */
import type { Logger } from 'pino';
import type { Notifier } from '../domain/ports/notifier.js';
import { EmailNotifier } from '../notify/email.js';
import { LogNotifier } from '../notify/log.js';
import { SlackNotifier } from '../notify/slack.js';
import { TargetGuard, TargetRefusedError } from '../notify/target-guard.js';
import { WebhookNotifier } from '../notify/webhook.js';
import type { Config } from './config.js';

export interface NotifierOptions {
  /** Where approval links point (the executor's public URL); links arrive in each notification, so channels need nothing of it yet. */
  approvalLinkBase?: string;
  /** Another guard than NOTIFY_ALLOW_PRIVATE gives (tests: one with a fixed resolver). */
  guard?: TargetGuard;
}

/** A target the URL alone already condemns is said at start; deliveries to it are refused (and recorded) anyway. */
function warnIfRefused(guard: TargetGuard, log: Logger, channel: string, url: string): void {
  try {
    guard.checkUrl(url);
  } catch (error) {
    if (!(error instanceof TargetRefusedError)) throw error;
    log.warn({ channel, reason: error.message }, `the ${channel} notification target will be refused`);
  }
}

export function createNotifiers(config: Config, log: Logger, options: NotifierOptions = {}): Notifier[] {
  const notifyLog = log.child({ component: 'notify' });
  const guard = options.guard ?? new TargetGuard({ allowPrivate: config.NOTIFY_ALLOW_PRIVATE });
  const timeoutMs = config.NOTIFY_TIMEOUT_SECONDS * 1000;
  const notifiers: Notifier[] = [new LogNotifier(notifyLog)];
  if (config.NOTIFY_WEBHOOK_URL && config.NOTIFY_WEBHOOK_SECRET) {
    warnIfRefused(guard, notifyLog, 'webhook', config.NOTIFY_WEBHOOK_URL);
    notifiers.push(
      new WebhookNotifier({ url: config.NOTIFY_WEBHOOK_URL, secret: config.NOTIFY_WEBHOOK_SECRET, events: config.NOTIFY_WEBHOOK_EVENTS, guard, timeoutMs }),
    );
  }
  if (config.SLACK_WEBHOOK_URL) {
    warnIfRefused(guard, notifyLog, 'slack', config.SLACK_WEBHOOK_URL);
    notifiers.push(new SlackNotifier({ url: config.SLACK_WEBHOOK_URL, events: config.NOTIFY_SLACK_EVENTS, guard, timeoutMs }));
  }
  if (config.SMTP_URL && config.NOTIFY_EMAIL_FROM && config.NOTIFY_EMAIL_TO?.length) {
    notifiers.push(
      new EmailNotifier({ smtpUrl: config.SMTP_URL, from: config.NOTIFY_EMAIL_FROM, to: config.NOTIFY_EMAIL_TO, events: config.NOTIFY_EMAIL_EVENTS, timeoutMs }),
    );
  }
  return notifiers;
}
