/** The `log` channel: one structured line in the executor's own log; always delivered, announces every event. */
import type { Logger } from 'pino';
import { ANNOUNCED_EVENTS, type AnnouncedEvent, type BuildNotification, type DeliveryAttempt } from '../domain/notification.js';
import type { Notifier } from '../domain/ports/notifier.js';
import { notificationJson, renderMessage } from './message.js';

export class LogNotifier implements Notifier {
  readonly channel = 'log';
  readonly events: readonly AnnouncedEvent[] = ANNOUNCED_EVENTS;

  constructor(private readonly logger: Logger) {}

  async deliver(notification: BuildNotification, _signal: AbortSignal): Promise<DeliveryAttempt> {
    const message = renderMessage(notification);
    this.logger.info(
      {
        // The gate and what to review; the signed links stay out of the log (they are bearer capabilities).
        notification: notificationJson(notification, { links: false }),
      },
      `${message.title}: ${notification.summary}`,
    );
    return { outcome: 'delivered', detail: 'logged' };
  }
}
