/** The `log` channel: one structured line in the executor's own log. */
import type { Logger } from 'pino';
import type { Notifier } from '../domain/ports/notifier.js';
import type { BuildNotification, DeliveryResult } from '../domain/notification.js';

export class LogNotifier implements Notifier {
  readonly channel = 'log';

  constructor(private readonly logger: Logger) {}

  async notify(notification: BuildNotification, _signal: AbortSignal): Promise<DeliveryResult> {
    this.logger.info(
      {
        notification: {
          delivery_id: notification.deliveryId,
          event: notification.event,
          build_id: notification.buildId,
          droplet_id: notification.dropletId,
          droplet_name: notification.dropletName,
          deployment_url: notification.deploymentUrl,
          repository_path: notification.repositoryPath,
          intent_coverage: notification.intentCoverage,
          completed_at: notification.completedAt,
        },
      },
      notification.summary,
    );
    return { channel: this.channel, delivered: true, detail: 'logged' };
  }
}
