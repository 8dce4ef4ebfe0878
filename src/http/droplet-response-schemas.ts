/**
 * What the droplet lifecycle routes answer, field for field. routes/droplets.ts builds each
 * answer through a function typed with these schemas' output types, so a field added to, or
 * dropped from, an answer without its schema fails the compile (as the build shapes do
 * against src/domain/status.ts in response-schemas.ts).
 */
import { z } from 'zod';
import { DEPLOYMENT_STATUSES } from '../domain/deployment.js';

const time = z.string().describe('ISO 8601 time');
const LIVE_HEALTH = ['healthy', 'unhealthy', 'unreachable', 'stopped', 'not_deployed'] as const;

export const releaseSchema = z
  .object({
    release: z.string().describe('The build id of the release.'),
    status: z.enum(DEPLOYMENT_STATUSES),
    target: z.string().describe('`local` or `ssh`.'),
    host: z.string().describe('`local`, or `user@host:port`.'),
    url: z.string().describe("The droplet's stable public address."),
    commit: z.string(),
    supervisor: z.string().describe('`process`, or `systemd:<unit>` / `systemd-user:<unit>`.'),
    pid: z.number().int().nullable(),
    port: z.number().int().nullable(),
    deployed_at: time,
    started_at: time.nullable(),
  })
  .meta({ id: 'DropletRelease' });

const earlierRelease = releaseSchema.extend({ on_host: z.boolean().describe('Whether the host still holds it: a rollback target.') });

const liveHealth = z.object({
  status: z.enum(LIVE_HEALTH),
  checked_at: time.optional(),
  detail: z.string().optional().describe('What /health answered, or why it could not be asked.'),
});

/** The registry's fields, at the top level; only `url` (null) when the droplet is not registered. */
export const registrationSchema = z.object({
  url: z.string().nullable(),
  host: z.string().nullable().optional(),
  version: z.string().optional(),
  capabilities: z.array(z.string()).optional(),
  build_id: z.string().optional(),
  commit: z.string().optional(),
  registered_at: time.optional(),
  updated_at: time.optional(),
});

export const deploymentSchema = z.object({
  deployment: releaseSchema.nullable(),
  health: liveHealth,
  releases: z.array(earlierRelease),
});

export const dropletSummarySchema = z
  .object({ droplet_id: z.number().int(), name: z.string(), ...registrationSchema.shape, ...deploymentSchema.shape })
  .meta({ id: 'DropletSummary' });

export const dropletEventSchema = z.object({ seq: z.number().int(), type: z.string(), data: z.record(z.string(), z.unknown()), at: time });

export const dropletViewSchema = dropletSummarySchema.extend({ events: z.array(dropletEventSchema) }).meta({ id: 'DropletView' });

export const dropletActionSchema = z
  .object({
    action: z.string(),
    droplet_id: z.number().int(),
    release: z.string(),
    host: z.string(),
    url: z.string(),
    commit: z.string(),
    started_at: time.nullable(),
  })
  .meta({ id: 'DropletAction' });

export type ReleaseJson = z.output<typeof releaseSchema>;
export type RegistrationJson = z.output<typeof registrationSchema>;
export type DeploymentJson = z.output<typeof deploymentSchema>;
export type DropletSummaryJson = z.output<typeof dropletSummarySchema>;
export type DropletActionJson = z.output<typeof dropletActionSchema>;
