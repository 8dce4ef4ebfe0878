/**
 * Noun phrases and their heads, from tagged words: "a priority (low/medium/high)",
 * "due dates", "stock levels". The head is the last noun; fillers ("my", "the",
 * "simple") are dropped; every word is singular, so phrases compare by meaning.
 */
import pluralize from 'pluralize';
import { ATTRIBUTE_MARKERS, FILLER_WORDS } from './vocabulary.js';
import type { Token } from './tokens.js';

export interface NounPhrase {
  /** Singular words, head last, fillers dropped: `['stock', 'level']`. */
  words: string[];
  /** The words as the intent wrote them, fillers dropped: `stock levels`. */
  text: string;
  /** The nouns only, singular head last: what a record kind is called (`['stock', 'level']`, not "open"). */
  nouns: string[];
  /** Adjectives among the words ("due", "done"): they may be a field on their own. */
  adjectives: string[];
  plural: boolean;
  options?: string[];
}

export const singular = (word: string): string => pluralize.singular(word);
export const plural = (word: string): string => pluralize.plural(word);

/** Whether a token can be part of a noun phrase where it stands. */
export function isPhraseWord(token: Token, next: Token | undefined, previous: Token | undefined): boolean {
  if (token.kind === 'noun' || token.kind === 'adjective') return true;
  // "with cooking times": a gerund before a noun modifies it, unless it opens a clause ("for tracking plants").
  if (token.kind === 'gerund') {
    const opensClause =
      previous === undefined ||
      previous.kind === 'relative' ||
      (['preposition', 'conjunction'].includes(previous.kind) && !ATTRIBUTE_MARKERS.has(previous.word) && previous.word !== 'and');
    return !opensClause && next !== undefined && next.kind === 'noun' && !token.breakAfter;
  }
  return false;
}

/** The phrase of some consecutive phrase words, or null when no noun is left once fillers go. */
export function toPhrase(tokens: readonly Token[]): NounPhrase | null {
  const meaningful = tokens.filter((token) => !FILLER_WORDS.has(token.word) && /^[a-z][a-z0-9-]*$/.test(token.word));
  let headAt = meaningful.length - 1;
  while (headAt >= 0 && meaningful[headAt]!.kind !== 'noun' && meaningful[headAt]!.kind !== 'gerund') headAt -= 1;
  const adjectives = meaningful.filter((token) => token.kind === 'adjective').map((token) => token.word);
  const options = tokens.find((token) => token.options)?.options;
  if (headAt === -1) {
    if (adjectives.length === 0) return null;
    return { words: adjectives, nouns: [], text: adjectives.join(' '), adjectives, plural: false, ...(options && { options }) };
  }
  const kept = meaningful.slice(0, headAt + 1);
  const head = kept.at(-1)!;
  const words = kept.map((token, index) => (index === kept.length - 1 ? singular(token.word) : token.word));
  return {
    words,
    nouns: words.filter((_, index) => index === kept.length - 1 || kept[index]!.kind !== 'adjective'),
    text: kept.map((token) => token.text.toLowerCase()).join(' '),
    adjectives,
    plural: head.plural || pluralize.isPlural(head.word),
    ...(options && { options }),
  };
}
