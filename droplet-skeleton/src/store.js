// @ts-check
// Records of one resource: served from memory, persisted to DATA_DIR/<plural>.json on
// every change before the change is answered, and loaded again at start.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SerialQueue, readRecords, writeRecords } from './data-file.js';
import { HttpError } from './errors.js';

/** @typedef {import('./data-file.js').StoredRecord} StoredRecord */

export class RecordStore {
  /** @type {Map<string, StoredRecord>} */
  #records;
  #file;
  /** Changes are written one at a time, in the order they were asked for. */
  #queue = new SerialQueue();

  /**
   * @param {import('./plan.js').Resource} resource
   * @param {string} dataDir
   */
  constructor(resource, dataDir) {
    this.resource = resource.plural;
    this.limit = resource.maxRecords;
    this.#file = join(dataDir, resource.plural + '.json');
    this.#records = new Map(readRecords(this.#file).map((record) => [record.id, record]));
  }

  get size() {
    return this.#records.size;
  }

  /** In creation order. */
  list() {
    return [...this.#records.values()];
  }

  /** @param {string} id */
  get(id) {
    return this.#records.get(id);
  }

  /** @param {Record<string, unknown>} fields */
  create(fields) {
    return this.#change((records) => {
      if (records.size >= this.limit) {
        throw new HttpError(409, 'CAPACITY_REACHED', 'The ' + this.resource + ' store is full; delete records first.', {
          resource: this.resource,
          limit: this.limit,
        });
      }
      const now = new Date().toISOString();
      const record = { id: randomUUID(), ...fields, created_at: now, updated_at: now };
      records.set(record.id, record);
      return record;
    });
  }

  /**
   * Resolves undefined when there is no such record.
   * @param {string} id
   * @param {Record<string, unknown>} fields
   */
  replace(id, fields) {
    return this.#change((records) => {
      const existing = records.get(id);
      if (!existing) return undefined;
      const record = { id, ...fields, created_at: existing.created_at, updated_at: new Date().toISOString() };
      records.set(id, record);
      return record;
    });
  }

  /**
   * Resolves undefined when there is no such record.
   * @param {string} id
   * @param {Record<string, unknown>} changes
   */
  update(id, changes) {
    return this.#change((records) => {
      const existing = records.get(id);
      if (!existing) return undefined;
      const record = { ...existing, ...changes, id, created_at: existing.created_at, updated_at: new Date().toISOString() };
      records.set(id, record);
      return record;
    });
  }

  /** @param {string} id */
  delete(id) {
    return this.#change((records) => records.delete(id));
  }

  /** Resolves once every change asked for so far is on disk. */
  flushed() {
    return this.#queue.idle();
  }

  /**
   * Applies `edit` to a copy, writes the copy, and only then serves it: a failed write
   * leaves memory as it was on disk.
   * @template T
   * @param {(records: Map<string, StoredRecord>) => T} edit
   * @returns {Promise<T>}
   */
  #change(edit) {
    const run = async () => {
      const next = new Map(this.#records);
      const result = edit(next);
      if (result !== undefined && result !== false) await writeRecords(this.#file, this.resource, [...next.values()]);
      this.#records = next;
      return result;
    };
    return this.#queue.run(run);
  }
}
