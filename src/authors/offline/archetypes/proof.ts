/** A plan's archetype's part of the SPEC's proof: its OpenAPI paths and schemas, its scenarios. */
import type { AcceptanceScenario } from '../../../domain/acceptance.js';
import type { JsonSchema } from '../field-schema.js';
import type { DropletPlan } from '../plan.js';
import { archetypeOf } from './index.js';

export interface ArchetypeOpenApi {
  tags: { name: string; description: string }[];
  paths: Record<string, unknown>;
  schemas: Record<string, JsonSchema>;
}

/** Every operation of the archetype is tagged with its kind. */
export function archetypeOpenApi(plan: DropletPlan): ArchetypeOpenApi {
  if (!plan.archetype) return { tags: [], paths: {}, schemas: {} };
  const archetype = archetypeOf(plan.archetype.kind);
  const part = archetype.openApi(plan.archetype);
  const tagged = Object.fromEntries(
    Object.entries(part.paths).map(([path, item]) => [
      path,
      Object.fromEntries(Object.entries(item as Record<string, unknown>).map(([key, value]) => [key, key === 'parameters' ? value : { ...(value as object), tags: [archetype.kind] }])),
    ]),
  );
  return { tags: [{ name: archetype.kind, description: `The ${archetype.title.toLowerCase()}.` }], paths: tagged, schemas: part.schemas };
}

export function archetypeScenarios(plan: DropletPlan): AcceptanceScenario[] {
  return plan.archetype ? archetypeOf(plan.archetype.kind).scenarios(plan.archetype) : [];
}
