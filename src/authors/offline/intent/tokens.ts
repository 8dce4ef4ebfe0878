/**
 * The intent as tagged words: compromise's part-of-speech tags, reduced to the few
 * kinds the reader needs, with the corrections short imperative intents need
 * ("stock *levels* per warehouse" is a plural noun, not a verb).
 */
import { createRequire } from 'node:module';
import type nlpType from 'compromise';

type Nlp = typeof nlpType;
let loaded: Nlp | undefined;

/**
 * compromise, loaded on first use: its ES modules take ~0.7 s to load and only an intent
 * read needs them, so the service starts without them (its single-file CommonJS build,
 * the same library, loads in ~0.3 s when the first build arrives).
 */
function nlp(text: string): ReturnType<Nlp> {
  loaded ??= createRequire(import.meta.url)('compromise') as Nlp;
  return loaded(text);
}

export type TokenKind =
  | 'noun'
  | 'verb'
  | 'gerund'
  | 'participle'
  | 'adjective'
  | 'preposition'
  | 'conjunction'
  | 'determiner'
  | 'pronoun'
  | 'relative'
  | 'other';

export interface Token {
  /** Lower case, accents folded: `warehouses`. */
  word: string;
  /** As the intent wrote it. */
  text: string;
  kind: TokenKind;
  plural: boolean;
  /** A comma, semicolon, colon or full stop follows: a noun phrase ends here. */
  breakAfter: boolean;
  /** A colon follows: what comes next describes this ("readings: temperature, humidity"). */
  colonAfter?: boolean;
  /** Values listed in brackets right after this word: "priority (low/medium/high)". */
  options?: string[];
}

interface TaggedTerm {
  text: string;
  pre: string;
  post: string;
  normal: string;
  tags: string[];
}

const RELATIVES = new Set(['that', 'which', 'who', 'whom', 'where', 'when', 'while', 'so']);
/** "fans *out*", "sets *up*": part of the verb before them. */
export const PARTICLES = new Set(['out', 'up', 'off', 'down', 'back', 'over', 'away']);

function fold(text: string): string {
  return text.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
}

function kindOf(term: TaggedTerm): TokenKind {
  const tags = new Set(term.tags);
  if (RELATIVES.has(term.normal)) return 'relative';
  if (tags.has('Gerund')) return 'gerund';
  if (tags.has('Pronoun') || tags.has('Possessive')) return 'pronoun';
  if (tags.has('PastTense') && !tags.has('Noun')) return 'participle';
  if (tags.has('Verb') || tags.has('Modal')) return 'verb';
  if (tags.has('Noun') || tags.has('Acronym')) return 'noun';
  if (tags.has('Adjective')) return 'adjective';
  if (tags.has('Preposition')) return 'preposition';
  if (tags.has('Conjunction')) return 'conjunction';
  if (tags.has('Determiner')) return 'determiner';
  return 'other';
}

/** The words of a bracketed list: "low/medium/high", "low, medium or high". */
function optionWords(text: string): string[] {
  return fold(text)
    .split(/\s*(?:\/|,|\||\bor\b)\s*/)
    .map((value) => value.trim().replace(/\s+/g, '_'))
    .filter((value) => /^[a-z0-9][a-z0-9_-]{0,49}$/.test(value));
}

/**
 * compromise reads a plural noun as a present-tense verb in noun lists ("stock levels
 * per warehouse", "fans out messages to…", "where tasks have…"). A verb in `-s` is a
 * noun when a verb follows it, or when nothing relative or personal precedes it and no
 * noun phrase follows it.
 */
