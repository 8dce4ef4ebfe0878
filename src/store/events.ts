/** The event journal: every state change is a row here, written with the state it reports. */
import type { BuildEvent, EventDraft } from '../domain/events.js';
import { type Db, fromJson } from './db.js';

export interface EventRow {
  seq: number;
  build_id: string;
  type: string;
  at: string;
  data: string;
}

/** Rows were written from typed drafts (domain/events.ts), so their type and data agree. */
export function toEvent(row: EventRow): BuildEvent {
  return { seq: row.seq, build_id: row.build_id, type: row.type, at: row.at, data: fromJson(row.data) ?? {} } as BuildEvent;
}

export class EventJournal {
  private readonly insert;
  private readonly after;

  constructor(db: Db) {
    this.insert = db.prepare<[string, string, string, string], EventRow>(
      'INSERT INTO build_events (build_id, type, at, data) VALUES (?, ?, ?, ?) RETURNING *',
    );
    this.after = db.prepare<[string, number], EventRow>(
      'SELECT * FROM build_events WHERE build_id = ? AND seq > ? ORDER BY seq',
    );
  }

  /** Call inside the transaction that makes the change the event reports. */
  append(buildId: string, draft: EventDraft, at = new Date().toISOString()): BuildEvent {
    return toEvent(this.insert.get(buildId, draft.type, at, JSON.stringify(draft.data))!);
  }

  list(buildId: string, afterSeq: number): BuildEvent[] {
    return this.after.all(buildId, afterSeq).map(toEvent);
  }
}
