/** What model calls use and cost. */

/** Tokens and money, as the status object shows them. */
export interface UsageFigures {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_usd: number;
}

export interface ModelCallRecord {
  /** What the call was for: `spec`, `code`, `repair after attempt 2`, with `(continued)` for continuations. */
  purpose: string;
  provider: string;
  model: string;
  usage: UsageFigures;
  stopReason: string | null;
  /** Retries the call needed (429, 529, stalls…) before it answered. */
  retries: number;
  durationMs: number;
}

export const NO_USAGE: UsageFigures = { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: 0 };

/** The lower of two optional caps. */
export function effectiveCap(executorCap: number | null | undefined, buildCap: number | null | undefined): number | null {
  const caps = [executorCap, buildCap].filter((cap): cap is number => typeof cap === 'number');
  return caps.length > 0 ? Math.min(...caps) : null;
}
