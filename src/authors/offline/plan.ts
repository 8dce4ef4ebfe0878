/**
 * What the offline author builds, derived from the intent by fixed rules:
 * the same intent and droplet always give the same plan.
 */
import type { DropletIdentity } from '../../domain/build.js';
import { words } from '../../domain/naming.js';
import { fieldsFor, type FieldPlan } from './fields.js';

export interface ResourcePlan {
  /** URL segment and module name, as the intent wrote it: `metrics`, `performance`. */
  plural: string;
  /** One record: `metric`, `performance`. */
  singular: string;
  fields: FieldPlan[];
}

export interface DropletPlan {
  name: string;
  dropletId: number;
  /** `Analytics Engine` */
  title: string;
  /** The intent as one sentence. */
  purpose: string;
  resources: ResourcePlan[];
  capabilities: string[];
  supportedOperations: string[];
}

export const MAX_RESOURCES = 2;
const MAX_PURPOSE_LENGTH = 500;

/** Words after which the intent says what the droplet works on. */
const OBJECT_MARKERS = new Set(['for', 'to', 'that', 'which', 'who', 'of', 'about', 'around', 'over', 'with']);
/** Markers followed by a verb ("to *schedule* jobs", "that *sends* alerts"): the verb is skipped. */
const VERB_MARKERS = new Set(['to', 'that', 'which', 'who']);
/** Words that end a noun phrase without being part of one. */
const STOPWORDS = new Set([
  'a', 'an', 'the', 'and', 'or', 'but', 'nor', 'for', 'to', 'that', 'which', 'who', 'whom', 'of', 'about', 'around',
  'over', 'with', 'without', 'in', 'on', 'at', 'by', 'from', 'into', 'onto', 'via', 'per', 'as', 'so', 'using',
  'all', 'any', 'each', 'every', 'some', 'many', 'more', 'most', 'other', 'its', 'their', 'our', 'your', 'my',
  'this', 'these', 'those', 'it', 'them', 'they', 'we', 'us', 'you', 'is', 'are', 'be', 'can', 'will', 'should',
  'must', 'may', 'then', 'than', 'also', 'new', 'real', 'time', 'simple', 'basic', 'small', 'api', 'apis', 'service',
  'services', 'external', 'internal', 'app', 'apps', 'application', 'tool', 'system', 'platform', 'server', 'backend', 'droplet', 'droplets', 'based', 'across', 'between', 'within', 'when', 'where', 'while', 'how',
]);
/** Paths the UDC owns, and names that would read badly as a resource. */
const RESERVED = new Set(['health', 'capabilities', 'state', 'dependencies', 'message', 'index', 'data', 'things']);
const FALLBACK_RESOURCE = 'items';

function isGerund(word: string): boolean {
  return word.length > 4 && word.endsWith('ing');
}

/** Ends a noun phrase where the intent had punctuation ("posts, comments and authors"). */
const PHRASE_BREAK = ',';

function tokens(intent: string): string[] {
  return intent.split(/[,;:.!?()]+/).flatMap((part, index) => (index === 0 ? words(part) : [PHRASE_BREAK, ...words(part)]));
}

/** Head nouns of the noun phrases after the first object marker, in order, at most MAX_RESOURCES. */
export function deriveResourceNames(intent: string): string[] {
  const all = tokens(intent);
  const markerAt = all.findIndex((word) => OBJECT_MARKERS.has(word));
  if (markerAt === -1) return [FALLBACK_RESOURCE];
  const tail = all.slice(markerAt + 1);
  if (VERB_MARKERS.has(all[markerAt]!) && tail.length > 0 && !STOPWORDS.has(tail[0]!)) tail.shift();

  const heads: string[] = [];
  let phrase: string[] = [];
  const closePhrase = (): void => {
    const head = phrase.at(-1);
    phrase = [];
    if (head && !heads.includes(head)) heads.push(head);
  };
  for (const word of tail) {
    const usable = /^[a-z][a-z0-9]{1,29}$/.test(word) && !STOPWORDS.has(word) && !isGerund(word);
    if (usable) phrase.push(word);
    else closePhrase();
  }
  closePhrase();
  const resources = heads.filter((word) => !RESERVED.has(word)).slice(0, MAX_RESOURCES);
  return resources.length > 0 ? resources : [FALLBACK_RESOURCE];
}

/** `entries` → `entry`, `metrics` → `metric`, `statuses` → `status`; mass nouns stay. */
export function singularOf(plural: string): string {
  if (/(ss|us|is)$/.test(plural)) return plural;
  if (plural.endsWith('ies') && plural.length > 4) return `${plural.slice(0, -3)}y`;
  if (/(sses|xes|ches|shes|uses)$/.test(plural)) return plural.slice(0, -2);
  if (plural.endsWith('s') && plural.length > 3) return plural.slice(0, -1);
  return plural;
}

function titleOf(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join(' ');
}

function purposeOf(intent: string, title: string): string {
  const oneLine = intent.replace(/\s+/g, ' ').trim().slice(0, MAX_PURPOSE_LENGTH);
  if (!oneLine) return `${title} droplet.`;
  const sentence = oneLine.charAt(0).toUpperCase() + oneLine.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

export function planDroplet(intent: string, droplet: DropletIdentity): DropletPlan {
  const title = titleOf(droplet.name);
  const resources = deriveResourceNames(intent).map((plural): ResourcePlan => {
    const singular = singularOf(plural);
    return { plural, singular, fields: fieldsFor(plural, singular) };
  });
  const capabilities = [...resources.map((r) => `${r.plural}_management`), 'udc_messaging'];
  const supportedOperations = resources.flatMap((r) => [
    `list_${r.plural}`,
    `get_${r.singular}`,
    `create_${r.singular}`,
    `update_${r.singular}`,
    `delete_${r.singular}`,
  ]);
  supportedOperations.push('receive_message');
  return {
    name: droplet.name,
    dropletId: droplet.dropletId,
    title,
    purpose: purposeOf(intent, title),
    resources,
    capabilities,
    supportedOperations,
  };
}
