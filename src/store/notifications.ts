/** Notification deliveries, so a resumed build does not notify a channel twice. */
import type { Db } from './db.js';

export interface DeliveryRecord {
  /** `<build id>:<event>`. */
  deliveryId: string;
  channel: string;
  /** Status code or similar; never a secret. */
  detail?: string | null;
  deliveredAt?: string;
}

export class NotificationStore {
  private readonly findDelivery;
  private readonly insertDelivery;

  constructor(
    db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.findDelivery = db.prepare<[string, string], { found: number }>(
      'SELECT 1 AS found FROM notifications WHERE delivery_id = ? AND channel = ?',
    );
    this.insertDelivery = db.prepare(
      `INSERT INTO notifications (delivery_id, channel, delivered_at, detail)
       VALUES (@delivery_id, @channel, @delivered_at, @detail)
       ON CONFLICT (delivery_id, channel) DO NOTHING`,
    );
  }

  wasDelivered(deliveryId: string, channel: string): boolean {
    return this.findDelivery.get(deliveryId, channel) !== undefined;
  }

  /** Records a successful delivery. Returns false when it was already recorded. */
  recordDelivery(record: DeliveryRecord): boolean {
    const result = this.insertDelivery.run({
      delivery_id: record.deliveryId,
      channel: record.channel,
      delivered_at: record.deliveredAt ?? this.now().toISOString(),
      detail: record.detail ?? null,
    });
    return result.changes === 1;
  }
}
