/** Read-only questions across builds: listing, counts, estimates, droplet ids and names. */
import type { BuildEvent } from '../domain/events.js';
import type { BuildCatalog, LatestBuildEventsQuery, ListBuildsQuery } from '../domain/ports/build-store.js';
import type { Db } from './db.js';
import { type EventRow, toEvent } from './events.js';

export class SqliteBuildCatalog implements BuildCatalog {
  constructor(private readonly db: Db) {}

  async list(query: ListBuildsQuery): Promise<{ ids: string[]; total: number }> {
    const where = query.status ? 'WHERE status = ?' : '';
    const params = query.status ? [query.status] : [];
    const total = (this.db.prepare(`SELECT count(*) AS n FROM builds ${where}`).get(...params) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT id FROM builds ${where} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?`)
      .all(...params, query.limit, query.offset) as { id: string }[];
    return { ids: rows.map((row) => row.id), total };
  }

  async countsByStatus(): Promise<Record<string, number>> {
    const rows = this.db.prepare('SELECT status, count(*) AS n FROM builds GROUP BY status').all() as { status: string; n: number }[];
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }

  /**
   * Working seconds of the most recent completed builds, newest first: the sum of their
   * steps, so time spent waiting at an approval gate does not count.
   */
  async recentDurations(limit: number): Promise<number[]> {
    const rows = this.db
      .prepare(
        `SELECT sum((julianday(s.completed_at) - julianday(s.started_at)) * 86400.0) AS seconds
         FROM (SELECT id, completed_at AS done FROM builds WHERE status = 'completed' ORDER BY completed_at DESC LIMIT ?) AS b
         JOIN build_steps s ON s.build_id = b.id AND s.started_at IS NOT NULL AND s.completed_at IS NOT NULL
         GROUP BY b.id ORDER BY b.done DESC`,
      )
      .all(limit) as { seconds: number }[];
    return rows.map((row) => row.seconds);
  }

  /** Highest droplet id any build has used (the registry holds the rest). */
  async maxDropletId(): Promise<number> {
    return (this.db.prepare('SELECT coalesce(max(droplet_id), 0) AS n FROM builds').get() as { n: number }).n;
  }

  /** Name a droplet id was last built under, to refuse reusing an id for another droplet. */
  async nameForDropletId(dropletId: number): Promise<string | null> {
    const row = this.db.prepare('SELECT droplet_name FROM builds WHERE droplet_id = ? ORDER BY created_at DESC LIMIT 1').get(dropletId) as
      | { droplet_name: string }
      | undefined;
    return row?.droplet_name ?? null;
  }

  async runningBuildOf(dropletId: number): Promise<string | null> {
    const row = this.db
      .prepare(`SELECT id FROM builds WHERE droplet_id = ? AND status IN ('queued', 'in_progress') ORDER BY created_at LIMIT 1`)
      .get(dropletId) as { id: string } | undefined;
    return row?.id ?? null;
  }

  /** By the builds' status index, then each build's journal index (build_id, seq) read backwards: cheap. */
  async latestBuildEvents(query: LatestBuildEventsQuery): Promise<BuildEvent[]> {
    const rows = this.db
      .prepare(
        `SELECT e.* FROM builds b
         JOIN build_events e ON e.seq = (SELECT max(seq) FROM build_events WHERE build_id = b.id AND type LIKE 'build.%')
         WHERE b.status = @status AND e.type = @type AND e.at >= @since
         ORDER BY e.seq DESC LIMIT @limit`,
      )
      .all({ status: query.status, type: query.type, since: query.since ?? '', limit: query.limit }) as EventRow[];
    return rows.map(toEvent);
  }

  /** The id a droplet name was last built under. */
  async idForDropletName(name: string): Promise<number | null> {
    const row = this.db.prepare('SELECT droplet_id FROM builds WHERE droplet_name = ? ORDER BY created_at DESC LIMIT 1').get(name) as
      | { droplet_id: number }
      | undefined;
    return row?.droplet_id ?? null;
  }
}
