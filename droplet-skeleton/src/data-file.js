// @ts-check
// One resource's records on disk: a JSON file replaced atomically, so a crash or a kill
// mid-write leaves the previous version whole, never a torn file.
import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { StartupError } from './errors.js';

/** @typedef {Record<string, unknown> & { id: string, created_at: string, updated_at: string }} StoredRecord */

let writes = 0;

/**
 * The records in `file`, in the order they were created; none when it does not exist yet.
 * A file that is not what this droplet wrote stops the boot: serving without the records
 * and then overwriting them would lose data.
 * @param {string} file
 * @returns {StoredRecord[]}
 */
export function readRecords(file) {
  mkdirSync(dirname(file), { recursive: true });
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code === 'ENOENT') return [];
    throw new StartupError('Data file ' + file + ' could not be read: ' + (error instanceof Error ? error.message : String(error)));
  }
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new StartupError('Data file ' + file + ' is not valid JSON; restore it from a backup or move it away.');
  }
  const records = parsed && parsed.records;
  if (!Array.isArray(records) || !records.every((record) => record && typeof record.id === 'string')) {
    throw new StartupError('Data file ' + file + ' does not hold a "records" list of records with ids.');
  }
  return records;
}

/**
 * Write to a temporary file beside it, flush it to disk, rename it over the old one,
 * then flush the directory so the rename itself survives a power cut.
 * @param {string} file
 * @param {string} resource
 * @param {StoredRecord[]} records
 */
export async function writeRecords(file, resource, records) {
  writes += 1;
  const temporary = dirname(file) + '/.' + basename(file) + '.' + process.pid + '.' + writes + '.tmp';
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify({ resource, records }) + '\n');
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temporary, file);
  const directory = await open(dirname(file), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/** Runs tasks one at a time, in the order they were asked for; a failed task does not stop the next. */
export class SerialQueue {
  /** @type {Promise<void>} */
  #tail = Promise.resolve();

  /**
   * @template T
   * @param {() => Promise<T>} task
   * @returns {Promise<T>}
   */
  run(task) {
    const done = this.#tail.then(task);
    this.#tail = done.then(
      () => undefined,
      () => undefined,
    );
    return done;
  }

  /** Resolves once every task asked for so far has ended. */
  idle() {
    return this.#tail;
  }
}
