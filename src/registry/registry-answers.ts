/**
 * What a fleet registry at REGISTRY_URL may answer, as zod schemas: the one guard for its
 * answers. A peer need not be an executor, so fields this version does not need get
 * defaults and unknown ones are dropped; what the executor relies on (an entry's id, name,
 * url, version) must be there.
 */
import { z } from 'zod';
import { ENTRY_TOKEN_PATTERN, type RegisterOutcome, type RegistryEntry } from '../domain/ports/fleet-registry.js';

const text = z.string().max(2_000);
const health = z.enum(['healthy', 'degraded', 'unhealthy', 'unknown']).catch('unknown');

export const entryAnswer = z
  .object({
    id: z.number().int().nonnegative(),
    name: z.string().min(1).max(200),
    droplet_id: z.number().int().nullable().default(null),
    url: text,
    health_endpoint: text.default('/health'),
    capabilities: z.array(z.string().max(200)).max(500).default([]),
    version: z.string().max(100),
    build_id: text.nullable().default(null),
    host: text.nullable().default(null),
    provenance: z.record(z.string(), z.unknown()).default({}),
    health,
    ttl_seconds: z.number().int().nonnegative().default(0),
    registered_at: text.default(''),
    updated_at: text.default(''),
    last_heartbeat_at: text.nullable().default(null),
    expires_at: text.default(''),
  })
  .transform((entry): RegistryEntry => entry);

/** `{entry, changed, created, entry_token?}` (the executor's registry), or a bare entry (a simpler peer). */
export function registerAnswer(status: number) {
  return z.union([
    z
      .object({ entry: entryAnswer, changed: z.boolean().default(true), created: z.boolean().optional(), entry_token: z.string().regex(ENTRY_TOKEN_PATTERN).optional() })
      .transform(
        (answer): RegisterOutcome => ({
          entry: answer.entry,
          changed: answer.changed,
          created: answer.created ?? status === 201,
          ...(answer.entry_token !== undefined ? { entry_token: answer.entry_token } : {}),
        }),
      ),
    entryAnswer.transform((entry): RegisterOutcome => ({ entry, changed: true, created: status === 201 })),
  ]);
}

export const servicesAnswer = z.union([
  z.object({ services: z.array(entryAnswer).max(10_000) }).transform((answer) => answer.services),
  z.array(entryAnswer).max(10_000),
]);

/** The UDC error shape, when the registry answered one: its code and message are quoted in ours. */
export const errorAnswer = z.object({
  error: z.object({ code: z.string().max(100).optional(), message: z.string().optional() }),
});
