/**
 * A small model of prompt caching, so that usage the script does not fix reflects
 * what the client really sent: a client that marks a stable prefix sees cache reads
 * on its later calls, one that does not pays full price every time.
 *
 * - Anthropic: the prompt is tools, then system blocks, then message blocks, in that
 *   order. A block carrying `cache_control` is a breakpoint; the prefix ending there is
 *   written to the cache. Later requests read the longest cached prefix that ends at
 *   any block boundary up to their last breakpoint; the rest up to that breakpoint is
 *   a cache write, everything after it plain input.
 * - OpenAI: caching is automatic; the longest prefix of the prompt (tools, then
 *   messages) shared with an earlier request counts as `cached_tokens`, in 128-token
 *   steps once it reaches 1024 tokens, as OpenAI documents it.
 *
 * Tokens are estimated at four characters each. There is no minimum cacheable
 * length and no expiry: a test server lives for seconds.
 */
import { createHash } from 'node:crypto';

export interface CachedUsage {
  input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

interface PromptUnit {
  text: string;
  breakpoint: boolean;
}

interface Boundary {
  hash: string;
  chars: number;
  breakpoint: boolean;
}

export class PromptCacheModel {
  private readonly cached = new Set<string>();
  private readonly prompts: string[] = [];

  anthropic(body: any): CachedUsage {
    const boundaries = boundariesOf(`anthropic:${String(body?.model)}`, anthropicUnits(body));
    const total = boundaries.at(-1)?.chars ?? 0;
    const lastBreakpoint = lastIndexWhere(boundaries, (boundary) => boundary.breakpoint);
    if (lastBreakpoint < 0) return { input_tokens: tokensFor(total), cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
    const prefixChars = boundaries[lastBreakpoint]!.chars;
    const hit = boundaries[lastIndexWhere(boundaries.slice(0, lastBreakpoint + 1), (boundary) => this.cached.has(boundary.hash))];
    for (const boundary of boundaries) if (boundary.breakpoint) this.cached.add(boundary.hash);
    const readTokens = tokensFor(hit?.chars ?? 0);
    const prefixTokens = tokensFor(prefixChars);
    return {
      input_tokens: tokensFor(total) - prefixTokens,
      cache_read_input_tokens: readTokens,
      cache_creation_input_tokens: prefixTokens - readTokens,
    };
  }

  openai(body: any): CachedUsage {
    const prompt = `openai:${String(body?.model)}\u0000${openaiUnits(body).map((unit) => unit.text).join('\u0000')}`;
    let common = 0;
    for (const earlier of this.prompts) common = Math.max(common, commonPrefixLength(earlier, prompt));
    this.prompts.push(prompt);
    // Like OpenAI: the longest prefix seen before, in 128-token steps, once it reaches 1024 tokens.
    const cachedChars = common >= OPENAI_MIN_CACHED_CHARS ? Math.floor(common / OPENAI_CACHE_STEP_CHARS) * OPENAI_CACHE_STEP_CHARS : 0;
    const total = prompt.length;
    const readTokens = tokensFor(cachedChars);
    return { input_tokens: tokensFor(total) - readTokens, cache_read_input_tokens: readTokens, cache_creation_input_tokens: 0 };
  }
}

const OPENAI_MIN_CACHED_CHARS = 1024 * 4;
const OPENAI_CACHE_STEP_CHARS = 128 * 4;

function commonPrefixLength(a: string, b: string): number {
  const limit = Math.min(a.length, b.length);
  let index = 0;
  while (index < limit && a.charCodeAt(index) === b.charCodeAt(index)) index += 1;
  return index;
}

function lastIndexWhere<T>(items: T[], test: (item: T) => boolean): number {
  for (let index = items.length - 1; index >= 0; index--) if (test(items[index]!)) return index;
  return -1;
}

/** Four characters a token, as `estimateTokens` counts. */
function tokensFor(chars: number): number {
  return Math.ceil(chars / 4);
}

function boundariesOf(namespace: string, units: PromptUnit[]): Boundary[] {
  const hash = createHash('sha256').update(namespace);
  let chars = 0;
  return units.map((unit) => {
    hash.update('\u0000').update(unit.text);
    chars += unit.text.length;
    return { hash: hash.copy().digest('hex'), chars, breakpoint: unit.breakpoint };
  });
}

function withoutCacheControl(value: any): { text: string; breakpoint: boolean } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { text: JSON.stringify(value) ?? '', breakpoint: false };
  const { cache_control: marker, ...rest } = value;
  return { text: JSON.stringify(rest), breakpoint: marker !== null && marker !== undefined };
}

function anthropicUnits(body: any): PromptUnit[] {
  const units: PromptUnit[] = [];
  for (const tool of asArray(body?.tools)) units.push(withoutCacheControl(tool));
  if (typeof body?.system === 'string') units.push({ text: body.system, breakpoint: false });
  for (const block of asArray(body?.system)) units.push(withoutCacheControl(block));
  for (const message of asArray(body?.messages)) {
    const role = String(message?.role);
    if (typeof message?.content === 'string') units.push({ text: `${role}:${message.content}`, breakpoint: false });
    for (const block of asArray(message?.content)) {
      const unit = withoutCacheControl(block);
      units.push({ text: `${role}:${unit.text}`, breakpoint: unit.breakpoint });
    }
  }
  return units;
}

function openaiUnits(body: any): PromptUnit[] {
  return [...asArray(body?.tools), ...asArray(body?.messages)].map((item) => ({ text: JSON.stringify(item) ?? '', breakpoint: false }));
}

function asArray(value: unknown): any[] {
  return Array.isArray(value) ? value : [];
}
