/**
 * What the offline author builds, read from the intent (`intent/reading.ts`): the same
 * intent and droplet always give the same plan.
 */
import type { DropletIdentity } from '../../domain/build.js';
import type { IntentCoverage } from '../../domain/coverage.js';
import { fieldsFor, type FieldPlan } from './fields.js';
import { readIntent, type ResourceReading } from './intent/reading.js';
import type { ArchetypePlan } from './archetypes/archetype.js';
import { archetypeOf } from './archetypes/index.js';
import { fitArchetype } from './archetypes/fit.js';

export interface ResourcePlan {
  /** URL segment, kebab-case: `metrics`, `stock-levels`, `performance` (a mass noun stays as written). */
  plural: string;
  /** One record: `metric`, `stock-level`, `performance`. */
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
  /** What the droplet is when it is not only records (`archetypes/`): a rate limiter, a URL shortener… */
  archetype?: ArchetypePlan;
  capabilities: string[];
  supportedOperations: string[];
  /** The intent's phrases the droplet serves and the ones it could not map. */
  coverage: IntentCoverage;
}

export { MAX_RESOURCES } from './intent/reading.js';
const MAX_PURPOSE_LENGTH = 500;

/** What a droplet keeps when the intent names nothing it can keep: honest coverage says so. */
const FALLBACK_RESOURCE: ResourceReading = {
  plural: 'items',
  singular: 'item',
  phrase: { words: ['item'], nouns: ['item'], text: 'items', adjectives: [], plural: true },
  attributes: [],
  owners: [],
  timestamps: [],
};

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
  const reading = readIntent(intent);
  // An archetype (a rate limiter…) is asked first; the records the intent also names stay beside it.
  const fit = fitArchetype(intent, reading);
  const served = fit ? archetypeOf(fit.archetype.kind) : undefined;
  const named = fit ? fit.resources : reading.resources;
  const read = named.length > 0 || fit ? named : [FALLBACK_RESOURCE];
  const resources = read.map((resource): ResourcePlan => ({ plural: resource.plural, singular: resource.singular, fields: fieldsFor(resource) }));
  const capabilities = [...(served?.capabilities ?? []), ...resources.map((r) => `${r.plural}_management`), 'udc_messaging'];
  const supportedOperations = [...(served?.supportedOperations ?? []), ...resources.flatMap((r) => [
    `list_${r.plural}`,
    `get_${r.singular}`,
    `create_${r.singular}`,
    `update_${r.singular}`,
    `delete_${r.singular}`,
  ])];
  supportedOperations.push('receive_message');
  return {
    name: droplet.name,
    dropletId: droplet.dropletId,
    title,
    purpose: purposeOf(intent, title),
    resources,
    ...(fit ? { archetype: fit.archetype } : {}),
    capabilities,
    supportedOperations,
    coverage: fit?.coverage ?? reading.coverage,
  };
}
