/**
 * What model calls cost: one table of list prices (USD per million tokens), matched
 * by the longest model-name prefix, overridable from config (MODEL_PRICES). A model
 * the table does not know is priced at the fallback, which is deliberately high so
 * that a budget cap still holds; set MODEL_PRICES for it (e.g. `{"*": {"input": 0,
 * "output": 0}}` for a local server).
 */
import { type ModelPrice, price } from '../../domain/pricing.js';
import type { TokenUsage } from './types.js';

export { parsePriceOverrides, type ModelPrice } from '../../domain/pricing.js';

/** List prices at the time of writing; check your provider's page and override what differs. */
export const BUILT_IN_PRICES: Readonly<Record<string, ModelPrice>> = {
  'claude-opus-4-0': price(15, 75, 1.5, 18.75),
  'claude-opus-4-1': price(15, 75, 1.5, 18.75),
  'claude-opus-4-2': price(15, 75, 1.5, 18.75),
  'claude-opus': price(5, 25, 0.5, 6.25),
  'claude-sonnet': price(3, 15, 0.3, 3.75),
  'claude-haiku-3': price(0.25, 1.25, 0.03, 0.3),
  'claude-haiku': price(1, 5, 0.1, 1.25),
  'gpt-5-pro': price(15, 120, 15, 0),
  'gpt-5-mini': price(0.25, 2, 0.025, 0),
  'gpt-5-nano': price(0.05, 0.4, 0.005, 0),
  'gpt-5': price(1.25, 10, 0.125, 0),
  'gpt-4.1': price(2, 8, 0.5, 0),
  'gpt-4o': price(2.5, 10, 1.25, 0),
};

/** For a model nobody priced: high, so that a cap errs on the side of stopping. */
export const FALLBACK_PRICE: ModelPrice = price(15, 75, 1.5, 18.75);

export class PriceTable {
  private readonly table: Record<string, ModelPrice>;

  constructor(private readonly overrides: Record<string, ModelPrice> = {}) {
    this.table = { ...BUILT_IN_PRICES, ...overrides };
  }

  /** The price of a model and whether anyone actually priced it. */
  priceOf(model: string): { price: ModelPrice; known: boolean } {
    const match = Object.keys(this.table)
      .filter((prefix) => model === prefix || model.startsWith(prefix))
      .sort((a, b) => b.length - a.length)[0];
    if (match) return { price: this.table[match]!, known: true };
    const wildcard = this.overrides['*'];
    return wildcard ? { price: wildcard, known: true } : { price: FALLBACK_PRICE, known: false };
  }

  costOf(model: string, usage: TokenUsage): number {
    const { price: p } = this.priceOf(model);
    const micro = usage.inputTokens * p.input + usage.outputTokens * p.output + usage.cacheReadTokens * p.cacheRead + usage.cacheWriteTokens * p.cacheWrite;
    return micro / 1_000_000;
  }

  /**
   * The most a call could cost: every input token at the dearer of the input and
   * cache-write rates, and the whole output allowance.
   */
  worstCaseOf(model: string, inputTokens: number, maxOutputTokens: number): number {
    const { price: p } = this.priceOf(model);
    return (inputTokens * Math.max(p.input, p.cacheWrite) + maxOutputTokens * p.output) / 1_000_000;
  }
}

/**
 * A generous upper bound on a prompt's tokens: real tokenizers average about four
 * characters a token on English and code, and about one character on CJK text, which
 * takes three bytes; a third of the UTF-8 bytes covers both.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / 3);
}
