/**
 * What the API answers, as zod schemas: the source of the success and error responses in
 * the OpenAPI document (GET /docs/json). They describe, they never filter: answers are
 * serialized as plain JSON (see api-description.ts), so a field missing here is not dropped
 * at run time, it makes test/unit/openapi-document.test.ts fail instead.
 * The build shapes mirror src/domain/status.ts exactly (checked by the compiler below);
 * the droplet routes' shapes are exact too (droplet-response-schemas.ts); the others name
 * their main fields and let the rest through (looseObject).
 */
import { z } from 'zod';
import { APPROVAL_MODES, BUILD_STATUSES, STEP_COUNT, STEP_NAMES, STEP_STATUSES } from '../domain/build.js';
import type { BuildEventType } from '../domain/events.js';
import type { BuildSummary, BuildView } from '../domain/status.js';

const record = z.record(z.string(), z.unknown());
const time = z.iso.datetime({ offset: true }).meta({ id: 'IsoTime', description: 'ISO 8601 time, e.g. 2026-11-24T14:05:32.000Z' });
const stepNumber = z.number().int().min(1).max(STEP_COUNT);
const gate = z.enum(['after_spec', 'before_deploy']);

/** The UDC error shape every error answers in (../shared/docs/UDC.md). */
export const udcError = z
  .object({
    error: z.object({
      code: z.string().describe('UPPER_SNAKE, e.g. INVALID_INPUT, NOT_FOUND, UNAUTHORIZED'),
      message: z.string().describe('One human sentence.'),
      details: record,
    }),
  })
  .meta({ id: 'UdcError', description: 'The UDC error shape.' });

const errorInfo = z.object({ code: z.string(), message: z.string(), details: record });

export const stepView = z
  .object({
    step: z.enum(STEP_NAMES),
    step_number: stepNumber,
    name: z.string(),
    status: z.enum(STEP_STATUSES),
    started_at: time.nullable(),
    completed_at: time.nullable(),
    duration_seconds: z.number().min(0).nullable(),
    details: record,
    error: errorInfo.nullable(),
  })
  .meta({ id: 'StepView' });

const pendingApproval = z
  .object({ gate, step_number: stepNumber, requested_at: time, summary: z.string().describe('What the approver is asked to look at.') })
  .meta({ id: 'PendingApproval' });

const usage = z.object({
  input_tokens: z.number().int().min(0),
  output_tokens: z.number().int().min(0),
  cache_read_tokens: z.number().int().min(0),
  cache_write_tokens: z.number().int().min(0),
  cost_usd: z.number().min(0),
  max_cost_usd: z.number().nullable().describe('The cap in force for this build, USD; null when none is set.'),
});

/** The fields a summary shares with the full view. */
const buildCore = {
  build_id: z.string(),
  droplet_id: z.number().int(),
  droplet_name: z.string(),
  approval_mode: z.enum(APPROVAL_MODES),
  status: z.enum(BUILD_STATUSES),
  current_step: z.enum(STEP_NAMES),
  current_step_number: stepNumber,
  progress_percent: z.number().min(0).max(100),
  created_at: time,
  started_at: time.nullable(),
  estimated_completion: time,
  completed_at: time.nullable(),
  deployment_url: z.string().nullable(),
  pending_approval: pendingApproval.nullable(),
};

export const buildView = z
  .object({
    ...buildCore,
    architect_intent: z.string(),
    auto_deploy: z.boolean(),
    notify_channels: z.array(z.string()).nullable(),
    steps: z.array(stepView),
    files_created: z.array(z.string()),
    repository_path: z.string().nullable(),
    repository_url: z.string().nullable(),
    error: errorInfo.extend({ retryable: z.boolean() }).nullable(),
    usage,
    intent_coverage: z.object({ covered: z.array(z.string()), not_covered: z.array(z.string()) }).nullable(),
  })
  .meta({ id: 'BuildView', description: 'The whole status of a build: steps, progress, pending approval, error, usage.' });

export const buildSummary = z
  .object({
    ...buildCore,
    intent_summary: z.string().describe("The intent's first 160 characters (with an ellipsis when cut)."),
    error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean() }).nullable(),
    cost_usd: z.number().min(0),
  })
  .meta({ id: 'BuildSummary', description: 'A build in a list, or the answer to an action: no step details.' });

/** `GET /executor/builds`: summaries by default, whole views with `?view=full`. */
export const buildList = z
  .union([z.array(buildSummary), z.array(buildView)])
  .describe('Newest first: BuildSummary[] by default, BuildView[] with `view=full`. The X-Total-Count header holds the total.');

/** Compile-time guard: the mirrors produce exactly the domain's shapes. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const mirrorsMatch: [Same<z.output<typeof buildView>, BuildView>, Same<z.output<typeof buildSummary>, BuildSummary>] = [true, true];
void mirrorsMatch;

/** Answer of a submission (202): where to follow the build. */
export const buildAccepted = z.object({
  build_id: z.string(),
  status: z.enum(BUILD_STATUSES),
  droplet_id: z.number().int(),
  droplet_name: z.string(),
  estimated_completion: time,
  stream_url: z.string().describe('ws(s):// URL of the progress stream.'),
  status_url: z.string(),
});

