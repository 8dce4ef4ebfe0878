/**
 * Every request the HTTP layer accepts, as zod schemas. Routes parse with
 * `parseOrThrow`, so a bad request becomes one `InputError` listing every issue.
 */
import { z } from 'zod';
import { APPROVAL_MODES, BUILD_STATUSES, DROPLET_NAME_PATTERN, STEP_COUNT } from '../domain/build.js';
import { InputError } from '../domain/errors.js';

export const NOTIFY_CHANNEL_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;
export const BUILD_ID_PATTERN = /^build-[a-z0-9-]{1,120}$/;
export const MAX_NOTIFY_CHANNELS = 10;

/** Query strings arrive as text: coerce, then hold to integer bounds. */
/** An integer query parameter whose every refusal names the range, e.g. "Must be an integer from 1 to 8." */
const queryInt = (min: number, max?: number) => {
  const range = max === undefined ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
  const schema = z.coerce.number({ error: `Must be ${range}.` }).int({ error: `Must be ${range}.` }).min(min, { error: `Must be ${range}.` });
  return max === undefined ? schema : schema.max(max, { error: `Must be ${range}.` });
};

export const buildDropletBody = z.strictObject({
  architect_intent: z.string().trim().min(10).max(20_000),
  droplet_id: z.number().int().positive().optional(),
  droplet_name: z
    .string()
    .min(3)
    .max(50)
    .regex(DROPLET_NAME_PATTERN, 'Must be kebab-case: lowercase letters and digits in words joined by single hyphens, starting with a letter.')
    .optional(),
  approval_mode: z.enum(APPROVAL_MODES).default('final'),
  auto_deploy: z.boolean().default(true),
  notify_channels: z
    .array(z.string().regex(NOTIFY_CHANNEL_PATTERN, 'Must be a channel name such as "log" or "webhook".'))
    .max(MAX_NOTIFY_CHANNELS)
    .optional(),
  /** A hard cap on this build's model spending, USD; at most the executor's MAX_BUILD_COST_USD. */
  max_cost_usd: z.number().positive().max(100_000).optional(),
  /** Where to deploy (a DEPLOY_HOSTS entry such as `deploy@10.0.0.5:22`); default: where the droplet runs, else the least loaded host. */
  deploy_host: z.string().min(1).max(300).optional(),
});
export type BuildDropletBody = z.output<typeof buildDropletBody>;

/** The optional build fields a UDC `task_assignment` payload may carry next to its intent. */
export const BUILD_FIELDS = ['droplet_id', 'droplet_name', 'approval_mode', 'auto_deploy', 'notify_channels', 'max_cost_usd', 'deploy_host'] as const;

export const approveBody = z.strictObject({
  approved: z.boolean(),
  feedback: z.string().max(5_000).optional(),
});

export const listBuildsQuery = z.object({
  limit: queryInt(1, 200).default(50),
  offset: queryInt(0).default(0),
  status: z.enum(BUILD_STATUSES).optional(),
  /** `summary` (BuildSummary, the default) or `full` (the whole BuildView of each build). */
  view: z.enum(['summary', 'full']).default('summary'),
});

/** `after` is the last journal `seq` the client has seen; 0 replays everything. */
export const afterQuery = z.object({
  after: queryInt(0).default(0),
});

export const retryQuery = z.object({
  from_step: queryInt(1, STEP_COUNT).optional(),
  /** Raises (or lowers) the build's cost cap for the rest of its run, e.g. after BUDGET_EXHAUSTED. */
  max_cost_usd: z.coerce
    .number({ error: 'Must be a number of USD above 0, at most 100000.' })
    .positive({ error: 'Must be a number of USD above 0, at most 100000.' })
    .max(100_000, { error: 'Must be a number of USD above 0, at most 100000.' })
    .optional(),
});

export const buildIdParams = z.object({
  id: z.string().regex(BUILD_ID_PATTERN, 'Must be a build id such as "build-13-analytics-engine-20261124-140532".'),
});

/**
 * A file of a build's repository (`GET …/files/*`), repository-relative as `git ls-tree`
 * prints it. Only paths the tree lists are served anyway; this refuses the obviously
 * wrong ones (absolute, `.`/`..` or empty segments, NUL, backslash) with a 400.
 */
export const buildFileParams = buildIdParams.extend({
  '*': z
    .string()
    .min(1, 'Must name a file, e.g. "src/index.js".')
    .max(4_096)
    .refine(
      (file) => !/[\0\\]/.test(file) && file.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..'),
      'Must be a repository-relative file path such as "src/index.js" (no leading "/", no "." or ".." segments).',
    )
    .describe('The file, repository-relative, slashes as they are: `src/index.js`.'),
});

export const UDC_MESSAGE_TYPES = ['task_assignment', 'status_update', 'query', 'command', 'event', 'status'] as const;

export const udcMessageBody = z.object({
  from_service: z.string().min(1).max(200),
  message_type: z.enum(UDC_MESSAGE_TYPES),
  payload: z.record(z.string(), z.unknown()),
  reply_to: z.string().max(2_000).optional(),
  trace_id: z.string().max(200).optional(),
});
export type UdcMessage = z.output<typeof udcMessageBody>;

export interface IssueSummary {
  /** Dotted path inside the parsed value (`notify_channels.0`), empty for the value itself. */
  path: string;
  message: string;
}

/** Parses `value` or throws an InputError whose `details.issues` lists every problem. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: IssueSummary[] = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const first = issues[0];
  const reason = first?.message.replace(/\.$/, '');
  const where = first?.path ? ` (${first.path}: ${reason})` : first ? ` (${reason})` : '';
  throw new InputError(`Invalid ${what}${where}.`, { issues });
}

export const dropletNameParams = z.strictObject({
  name: z.string().min(1).max(50).regex(DROPLET_NAME_PATTERN, 'Must be a droplet name such as "plant-tracker".'),
});

export const rollbackQuery = z.strictObject({
  /** The release (build id) to go back to; default: the one deployed before the live one. */
  to: z.string().regex(BUILD_ID_PATTERN, 'Must be a build id such as "build-13-analytics-engine-20261124-140532".').optional(),
});

export const logsQuery = z.strictObject({
  lines: z.coerce.number().int().min(1, 'Must be between 1 and 2000.').max(2_000, 'Must be between 1 and 2000.').default(100),
});
