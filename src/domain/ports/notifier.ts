/** Channels that announce builds. */
import type { BuildNotification, DeliveryResult } from '../notification.js';

export interface Notifier {
  /** `log`, `webhook`, … as named in a request's `notify_channels`. */
  readonly channel: string;
  notify(notification: BuildNotification, signal: AbortSignal): Promise<DeliveryResult>;
}

/** Remembers which notifications went out, so a resumed build does not send them twice. */
export interface DeliveryLog {
  wasDelivered(deliveryId: string, channel: string): Promise<boolean>;
  recordDelivery(deliveryId: string, channel: string, detail: string): Promise<void>;
}
