/**
 * Whether an intent is English, the one language the offline author reads. franc
 * compares trigram profiles; short English intents with proper names ("Build Parking
 * Finder for open spaces") can score a little below another language, so English
 * passes when its score is close to the best, and an intent too short to tell is
 * given the benefit of the doubt.
 */
import { francAll } from 'franc-min';

/** Languages architects plausibly write in; narrowing the candidates steadies short texts. */
const CANDIDATES = ['eng', 'fra', 'deu', 'spa', 'ita', 'por', 'nld'];
/** English's score relative to the best candidate (1): measured English intents score ≥ 0.83, French/German/Spanish ≤ 0.65. */
const ENGLISH_MARGIN = 0.75;

/** Letters outside ASCII (é, ü, ñ; typographic quotes and dashes aside) make English need the best score. */
function hasForeignLetters(intent: string): boolean {
  return /[^\x20-\x7e\s]/.test(intent.replace(/[\u2018\u2019\u201c\u201d\u2013\u2014\u2026]/g, ''));
}

/**
 * Words only English uses among the candidates (not "a", "me", "on", which French and
 * Spanish share): two of them, or an intent opening with "Build"/"Create"…, is English
 * however its trigrams score ("Build a todo list" reads as Spanish to franc).
 */
const ENGLISH_WORDS = new Set(['the', 'an', 'for', 'with', 'that', 'which', 'and', 'of', 'to', 'my', 'our', 'where', 'should', 'build', 'create', 'make', 'track', 'store', 'keep', 'manage']);
const OPENERS = new Set(['build', 'create', 'make', 'write', 'develop', 'implement', 'design', 'track', 'manage', 'store', 'keep']);

function hasEnglishWords(intent: string): boolean {
  const words = intent.toLowerCase().split(/[^a-z]+/).filter(Boolean);
  return OPENERS.has(words[0] ?? '') || new Set(words.filter((word) => ENGLISH_WORDS.has(word))).size >= 2;
}

export function isEnglish(intent: string): boolean {
  const scores = francAll(intent, { only: CANDIDATES });
  const [best] = scores[0] ?? ['und'];
  if (best === 'und' || best === 'eng') return true;
  if (hasForeignLetters(intent)) return false;
  if (hasEnglishWords(intent)) return true;
  const english = scores.find(([language]) => language === 'eng')?.[1] ?? 0;
  return english >= ENGLISH_MARGIN;
}
