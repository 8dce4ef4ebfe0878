/** The `log` channel: one structured line in the executor's own log; always delivered, announces every event. */
import type { Logger } from 'pino';
import { ANNOUNCED_EVENTS, type AnnouncedEvent, type BuildNotification, type DeliveryAttempt } from '../domain/notification.js';
import type { Notifier } from '../domain/ports/notifier.js';
import { renderMessage } from './message.js';

export class LogNotifier implements Notifier {
  readonly channel = 'log';
  readonly events: readonly AnnouncedEvent[] = ANNOUNCED_EVENTS;

  constructor(private readonly logger: Logger) {}

  async deliver(notification: BuildNotification, _signal: AbortSignal): Promise<DeliveryAttempt> {
    const message = renderMessage(notification);
    this.logger.info(
      {
        notification: {
          delivery_id: notification.deliveryId,
          event: notification.event,
          build_id: notification.buildId,
          droplet_id: notification.dropletId,
          droplet_name: notification.dropletName,
          build_url: notification.buildUrl,
          deployment_url: notification.deploymentUrl,
          repository_url: notification.repositoryUrl,
          duration_seconds: notification.durationSeconds,
          cost_usd: notification.costUsd,
          intent_coverage: notification.intentCoverage,
          failure: notification.failure ?? null,
          // The gate and what to review; the signed links stay out of the log (they are bearer capabilities).
          approval: notification.approval ? { gate: notification.approval.gate, summary: notification.approval.summary } : null,
          at: notification.at,
        },
      },
      `${message.title}: ${notification.summary}`,
    );
    return { outcome: 'delivered', detail: 'logged' };
  }
}
