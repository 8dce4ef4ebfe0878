/** The droplet journal: what happened to a droplet outside its builds, append-only. */
import type { DropletEvent, DropletJournal } from '../domain/ports/droplet-journal.js';
import type { Db } from './db.js';
import { fromJson, toJson } from './db.js';

interface EventRow {
  seq: number;
  droplet_id: number;
  type: string;
  data: string | null;
  at: string;
}

export class SqliteDropletJournal implements DropletJournal {
  private readonly insert;
  private readonly recent;

  constructor(db: Db) {
    this.insert = db.prepare<[number, string, string | null, string]>('INSERT INTO droplet_events (droplet_id, type, data, at) VALUES (?, ?, ?, ?)');
    this.recent = db.prepare<[number, number], EventRow>('SELECT * FROM droplet_events WHERE droplet_id = ? ORDER BY seq DESC LIMIT ?');
  }

  async append(dropletId: number, type: string, data: Record<string, unknown> = {}): Promise<DropletEvent> {
    const at = new Date().toISOString();
    const { lastInsertRowid } = this.insert.run(dropletId, type, toJson(data), at);
    return { seq: Number(lastInsertRowid), dropletId, type, data, at };
  }

  async list(dropletId: number, limit = 50): Promise<DropletEvent[]> {
    return this.recent.all(dropletId, limit).map((row) => ({
      seq: row.seq,
      dropletId: row.droplet_id,
      type: row.type,
      data: fromJson<Record<string, unknown>>(row.data) ?? {},
      at: row.at,
    }));
  }
}
