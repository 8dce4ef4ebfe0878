/** Channels that announce builds. */
import type { AnnouncedEvent, BuildNotification, DeliveryAttempt } from '../notification.js';

export interface Notifier {
  /** `log`, `webhook`, `slack`, `email`, as named in a request's `notify_channels`. */
  readonly channel: string;
  /** What this channel is configured to announce. */
  readonly events: readonly AnnouncedEvent[];
  /** One attempt; the caller retries (`retry`) with back-off and records every attempt. */
  deliver(notification: BuildNotification, signal: AbortSignal): Promise<DeliveryAttempt>;
}
