/**
 * The droplet contract (foundation-files/UDC.md) as zod schemas. Field lists are the
 * minimum: objects are loose, so extra fields are fine.
 */
import { z } from 'zod';

/** Semantic version 2.0.0 (pre-release and build metadata allowed). */
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
export const ERROR_CODE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;

export const MESSAGE_TYPES = ['task_assignment', 'status_update', 'query', 'command', 'event', 'status'] as const;

const isoUtc = z.iso.datetime();
const isoTime = z.iso.datetime({ offset: true });

export const healthSchema = z.looseObject({
  status: z.enum(['healthy', 'degraded', 'unhealthy']),
  timestamp: isoUtc,
  uptime_seconds: z.number().int().nonnegative(),
  version: z.string().regex(SEMVER, 'expected a semver version'),
});

export const integrationEndpointSchema = z.looseObject({
  // A path on the droplet itself: not `//host/…` nor `/\host`, which URL parsing sends elsewhere.
  path: z.string().regex(/^\/(?![/\\])[^\s\\]*$/, 'expected a path on this droplet, such as /reports'),
  method: z.string().regex(/^[A-Za-z]+$/, 'expected an HTTP method'),
  description: z.string(),
});

export const authenticationSchema = z.looseObject({
  type: z.literal('bearer'),
  env: z.string().min(1),
});

export const capabilitiesSchema = z.looseObject({
  service_name: z.string().min(1),
  droplet_id: z.number().int(),
  capabilities: z.array(z.string()),
  supported_operations: z.array(z.string()),
  integration_endpoints: z.array(integrationEndpointSchema),
  /** Present exactly when the droplet requires credentials. */
  authentication: authenticationSchema.optional(),
});

export const stateSchema = z.looseObject({
  status: z.enum(['active', 'inactive', 'error']),
  mode: z.enum(['production', 'development', 'maintenance']),
  last_activity: isoTime,
  metrics: z.looseObject({
    requests_per_minute: z.number(),
    average_response_time_ms: z.number(),
    error_rate_percent: z.number(),
  }),
});

const dependencySchema = z.looseObject({ name: z.string().min(1), status: z.string().min(1) });

export const dependenciesSchema = z.looseObject({
  required_services: z.array(dependencySchema),
  optional_services: z.array(dependencySchema),
  external_apis: z.array(dependencySchema),
});

export const messageRequestSchema = z.looseObject({
  from_service: z.string().min(1),
  message_type: z.enum(MESSAGE_TYPES),
  payload: z.record(z.string(), z.unknown()),
  reply_to: z.string().optional(),
  trace_id: z.string().optional(),
});

export const messageResponseSchema = z.looseObject({
  received: z.literal(true),
  message_id: z.union([z.string().min(1), z.number().int()]),
  status: z.enum(['processing', 'completed', 'failed']),
});

export const errorBodySchema = z.looseObject({
  error: z.looseObject({
    code: z.string().regex(ERROR_CODE, 'expected an UPPER_SNAKE code'),
    message: z.string().min(1),
    details: z.record(z.string(), z.unknown()),
  }),
});

export type Health = z.infer<typeof healthSchema>;
export type Capabilities = z.infer<typeof capabilitiesSchema>;
export type IntegrationEndpoint = z.infer<typeof integrationEndpointSchema>;
export type DropletState = z.infer<typeof stateSchema>;
export type Dependencies = z.infer<typeof dependenciesSchema>;
export type MessageRequest = z.infer<typeof messageRequestSchema>;
export type MessageResponse = z.infer<typeof messageResponseSchema>;
export type UdcErrorBody = z.infer<typeof errorBodySchema>;

/** "uptime_seconds: expected int, received number; version: …" (first few issues). */
export function describeIssues(error: z.ZodError, max = 3): string {
  const parts = error.issues.slice(0, max).map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
    return `${where}: ${issue.message}`;
  });
  const more = error.issues.length > max ? ` (+${error.issues.length - max} more)` : '';
  return parts.join('; ') + more;
}
