/** Every archetype the offline author knows, in the order they are tried. */
import type { Archetype, ArchetypeKind } from './archetype.js';
import { RATE_LIMITER } from './rate-limiter.js';
import { METRICS } from './metrics.js';
import { NOTIFICATION_HUB } from './notification-hub.js';
import { SCHEDULER } from './scheduler.js';
import { SERVICE_REGISTRY } from './service-registry.js';
import { URL_SHORTENER } from './url-shortener.js';

export const ARCHETYPES: readonly Archetype[] = [RATE_LIMITER, URL_SHORTENER, METRICS, SCHEDULER, SERVICE_REGISTRY, NOTIFICATION_HUB];

export function archetypeOf(kind: ArchetypeKind): Archetype {
  const archetype = ARCHETYPES.find((candidate) => candidate.kind === kind);
  if (!archetype) throw new Error(`No archetype "${kind}" is built in.`);
  return archetype;
}

/** Known kinds whose code is not written yet are refused here, not at the droplet's boot. */
export const isBuiltIn = (kind: string): boolean => ARCHETYPES.some((archetype) => archetype.kind === kind);
