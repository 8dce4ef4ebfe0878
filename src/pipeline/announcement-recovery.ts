/**
 * Announcements a crash may have lost. Failures and approval requests are queued by a bus
 * listener after their event is committed, so a process that died in between never queued
 * them. At start, every build still failed or waiting whose latest build event is that
 * failure or wait, and whose delivery id the outbox never saw, is announced after all.
 * Queuing is idempotent by delivery id, so a normal restart finds nothing to recover.
 */
import type { BuildEventType } from '../domain/events.js';
import type { BuildCatalog, BuildStore } from '../domain/ports/build-store.js';
import type { NotificationOutbox } from '../domain/ports/notification-outbox.js';
import { type Announcement, announcementFor, deliveryIdOf } from './announcement.js';

export interface RecoveryDeps {
  catalog: Pick<BuildCatalog, 'latestBuildEvents'>;
  store: Pick<BuildStore, 'get'>;
  outbox: Pick<NotificationOutbox, 'isQueued'>;
}

export interface RecoveryBounds {
  /** The newest this many builds of each kind are looked at. */
  limit: number;
  /**
   * Failures older than this are left alone: had they been queued, their delivery would
   * have been settled by now. Approval requests have no age limit: the build still waits.
   */
  failedWithinMs: number;
}

export const DEFAULT_RECOVERY_LIMIT = 50;

/** The announcements never queued, newest first. */
export async function lostAnnouncements(deps: RecoveryDeps, bounds: RecoveryBounds, now: Date): Promise<Announcement[]> {
  const since = new Date(now.getTime() - bounds.failedWithinMs).toISOString();
  const kinds: { status: 'failed' | 'waiting_approval'; type: BuildEventType; since?: string }[] = [
    { status: 'waiting_approval', type: 'build.waiting_approval' },
    { status: 'failed', type: 'build.failed', since },
  ];
  const lost: Announcement[] = [];
  for (const kind of kinds) {
    for (const event of await deps.catalog.latestBuildEvents({ ...kind, limit: bounds.limit })) {
      const build = await deps.store.get(event.build_id);
      const announcement = build && announcementFor(event, build);
      if (announcement && !(await deps.outbox.isQueued(deliveryIdOf(announcement)))) lost.push(announcement);
    }
  }
  return lost;
}
