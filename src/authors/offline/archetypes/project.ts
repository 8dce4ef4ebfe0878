/** What a plan's archetype adds to the droplet's files: its plan.json entry, its variables, its code. */
import type { DropletPlan } from '../plan.js';
import { ARCHETYPE_KINDS } from './archetype.js';
import { archetypeOf } from './index.js';

/** `{archetype: {kind, settings}}` for plan.json, nothing without an archetype. */
export function archetypePlanEntry(plan: DropletPlan): Record<string, unknown> {
  if (!plan.archetype) return {};
  return { archetype: { kind: plan.archetype.kind, settings: plan.archetype.settings } };
}

/** `.env.example` lines: each variable that overrides a plan.json setting, empty (unset). */
export function archetypeEnvLines(plan: DropletPlan): string[] {
  if (!plan.archetype) return [];
  const { variables } = archetypeOf(plan.archetype.kind);
  return variables.flatMap((variable) => {
    // A setting of the environment alone (a relay's URL, a secret) has no plan.json default.
    const planned = plan.archetype!.settings[variable.setting];
    return [planned === undefined ? `# ${variable.comment}` : `# ${variable.comment} Default: ${String(planned)} (src/plan.json).`, `${variable.name}=`];
  });
}

const KIND_FILE = /^(?:src|test)\/archetypes\/([a-z-]+?)(?:\.test)?\.js$/;

/**
 * Whether a skeleton file goes into this plan's droplet: an archetype's own code and
 * test (`src/archetypes/<kind>.js`, `test/archetypes/<kind>.test.js`) only into a
 * droplet of that kind; shared files (the loader, the state file) into every droplet.
 */
export function shipsArchetypeFile(plan: DropletPlan, path: string): boolean {
  const kind = KIND_FILE.exec(path)?.[1];
  if (kind === undefined || !(ARCHETYPE_KINDS as readonly string[]).includes(kind)) return true;
  return plan.archetype?.kind === kind;
}
