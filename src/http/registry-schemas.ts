/**
 * What the `/registry` routes accept from peers, as zod schemas: the one guard for
 * registrations, heartbeats, service queries and entry ids. Peers need not be executors,
 * so provenance keeps fields this version does not know.
 */
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { ENTRY_TOKEN_PATTERN } from '../domain/ports/fleet-registry.js';

/** Starts with a letter so a name can never be read as a numeric id. */
export const REGISTRY_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9._-]{0,99}$/;
/** semver 2.0.0, pre-release and build metadata included. */
export const SEMVER_PATTERN =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
export const SERVICE_HEALTHS = ['healthy', 'degraded', 'unhealthy', 'unknown'] as const;
export const HEARTBEAT_STATUSES = ['healthy', 'degraded', 'unhealthy'] as const;

const name = z.string().regex(REGISTRY_NAME_PATTERN, 'Must be a service name such as "plant-tracker" (a letter, then letters, digits, ".", "_" or "-").');

/** Link-local and cloud metadata addresses: a peer that followed an entry there would hand its metadata to the registrant. */
const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet('169.254.0.0', 16, 'ipv4');
LINK_LOCAL.addSubnet('fe80::', 10, 'ipv6');
LINK_LOCAL.addAddress('fd00:ec2::254', 'ipv6');

/** Whether a URL's host is a link-local or metadata address literal (IPv4-mapped forms included). */
export function isLinkLocalHost(hostname: string): boolean {
  const address = hostname.replace(/^\[|\]$/g, '');
  const family = isIP(address);
  return family !== 0 && LINK_LOCAL.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** http(s) only, no credentials, no link-local host: an entry's url is handed to every peer that lists it. */
export const serviceUrl = z
  .string()
  .max(2_000)
  .refine((text) => {
    if (!URL.canParse(text)) return false;
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
  }, 'Must be an http(s) URL without credentials.')
  .refine((text) => !URL.canParse(text) || !isLinkLocalHost(new URL(text).hostname), 'Must not point at a link-local or metadata address.');

/** A path on the service itself: `//host/x` would be another host to whoever joins it to the url. */
export const HEALTH_ENDPOINT_PATTERN = /^\/(?!\/)[^\s\\]*$/;

/** `X-Registry-Entry-Token`, when sent: one token (a repeated header arrives joined, and is refused). */
export const entryTokenHeader = z.string().regex(ENTRY_TOKEN_PATTERN, 'Must be the entry token the registry answered (base64url, 43 to 128 characters).').optional();

const isoTime = z.string().max(40);
const shortText = z.string().max(300);

export const provenanceSchema = z.looseObject({
  build_id: shortText.optional(),
  commit: shortText.optional(),
  spec_sha256: shortText.optional(),
  acceptance: z
    .looseObject({
      passed: z.number().int().min(0),
      failed: z.number().int().min(0),
      total: z.number().int().min(0),
      scenarios: z.array(z.looseObject({ name: z.string().max(500), passed: z.boolean() })).max(1_000).optional(),
    })
    .optional(),
  approvals: z
    .array(
      z.looseObject({
        gate: shortText,
        decision: z.enum(['approved', 'rejected']),
        feedback: z.string().max(5_000).nullable(),
        at: isoTime,
      }),
    )
    .max(100)
    .optional(),
  author: z.looseObject({ id: shortText, model: shortText.nullable() }).optional(),
  cost_usd: z.number().min(0).nullable().optional(),
  deployed: z.looseObject({ url: z.string().max(2_000).nullable(), host: shortText.nullable() }).optional(),
  tag: shortText.optional(),
  repository_url: z.string().max(2_000).nullable().optional(),
});

export const registerBody = z
  .strictObject({
    name,
    droplet_id: z.number().int().positive().optional(),
    url: serviceUrl.optional(),
    port: z.number().int().min(1).max(65_535).optional(),
    health_endpoint: z.string().regex(HEALTH_ENDPOINT_PATTERN, 'Must be a path on the service such as "/health".').max(500).optional(),
    capabilities: z.array(z.string().min(1).max(100)).max(100).default([]),
    version: z.string().regex(SEMVER_PATTERN, 'Must be a semver version such as "1.2.0".'),
    build_id: z.string().min(1).max(200).optional(),
    host: shortText.nullable().optional(),
    provenance: provenanceSchema.optional(),
    ttl_seconds: z.number().int().min(2).max(86_400).optional(),
  })
  .refine((body) => body.url !== undefined || body.port !== undefined, { message: 'Give a url, or a port (the url is then taken from the caller\'s address).', path: ['url'] });
export type RegisterBody = z.output<typeof registerBody>;

export const heartbeatBody = z
  .strictObject({
    id: z.number().int().positive().optional(),
    name: name.optional(),
    status: z.enum(HEARTBEAT_STATUSES),
  })
  .refine((body) => body.id !== undefined || body.name !== undefined, { message: 'Give the entry\'s id or its name.', path: ['id'] });

export const servicesQuery = z.strictObject({
  capability: z.string().min(1).max(100).optional(),
  health: z.enum(SERVICE_HEALTHS).optional(),
  name: name.optional(),
});

const NUMERIC_ID = /^[1-9]\d{0,14}$/;

/** `:id` is the numeric id the registry assigned, or the service's name. */
export const serviceIdParams = z.strictObject({
  id: z
    .string()
    .refine((text) => NUMERIC_ID.test(text) || REGISTRY_NAME_PATTERN.test(text), 'Must be a numeric id such as "3" or a service name.')
    .transform((text) => (NUMERIC_ID.test(text) ? Number(text) : text)),
});
