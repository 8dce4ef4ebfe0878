// @ts-check
// The droplet's archetype, when plan.json names one ("archetype": {"kind", "settings"}):
// its module (src/archetypes/<kind>.js, the only kind file this droplet ships) is loaded
// once, before the app is built, and registers its routes beside the records' routes.
import { StartupError } from '../errors.js';
import { loadPlan } from '../plan.js';

/** @typedef {import('../config.js').Env} Env */
/** @typedef {import('../crud.js').Endpoint} Endpoint */
/** @typedef {Record<string, number | string | boolean>} Settings */
/**
 * `apiToken` is the droplet's own, for the calls it makes to itself (a notification hub's relative webhook targets).
 * @typedef {{ settings: Settings, dataDir: string, now: () => number, apiToken?: string }} ArchetypeContext
 * @typedef {{ count(): number, flushed(): Promise<unknown> }} ArchetypeState
 * @typedef {{
 *   endpoints: Endpoint[],
 *   publicRoutes?: string[],
 *   settingsFrom(planned: Settings, env: Env): Settings,
 *   register(app: import('fastify').FastifyInstance, context: ArchetypeContext): ArchetypeState,
 * }} ArchetypeModule
 */

export const ARCHETYPE_KINDS = ['rate-limiter', 'url-shortener', 'metrics', 'scheduler', 'service-registry', 'notification-hub'];

/** The planned kind, or undefined; a plan that cannot be read is reported by loadPlan() when the app is built. */
function plannedKind() {
  try {
    return loadPlan().archetype?.kind;
  } catch {
    return undefined;
  }
}

/** @param {string} kind */
async function load(kind) {
  try {
    return /** @type {ArchetypeModule} */ (await import('./' + kind + '.js'));
  } catch {
    return undefined;
  }
}

const kind = plannedKind();
/** @type {ArchetypeModule | undefined} */
const loaded = kind && ARCHETYPE_KINDS.includes(kind) ? await load(kind) : undefined;

/**
 * The planned archetype's module; undefined when the plan names none.
 * @throws {StartupError} when the plan names one whose code is missing
 */
export function plannedArchetype() {
  const planned = loadPlan().archetype;
  if (!planned) return undefined;
  if (!loaded) throw new StartupError('src/plan.json names the archetype "' + planned.kind + '", but src/archetypes/' + planned.kind + '.js could not be loaded.');
  return { module: loaded, planned };
}

/**
 * The archetype's settings: plan.json's, with the environment's overrides.
 * @param {Env} env
 * @returns {Settings}
 */
export function archetypeSettings(env) {
  const archetype = plannedArchetype();
  return archetype ? archetype.module.settingsFrom(archetype.planned.settings, env) : {};
}
