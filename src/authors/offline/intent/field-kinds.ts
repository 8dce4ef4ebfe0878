/**
 * What kind of value a phrase names: "due dates" a date, "links" a url, "price" a
 * number, "done" a boolean. The words are singular (`pluralize` made them so).
 */

export type ValueKind = 'url' | 'email' | 'phone' | 'date' | 'datetime' | 'duration' | 'integer' | 'number' | 'boolean' | 'tags' | 'text' | 'title';

const URL_WORDS = new Set(['url', 'link', 'uri', 'website', 'homepage', 'href', 'permalink']);
const EMAIL_WORDS = new Set(['email', 'e-mail', 'mail']);
const PHONE_WORDS = new Set(['phone', 'telephone', 'mobile', 'fax']);
const DATE_WORDS = new Set(['date', 'day', 'birthday', 'deadline', 'dob', 'anniversary']);
const DATETIME_WORDS = new Set(['timestamp', 'datetime', 'time', 'moment']);
/** "cooking times", "reading time": how long, in minutes. */
const DURATION_WORDS = new Set(['duration', 'minute', 'hour']);
const INTEGER_WORDS = new Set([
  'quantity', 'count', 'qty', 'unit', 'level', 'age', 'year', 'serving', 'page', 'vote', 'seat', 'capacity', 'stock',
  'calorie', 'step', 'rank', 'position', 'attendee', 'guest', 'copy', 'floor', 'room', 'star', 'point', 'rep', 'set',
]);
const NUMBER_WORDS = new Set([
  'price', 'cost', 'amount', 'total', 'balance', 'fee', 'salary', 'budget', 'value', 'weight', 'height', 'width',
  'length', 'distance', 'temperature', 'percentage', 'percent', 'latitude', 'longitude', 'rating', 'score', 'rate',
  'tax', 'discount', 'revenue', 'spend', 'volume', 'size', 'humidity', 'rainfall',
]);
const BOOLEAN_WORDS = new Set([
  'done', 'active', 'paid', 'completed', 'complete', 'archived', 'enabled', 'disabled', 'public', 'private', 'read',
  'unread', 'favorite', 'favourite', 'verified', 'available', 'visible', 'published', 'resolved', 'closed', 'open',
  'approved', 'flag', 'flagged', 'pinned', 'starred', 'finished', 'watered', 'urgent',
]);
const TAG_WORDS = new Set(['tag', 'label', 'keyword', 'hashtag']);
const TEXT_WORDS = new Set(['description', 'note', 'notes', 'body', 'content', 'text', 'summary', 'comment', 'detail', 'details', 'bio', 'instruction', 'instructions', 'review']);
const TITLE_WORDS = new Set(['name', 'title', 'subject', 'headline', 'label']);

/** The kind the head word gives, if it is a kind of value at all. */
export function valueKindOfHead(head: string): ValueKind | null {
  if (URL_WORDS.has(head)) return 'url';
  if (EMAIL_WORDS.has(head)) return 'email';
  if (PHONE_WORDS.has(head)) return 'phone';
  if (DATE_WORDS.has(head)) return 'date';
  if (DATETIME_WORDS.has(head)) return 'datetime';
  if (DURATION_WORDS.has(head)) return 'duration';
  if (INTEGER_WORDS.has(head)) return 'integer';
  if (NUMBER_WORDS.has(head)) return 'number';
  if (BOOLEAN_WORDS.has(head)) return 'boolean';
  if (TAG_WORDS.has(head)) return 'tags';
  if (TEXT_WORDS.has(head)) return 'text';
  if (TITLE_WORDS.has(head)) return 'title';
  return null;
}

/**
 * The kind of a whole phrase (singular words, head last): a date is "due" or "appointment
 * date", a time spent doing something ("cooking time") is a duration, a "done flag" is
 * the boolean `done`.
 */
export function valueKindOf(words: readonly string[]): ValueKind | null {
  const head = words.at(-1);
  if (head === undefined) return null;
  const modifiers = words.slice(0, -1);
  if (head === 'time' && modifiers.some((word) => word.endsWith('ing'))) return 'duration';
  if (head === 'flag' && modifiers.length > 0) return 'boolean';
  if (head === 'number' && modifiers.some((word) => PHONE_WORDS.has(word))) return 'phone';
  if (modifiers.includes('due') && (head === 'date' || head === 'time')) return head === 'date' ? 'date' : 'datetime';
  return valueKindOfHead(head);
}

/** Kinds whose words are a value in themselves, so a phrase of them is a field, never a record of its own. */
const VALUE_KINDS = new Set<ValueKind>(['url', 'email', 'phone', 'date', 'datetime', 'duration', 'boolean', 'tags', 'title']);
/** Text words that are a value and never a record ("notes", "comments" and "reviews" may well be records). */
const VALUE_TEXT = new Set(['description', 'body', 'content', 'summary', 'text', 'bio', 'detail', 'details', 'instruction', 'instructions']);

export function isValueWord(head: string): boolean {
  const kind = valueKindOfHead(head);
  return kind !== null && (VALUE_KINDS.has(kind) || VALUE_TEXT.has(head));
}
