// @ts-check
// An archetype's state: entries by id, served from memory and written to
// DATA_DIR/<name>.json (atomically, one change at a time, before the change is answered).
import { join } from 'node:path';
import { SerialQueue, readRecords, writeRecords } from '../data-file.js';

/** @typedef {Record<string, unknown> & { id: string }} Entry */

/** @template {Entry} T */
export class KeyedState {
  /** @type {Map<string, T>} */
  #entries;
  #file;
  #name;
  #queue = new SerialQueue();

  /** @param {string} dataDir @param {string} name */
  constructor(dataDir, name) {
    this.#name = name;
    this.#file = join(dataDir, name + '.json');
    this.#entries = new Map(readRecords(this.#file).map((entry) => [entry.id, /** @type {T} */ (/** @type {unknown} */ (entry))]));
  }

  get size() {
    return this.#entries.size;
  }

  /** @param {string} id */
  get(id) {
    return this.#entries.get(id);
  }

  /** In insertion order. */
  values() {
    return [...this.#entries.values()];
  }

  /**
   * Applies `edit` to a copy and writes it when `edit` returns anything but undefined;
   * memory takes the copy only once it is on disk.
   * @template R
   * @param {(entries: Map<string, T>) => R} edit
   * @returns {Promise<R>}
   */
  change(edit) {
    const run = async () => {
      const next = new Map(this.#entries);
      const result = edit(next);
      if (result !== undefined) {
        const entries = /** @type {import('../data-file.js').StoredRecord[]} */ (/** @type {unknown} */ ([...next.values()]));
        await writeRecords(this.#file, this.#name, entries);
        this.#entries = next;
      }
      return result;
    };
    return this.#queue.run(run);
  }

  /** Resolves once every change asked for so far is on disk. */
  flushed() {
    return this.#queue.idle();
  }
}
