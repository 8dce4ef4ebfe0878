/**
 * Archetypes: droplets that are not plain records (a rate limiter, a URL shortener…).
 * Each one is recognised from the intent's words and brings its own part of the SPEC,
 * of the OpenAPI document and of the acceptance scenarios; its code is the skeleton's
 * `src/archetypes/<kind>.js`, configured by the `archetype` entry of `src/plan.json`.
 */
import type { AcceptanceScenario } from '../../../domain/acceptance.js';
import type { JsonSchema } from '../field-schema.js';

export const ARCHETYPE_KINDS = ['rate-limiter', 'url-shortener', 'metrics', 'scheduler', 'service-registry', 'notification-hub'] as const;
export type ArchetypeKind = (typeof ARCHETYPE_KINDS)[number];

export type ArchetypeSettings = Record<string, number | string | boolean>;

/** The archetype a plan chose: `kind` and `settings` go into plan.json; `covers` quotes the intent. */
export interface ArchetypePlan {
  kind: ArchetypeKind;
  settings: ArchetypeSettings;
  /** The intent's phrase that named the archetype ("rate limiter service"). */
  covers: string;
}

export interface EndpointLine {
  method: string;
  path: string;
  description: string;
}

/** One environment variable that overrides a plan setting; shown in `.env.example`. */
export interface SettingVariable {
  name: string;
  setting: string;
  comment: string;
}

export interface OpenApiPart {
  paths: Record<string, unknown>;
  schemas: Record<string, JsonSchema>;
}

export interface Archetype {
  kind: ArchetypeKind;
  /** `Rate limiter`: the SPEC section's title. */
  title: string;
  /** Matched against the intent's words, singular and lower case, joined by single spaces. */
  triggers: readonly RegExp[];
  /**
   * Singular words of what the archetype serves: a phrase of the intent holding one is
   * covered by it, and a resource named by one is the archetype's, not a record of its own.
   */
  vocabulary: ReadonlySet<string>;
  /** URL segments the archetype's routes own: a record resource may not take them. */
  paths: readonly string[];
  settings: ArchetypeSettings;
  variables: readonly SettingVariable[];
  capabilities: readonly string[];
  supportedOperations: readonly string[];
  /** In the order the droplet registers them; the same list its /capabilities shows. */
  endpoints: readonly EndpointLine[];
  /** What the archetype's own words promise but the droplet cannot do alone (email without a relay): the SPEC's "Not covered" says it. */
  limits?: readonly string[];
  spec(plan: ArchetypePlan): string;
  openApi(plan: ArchetypePlan): OpenApiPart;
  scenarios(plan: ArchetypePlan): AcceptanceScenario[];
}