function correctPluralNouns(tokens: Token[], terms: readonly TaggedTerm[]): void {
  tokens.forEach((token, index) => {
    if (token.kind !== 'verb' || !token.word.endsWith('s') || !terms[index]!.tags.includes('PresentTense')) return;
    const before = tokens[index - 1];
    const after = tokens[index + 1];
    const introduced = before !== undefined && ['relative', 'pronoun'].includes(before.kind);
    const objectFollows = !token.breakAfter && after !== undefined && ['noun', 'adjective', 'determiner', 'gerund'].includes(after.kind);
    const verbFollows = !token.breakAfter && after !== undefined && ['verb', 'participle'].includes(after.kind) && !PARTICLES.has(after.word);
    if (before !== undefined && (verbFollows || (!introduced && !objectFollows))) {
      token.kind = 'noun';
      token.plural = true;
    }
  });
}

/**
 * "for *tracking* droplet metrics": compromise may call a gerund after a preposition a
 * noun; and "per *warehouse* recorded at…" a verb, though only a noun follows "per".
 */
function correctAfterPrepositions(tokens: Token[]): void {
  tokens.forEach((token, index) => {
    const before = tokens[index - 1];
    const after = tokens[index + 1];
    if (token.kind === 'verb' && before?.word === 'per') token.kind = 'noun';
    // "keep *track* of": one verb, track.
    if (token.word === 'track' && before?.word === 'keep' && after?.word === 'of') {
      token.kind = 'verb';
      before.kind = 'other';
    }
    if (token.kind !== 'noun' || !/[a-z]{3}ing$/.test(token.word) || token.breakAfter || before?.kind !== 'preposition') return;
    if (after && ['noun', 'determiner', 'pronoun', 'adjective'].includes(after.kind)) token.kind = 'gerund';
  });
}

/** Bracketed lists become the options of the word before them and leave the token stream. */
function attachOptions(terms: readonly TaggedTerm[]): { terms: TaggedTerm[]; options: Map<number, string[]> } {
  const kept: TaggedTerm[] = [];
  const options = new Map<number, string[]>();
  let group: TaggedTerm[] | null = null;
  for (const term of terms) {
    if (group === null && term.pre.includes('(')) group = [];
    if (group === null) {
      kept.push(term);
      continue;
    }
    group.push(term);
    if (term.post.includes(')')) {
      const values = optionWords(group.map((member) => `${member.text}${member.post.replace(/[()]/g, '')}`).join(' '));
      if (values.length >= 2 && kept.length > 0) options.set(kept.length - 1, values);
      if (kept.length > 0 && /[,;:.]/.test(term.post)) kept[kept.length - 1] = { ...kept.at(-1)!, post: `${kept.at(-1)!.post},` };
      group = null;
    }
  }
  if (group !== null) kept.push(...group);
  return { terms: kept, options };
}

function termsOf(intent: string): TaggedTerm[] {
  const sentences = nlp(intent).json() as { terms: TaggedTerm[] }[];
  return sentences.flatMap((sentence, index) =>
    sentence.terms.map((term, at) => (at === sentence.terms.length - 1 && index < sentences.length - 1 ? { ...term, post: `${term.post}.` } : term)),
  );
}

export function tokenize(intent: string): Token[] {
  const { terms, options } = attachOptions(termsOf(intent));
  const tokens = terms.map((term, index): Token => {
    const listed = options.get(index);
    return {
      word: fold(term.normal || term.text),
      text: term.text,
      kind: kindOf(term),
      plural: term.tags.includes('Plural'),
      breakAfter: /[,;:.!?]/.test(term.post),
      ...(term.post.includes(':') && { colonAfter: true }),
      ...(listed && { options: listed }),
    };
  });
  correctPluralNouns(tokens, terms);
  correctAfterPrepositions(tokens);
  return tokens.filter((token) => token.word.length > 0);
}

/** The infinitive of a verb form: `tracking` → `track`, `stores` → `store`; compromise first, endings when it does not know the word. */
export function infinitive(word: string): string {
  const known = nlp(word).verbs().toInfinitive().text().toLowerCase();
  if (/^[a-z]+$/.test(known)) return known;
  if (/(ss|sh|ch|x|z)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (word.endsWith('s') && !word.endsWith('ss') && word.length > 3) return word.slice(0, -1);
  return word;
}