const EVENT_TYPES = [
  'build.queued', 'build.started', 'build.waiting_approval', 'build.approved', 'build.rejected', 'build.cancelled',
  'build.retried', 'build.resumed', 'build.failed', 'build.completed', 'step.started', 'step.progress',
  'step.completed', 'step.skipped', 'step.failed', 'notification.attempted',
] as const satisfies readonly BuildEventType[];
/** Every event type is listed: a new one fails the compile here. */
const allEventTypes: Exclude<BuildEventType, (typeof EVENT_TYPES)[number]> extends never ? true : false = true;
void allEventTypes;

export const buildEvent = z
  .object({
    seq: z.number().int().min(1).describe('Monotonic across the journal; `after=SEQ` resumes from it.'),
    build_id: z.string(),
    type: z.enum(EVENT_TYPES),
    at: time,
    data: record.describe("The event's data; its fields depend on `type` (src/domain/events.ts)."),
  })
  .meta({ id: 'BuildEvent' });

export const registryEntry = z
  .looseObject({
    id: z.number().int(),
    name: z.string(),
    droplet_id: z.number().int().nullable(),
    url: z.string(),
    health_endpoint: z.string(),
    capabilities: z.array(z.string()),
    version: z.string(),
    health: z.enum(['healthy', 'degraded', 'unhealthy', 'unknown']),
    ttl_seconds: z.number().int(),
    expires_at: time,
  })
  .meta({ id: 'RegistryEntry' });

/** The UDC health answer; also the body of a 503 when even the store cannot be asked. */
export const udcHealth = z.looseObject({
  status: z.enum(['healthy', 'degraded', 'unhealthy']),
  timestamp: time,
  uptime_seconds: z.number().int().min(0),
  version: z.string(),
});

export const executorHealth = udcHealth.extend({
  service: z.string(),
  author: z.string(),
  sandbox: z.string(),
  deploy_target: z.string(),
  registry: z.string(),
  active_builds: z.number().int().min(0),
  waiting_approval: z.number().int().min(0),
  builds_by_status: z.record(z.string(), z.number().int()),
});

export const udcCapabilities = z.looseObject({
  service_name: z.string(),
  droplet_id: z.number().int(),
  version: z.string(),
  capabilities: z.array(z.string()),
  supported_operations: z.array(z.string()),
  integration_endpoints: z.array(z.object({ method: z.string(), path: z.string(), description: z.string() })),
});

export const executorCapabilities = z.looseObject({
  service: z.string(),
  version: z.string(),
  capabilities: z.array(z.string()),
  approval_modes: z.array(z.enum(APPROVAL_MODES)),
  steps: z.array(z.object({ step_number: stepNumber, step: z.enum(STEP_NAMES), name: z.string() })),
});

export const udcState = z.looseObject({
  status: z.enum(['active', 'inactive', 'error']),
  mode: z.enum(['production', 'development', 'maintenance']),
  last_activity: time,
  metrics: record,
});

const dependency = z.looseObject({ name: z.string(), status: z.string() });
export const udcDependencies = z.looseObject({
  required_services: z.array(dependency),
  optional_services: z.array(dependency),
  external_apis: z.array(dependency),
});

export const messageReceipt = z.looseObject({
  received: z.literal(true),
  message_id: z.string(),
  status: z.enum(['processing', 'completed', 'failed']),
  trace_id: z.string().optional(),
  build_id: z.string().optional().describe('For a task_assignment: the build it started (with stream_url, status_url).'),
});

/** Statuses an error can answer with, and what each means here. */
export const ERROR_MEANINGS = {
  400: 'Invalid input: `details.issues` lists each problem (or the body is not valid JSON).',
  401: 'No bearer token, or a wrong one (only when the executor has a token set).',
  403: 'Authenticated, but not allowed to change this entry.',
  404: 'Unknown build, droplet, entry or file.',
  409: 'The request conflicts with the current state.',
  410: 'The link has expired.',
  413: 'The request body is larger than the limit.',
  414: 'A path parameter is too long.',
  415: 'The body is not JSON (content-type must be application/json, or none).',
  422: 'The request was understood but cannot be carried out.',
  426: 'A plain HTTP request to a WebSocket endpoint.',
  429: 'Too many requests: wait for Retry-After.',
  500: 'Internal error: the body carries nothing internal.',
  503: 'Unavailable: a dependency the request needs is not.',
} as const;
export type ErrorStatus = keyof typeof ERROR_MEANINGS;

/** A page answered as text/html (the approval links), its errors included. */
export function htmlResponse(description: string) {
  return { description, content: { 'text/html': { schema: z.string() } } };
}

export function htmlErrorResponses(...statuses: ErrorStatus[]): Record<number, ReturnType<typeof htmlResponse>> {
  return Object.fromEntries(statuses.map((status) => [status, htmlResponse(`${ERROR_MEANINGS[status]} An HTML page says why.`)]));
}

/** `{ 404: …, 409: … }` response entries in the UDC error shape, for a route's `schema.response`. */
export function errorResponses(...statuses: ErrorStatus[]): Record<number, { description: string; content: { 'application/json': { schema: typeof udcError } } }> {
  return Object.fromEntries(statuses.map((status) => [status, { description: ERROR_MEANINGS[status], content: { 'application/json': { schema: udcError } } }]));
}
