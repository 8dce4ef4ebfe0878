/**
 * What an intent asks for, as far as a droplet of records can serve it: the thing to
 * build (its subject: "a bookmark service"), the records it keeps (noun phrases that
 * are objects of "store", "track", "for"…), what describes each record ("with tags",
 * "where tasks have a priority (low/medium/high)"), which record belongs to which
 * ("stock levels per warehouse"), and, honestly, what it could not map: behaviour
 * ("fans out messages to email and slack"), names of archetypes ("rate limiter"),
 * nouns beyond the resource limit, and intents it cannot read at all.
 */
import { ClauseReader } from './clauses.js';
import { isEnglish } from './language.js';
import { isPhraseWord, toPhrase, type NounPhrase } from './phrases.js';
import { tokenize, type Token } from './tokens.js';
import type { IntentReading } from './types.js';
import { CONTAINER_HEADS, CREATION_VERBS } from './vocabulary.js';

export { MAX_RESOURCES, type AttributeReading, type IntentReading, type ResourceReading } from './types.js';

/** Verbs an intent may open with to say what the droplet keeps. */
const IMPERATIVES = new Set(['log', 'track', 'record', 'store', 'manage', 'keep', 'collect', 'save', 'catalog', 'catalogue']);

/** Leading words that ask for a droplet ("Build me a…") and the subject after them. */
function opening(tokens: readonly Token[]): { subject: NounPhrase | null; rest: number } {
  let at = 0;
  while (at < tokens.length && (CREATION_VERBS.has(tokens[at]!.word) || ['determiner', 'pronoun'].includes(tokens[at]!.kind))) at += 1;
  const first = tokens[at];
  // "Log workouts…", "Track expenses…": an imperative compromise may take for a noun.
  if (at === 0 && first && IMPERATIVES.has(first.word) && ['noun', 'adjective', 'determiner', 'pronoun'].includes(tokens[1]?.kind ?? '')) first.kind = 'verb';
  // "Track warehouses…": the intent starts with what the droplet does, not with its name.
  // ("Service to store…", "App for…": compromise may read a leading noun as an imperative.)
  const named = first?.kind === 'verb' && CONTAINER_HEADS.has(first.word) && ['preposition', 'conjunction', 'relative'].includes(tokens[at + 1]?.kind ?? '');
  if (at === 0 && first?.kind === 'verb' && !named) return { subject: null, rest: 0 };
  if (named) first.kind = 'noun';
  let end = at;
  while (end < tokens.length && isPhraseWord(tokens[end]!, tokens[end + 1], tokens[end - 1]) && !(end > at && tokens[end - 1]!.breakAfter)) end += 1;
  return { subject: end > at ? toPhrase(tokens.slice(at, end)) : null, rest: end };
}

const unique = (values: readonly string[]): string[] => [...new Set(values.map((value) => value.trim()).filter(Boolean))];

export function readIntent(intent: string): IntentReading {
  const oneLine = intent.replace(/\s+/g, ' ').trim();
  const tokens = tokenize(oneLine);
  const wordCount = tokens.filter((token) => /[a-z]/.test(token.word)).length;
  if (wordCount < 2 || !isEnglish(oneLine)) {
    return { readable: false, subject: null, action: null, resources: [], coverage: { covered: [], not_covered: oneLine ? [oneLine.slice(0, 200)] : [] } };
  }
  const { subject, rest } = opening(tokens);
  const reader = new ClauseReader();
  const fallback = subject ? reader.takeSubject(subject) : null;
  reader.read(tokens.slice(rest));
  reader.dropProvisional();
  if (subject) reader.fallBackTo(fallback, subject.text);
  const unused = reader.resources.length === 0 ? reader.ignored.filter((text) => !reader.notCovered.some((entry) => entry.includes(text))) : [];
  const notCovered = [...reader.notCovered, ...unused];
  if (reader.resources.length === 0 && notCovered.length === 0) notCovered.push(oneLine.slice(0, 200));
  return {
    readable: true,
    subject,
    action: reader.action,
    resources: reader.resources,
    coverage: { covered: unique(reader.covered), not_covered: unique(notCovered) },
  };
}
