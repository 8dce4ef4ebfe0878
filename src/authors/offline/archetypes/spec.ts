/** The SPEC's words for a plan's archetype: a line under Purpose, its endpoints and its own section. */
import type { DropletPlan } from '../plan.js';
import type { EndpointLine } from './archetype.js';
import { archetypeOf } from './index.js';

export interface ArchetypeSection {
  /** Under "Purpose"; ends with a blank line, empty without an archetype. */
  summary: string;
  endpoints: readonly EndpointLine[];
  /** A whole `##` section ending with a blank line, empty without an archetype. */
  section: string;
  /** For "Not covered": what the archetype cannot do alone. */
  limits: readonly string[];
}

export function archetypeSection(plan: DropletPlan): ArchetypeSection {
  if (!plan.archetype) return { summary: '', endpoints: [], section: '', limits: [] };
  const archetype = archetypeOf(plan.archetype.kind);
  const beside = plan.resources.length > 0 ? ' Beside it, it keeps the records below.' : '';
  return {
    summary: `The droplet is a ${archetype.title.toLowerCase()} ("${plan.archetype.covers.replace(/"/g, "'")}"), served over a small JSON API next to the five UDC endpoints every droplet answers.${beside}\n\n`,
    endpoints: archetype.endpoints,
    section: `## ${archetype.title}\n\n${archetype.spec(plan.archetype)}\n\n`,
    limits: archetype.limits ?? [],
  };
}
