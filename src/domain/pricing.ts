/**
 * Model prices as values (USD per million tokens) and the parser of the MODEL_PRICES
 * override, which the configuration checks and parses once at start-up.
 */
import { z } from 'zod';

export interface ModelPrice {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export const price = (input: number, output: number, cacheRead: number, cacheWrite: number): ModelPrice => ({ input, output, cacheRead, cacheWrite });

const priceEntry = z
  .object({
    input: z.number().min(0),
    output: z.number().min(0),
    cache_read: z.number().min(0).optional(),
    cache_write: z.number().min(0).optional(),
  })
  .strict();

/** Parses MODEL_PRICES; throws an Error naming what is wrong (config reports it as one line). */
export function parsePriceOverrides(json: string | undefined): Record<string, ModelPrice> {
  if (!json) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error('is not valid JSON');
  }
  const parsed = z.record(z.string().min(1), priceEntry).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'} (expected {"model": {"input": n, "output": n, "cache_read"?: n, "cache_write"?: n}})`);
  }
  return Object.fromEntries(
    Object.entries(parsed.data).map(([model, entry]) => [
      model,
      price(entry.input, entry.output, entry.cache_read ?? entry.input, entry.cache_write ?? entry.input),
    ]),
  );
}

