/** The ledger of paid model calls: usage per build and step, and saved results. */
import type { ModelCallLedger } from '../domain/ports/build-store.js';
import type { ModelCallRecord, UsageFigures } from '../domain/usage.js';
import { type Db, fromJson, toJson } from './db.js';


type UsageRow = { calls: number } & UsageFigures;

export class ModelCallStore {
  private readonly insertCall;
  private readonly buildUsage;
  private readonly stepUsage;

  constructor(private readonly db: Db) {
    this.insertCall = db.prepare(
      `INSERT INTO model_calls (build_id, step_number, purpose, provider, model, input_tokens, output_tokens,
         cache_read_tokens, cache_write_tokens, cost_usd, stop_reason, retries, duration_ms, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const totals = `SELECT count(*) AS calls, coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens,
        coalesce(sum(cache_read_tokens), 0) AS cache_read_tokens, coalesce(sum(cache_write_tokens), 0) AS cache_write_tokens,
        coalesce(sum(cost_usd), 0) AS cost_usd FROM model_calls WHERE build_id = ?`;
    this.buildUsage = db.prepare<[string], UsageRow>(totals);
    this.stepUsage = db.prepare<[string, number], UsageRow>(`${totals} AND step_number = ?`);
  }

  record(buildId: string, stepNumber: number, call: ModelCallRecord): void {
    const { usage } = call;
    this.insertCall.run(buildId, stepNumber, call.purpose, call.provider, call.model, usage.input_tokens, usage.output_tokens,
      usage.cache_read_tokens, usage.cache_write_tokens, usage.cost_usd, call.stopReason, call.retries, call.durationMs, new Date().toISOString());
  }

  /** Totals for the build, or for one of its steps; null when no call was made. */
  usageOf(buildId: string, stepNumber?: number): UsageFigures | null {
    const row = stepNumber === undefined ? this.buildUsage.get(buildId) : this.stepUsage.get(buildId, stepNumber);
    if (!row || row.calls === 0) return null;
    const { calls: _calls, ...usage } = row;
    // Sums of many small REALs: round to a millionth of a dollar so figures read cleanly.
    return { ...usage, cost_usd: Math.round(usage.cost_usd * 1e6) / 1e6 };
  }

  savedResult(buildId: string, key: string): unknown {
    const row = this.db.prepare('SELECT result FROM model_results WHERE build_id = ? AND request_key = ?').get(buildId, key) as { result: string } | undefined;
    return row ? fromJson<unknown>(row.result) : undefined;
  }

  saveResult(buildId: string, stepNumber: number, key: string, result: unknown): void {
    this.db
      .prepare('INSERT OR REPLACE INTO model_results (build_id, step_number, request_key, result, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(buildId, stepNumber, key, toJson(result), new Date().toISOString());
  }

  /** Forgets saved answers (of the given steps, or all): they are not to be replayed. */
  forgetResults(buildId: string, stepNumbers?: readonly number[]): void {
    if (stepNumbers === undefined) {
      this.db.prepare('DELETE FROM model_results WHERE build_id = ?').run(buildId);
      return;
    }
    const forget = this.db.prepare('DELETE FROM model_results WHERE build_id = ? AND step_number = ?');
    for (const step of stepNumbers) forget.run(buildId, step);
  }
}

/** The ModelCallLedger port over the same table (the build store writes the calls themselves). */
export class SqliteModelCallLedger implements ModelCallLedger {
  constructor(private readonly calls: ModelCallStore) {}

  async usageOf(buildId: string, stepNumber?: number): Promise<UsageFigures | null> {
    return this.calls.usageOf(buildId, stepNumber);
  }

  async savedResult(buildId: string, key: string): Promise<unknown> {
    return this.calls.savedResult(buildId, key);
  }

  async saveResults(buildId: string, stepNumber: number, results: ReadonlyMap<string, unknown>): Promise<void> {
    for (const [key, result] of results) this.calls.saveResult(buildId, stepNumber, key, result);
  }
}
