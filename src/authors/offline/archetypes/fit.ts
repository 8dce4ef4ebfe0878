/**
 * Which archetype, if any, an intent asks for, and what of the intent it then covers:
 * the phrase that named it, the phrases about what it serves, and the resources it
 * stands for. Records the intent also names stay beside it.
 */
import type { IntentCoverage } from '../../../domain/coverage.js';
import type { IntentReading, ResourceReading } from '../intent/reading.js';
import { singular } from '../intent/phrases.js';
import type { Archetype, ArchetypePlan } from './archetype.js';
import { ARCHETYPES } from './index.js';

/** Words that only say "a thing that serves": covered by whatever the droplet is. */
const GENERIC_WORDS = new Set(['service', 'app', 'application', 'api', 'system', 'tool', 'server', 'microservice', 'droplet', 'thing', 'engine', 'platform']);

export interface ArchetypeFit {
  archetype: ArchetypePlan;
  /** The records kept beside the archetype. */
  resources: ResourceReading[];
  coverage: IntentCoverage;
}

/** The intent's words, lower case and singular, joined by single spaces: what triggers match. */
export function intentWords(text: string): string[] {
  return (text.toLowerCase().match(/[a-z0-9]+/g) ?? []).map((word) => singular(word));
}

function matchedPhrase(archetype: Archetype, intent: string, reading: IntentReading): string | null {
  const matches = (text: string) => archetype.triggers.some((trigger) => trigger.test(intentWords(text).join(' ')));
  if (!matches(intent)) return null;
  const phrases = [reading.subject?.text, ...reading.coverage.not_covered, ...reading.coverage.covered].filter((text): text is string => !!text);
  return phrases.find(matches) ?? intent.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/** The first archetype (in ARCHETYPES order) whose triggers match the intent; also for intents too short to read ("Rate-limit calls per key"). */
export function detectArchetype(intent: string, reading: IntentReading): { archetype: Archetype; phrase: string } | null {
  for (const archetype of ARCHETYPES) {
    const phrase = matchedPhrase(archetype, intent, reading);
    if (phrase !== null) return { archetype, phrase };
  }
  return null;
}

const serves = (archetype: Archetype, text: string): boolean => {
  const words = intentWords(text);
  return words.some((word) => archetype.vocabulary.has(word)) || words.every((word) => GENERIC_WORDS.has(word));
};

function isTheArchetypes(archetype: Archetype, resource: ResourceReading): boolean {
  const head = resource.phrase.nouns.at(-1) ?? resource.singular;
  return archetype.vocabulary.has(singular(head)) || archetype.paths.includes(resource.plural) || GENERIC_WORDS.has(head);
}

export function fitArchetype(intent: string, reading: IntentReading): ArchetypeFit | null {
  const found = detectArchetype(intent, reading);
  if (!found) return null;
  const { archetype, phrase } = found;
  const kept = reading.resources.filter((resource) => !isTheArchetypes(archetype, resource));
  const dropped = reading.resources.filter((resource) => !kept.includes(resource));
  const notCovered = reading.coverage.not_covered.filter((text) => text !== phrase && !serves(archetype, text));
  const covered = [phrase, ...reading.coverage.covered, ...reading.coverage.not_covered.filter((text) => !notCovered.includes(text))];
  for (const resource of dropped) covered.push(resource.phrase.text);
  return {
    archetype: { kind: archetype.kind, settings: { ...archetype.settings }, covers: phrase },
    resources: kept,
    coverage: { covered: [...new Set(covered)], not_covered: notCovered },
  };
}
