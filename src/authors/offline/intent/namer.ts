/**
 * A droplet's name from its intent's main noun phrase: "a bookmark service" →
 * `bookmark-service`; when the intent names nothing but "a thing" or "an app", from what
 * it does to what it keeps ("tracking my plants" → `plant-tracker`); and for an intent it
 * cannot read, the domain's fallback (`droplet-<hash>`), never a slug of unread words.
 */
import { dropletNameFrom, fallbackDropletName } from '../../../domain/naming.js';
import type { DropletNamer } from '../../../domain/ports/droplet-namer.js';
import { readIntent, type IntentReading } from './reading.js';
import { VAGUE_HEADS } from './vocabulary.js';

/** The agent noun of a verb: track → tracker, manage → manager, log → logger, monitor → monitor, store → store. */
export function agentNoun(verb: string): string {
  if (/(or|er)$/.test(verb) || verb === 'store') return verb;
  if (verb.endsWith('e')) return `${verb}r`;
  if (verb.endsWith('ct')) return `${verb}or`;
  if (/^[^aeiou]*[aeiou][bdgmnpt]$/.test(verb)) return `${verb}${verb.at(-1)}er`;
  if (/[^aeiou]y$/.test(verb)) return `${verb.slice(0, -1)}ier`;
  return `${verb}er`;
}

/** Verbs too general to make an agent of ("a plant haver"): the name becomes `<record>-service`. */
const PLAIN_VERBS = new Set(['have', 'has', 'hold', 'contain', 'include', 'let', 'allow', 'add', 'be']);

export function nameWords(reading: IntentReading): string[] | null {
  const { subject, action, resources } = reading;
  if (!reading.readable) return null;
  if (subject && (subject.words.length > 1 || !VAGUE_HEADS.has(subject.words[0]!))) return subject.words.slice(-4);
  const record = action?.resource ?? resources[0];
  if (!record) return null;
  const recordWords = record.singular.split('-');
  if (action && !PLAIN_VERBS.has(action.verb)) return [...recordWords, agentNoun(action.verb)];
  return [...recordWords, 'service'];
}

export function dropletNameOf(intent: string, reading: IntentReading = readIntent(intent)): string {
  const parts = nameWords(reading);
  return (parts && dropletNameFrom(parts)) ?? fallbackDropletName(intent);
}

/** The DropletNamer the composition root gives the build service: every author's droplets are named this way. */
export class IntentDropletNamer implements DropletNamer {
  nameFor(intent: string): string {
    return dropletNameOf(intent);
  }
}
