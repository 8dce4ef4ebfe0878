/** What the reader makes of an intent: its resources, their attributes and owners, and its coverage. */
import type { IntentCoverage } from '../../../domain/coverage.js';
import type { NounPhrase } from './phrases.js';

export const MAX_RESOURCES = 5;

export interface AttributeReading {
  phrase: NounPhrase;
  /** The record is this value ("a bookmark service that stores *links*"): required. */
  primary: boolean;
}

export interface ResourceReading {
  /** URL segment, kebab-case: `stock-levels`. */
  plural: string;
  /** One record: `stock-level`. */
  singular: string;
  phrase: NounPhrase;
  attributes: AttributeReading[];
  /** Plurals of the resources each record names ("per warehouse" → `warehouses`). */
  owners: string[];
  /** Participles of "recorded at": each becomes a `<word>_at` time. */
  timestamps: string[];
  /**
   * Named only by the droplet's name ("a *library* catalogue") and not yet by anything
   * else in the intent: dropped when the intent names other records and says nothing of it.
   */
  provisional?: boolean;
}

export interface IntentReading {
  /** False for intents the reader cannot read (not English, a single word). */
  readable: boolean;
  /** The thing to build, as named: "bookmark service", "analytics engine". */
  subject: NounPhrase | null;
  /** The first keeping verb and the record it keeps: "tracking my plants" → track, plants. */
  action: { verb: string; resource: ResourceReading } | null;
  resources: ResourceReading[];
  coverage: IntentCoverage;
}
