/**
 * Configuration from the environment (and `.env` when present), validated once at
 * boot. A bad value stops the start with one line naming the variable.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const optionalUrl = optionalText.pipe(z.url({ protocol: /^https?$/ }).optional());

const intIn = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

export const configSchema = z.object({
  /** Port the executor listens on. */
  PORT: intIn(0, 65535, 8400),
  /** Interface to bind; 0.0.0.0 exposes it beyond this machine (set API_TOKEN then). */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** SQLite database, droplet repositories and deployments live under it. */
  DATA_DIR: z.string().min(1).default('./data'),
  /** Base of stream_url/status_url in responses. Default: http://HOST:PORT. */
  PUBLIC_URL: optionalUrl,
  /** Who writes SPECs and code: `offline` (deterministic, no network). */
  MODEL_PROVIDER: z.enum(['offline']).default('offline'),
  /** Verification attempts (test → repair) before a build fails. */
  MAX_BUILD_ITERATIONS: intIn(1, 50, 10),
  /** Builds running at once; the rest wait in FIFO order. */
  MAX_CONCURRENT_BUILDS: intIn(1, 32, 2),
  /** `local` starts the droplet as a process on this machine; `none` skips the deploy step. */
  DEPLOY_TARGET: z.enum(['local', 'none']).default('local'),
  /** Address deployed droplets bind to and are published under. */
  DEPLOY_HOST: z.string().min(1).default('127.0.0.1'),
  /** Optional fleet token handed to deployed droplets as their API_TOKEN. */
  DROPLET_API_TOKEN: optionalText,
  /** Webhook that receives a signed POST when a build completes. */
  NOTIFY_WEBHOOK_URL: optionalUrl,
  /** HMAC-SHA256 key for the webhook's X-Executor-Signature header. */
  NOTIFY_WEBHOOK_SECRET: optionalText,
  /** When set, every route except the health checks needs `Authorization: Bearer <token>`. */
  API_TOKEN: optionalText,
  /** Wall-clock limits for commands run against generated code, seconds. */
  INSTALL_TIMEOUT_SECONDS: intIn(5, 3600, 300),
  TEST_TIMEOUT_SECONDS: intIn(5, 3600, 120),
  /** How long a droplet may take to answer /health after it starts, seconds. */
  START_TIMEOUT_SECONDS: intIn(1, 600, 20),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
}).superRefine((config, context) => {
  // Receivers must be able to tell our POSTs from anyone else's.
  if (config.NOTIFY_WEBHOOK_URL && !config.NOTIFY_WEBHOOK_SECRET) {
    context.addIssue({ code: 'custom', path: ['NOTIFY_WEBHOOK_SECRET'], message: 'is required when NOTIFY_WEBHOOK_URL is set (it signs each delivery)' });
  }
});

export type RawConfig = z.infer<typeof configSchema>;

export interface Config extends RawConfig {
  /** DATA_DIR made absolute. */
  dataDir: string;
  publicUrl: string;
  /** Every secret value the executor holds: redacted everywhere, never handed to generated code. */
  secrets: string[];
}

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError whose message is one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const raw = env[name];
    // Secrets and URLs (whose paths often hold tokens) are named, never echoed.
    const secret = /SECRET|TOKEN|KEY|URL/.test(name);
    const shown = raw === undefined ? 'missing' : secret ? '(value hidden)' : JSON.stringify(raw);
    throw new ConfigError(`Invalid configuration: ${name}=${shown}: ${issue.message}`);
  }
  const raw = parsed.data;
  const host = raw.HOST === '0.0.0.0' || raw.HOST === '::' ? '127.0.0.1' : raw.HOST;
  return {
    ...raw,
    dataDir: resolve(cwd, raw.DATA_DIR),
    publicUrl: (raw.PUBLIC_URL ?? `http://${host.includes(':') ? `[${host}]` : host}:${raw.PORT}`).replace(/\/+$/, ''),
    secrets: [raw.API_TOKEN, raw.NOTIFY_WEBHOOK_SECRET, raw.DROPLET_API_TOKEN].filter(
      (value): value is string => typeof value === 'string' && value.length > 0,
    ),
  };
}

/** Loads `.env` from the working directory into process.env (existing variables win). */
export function loadDotEnv(cwd = process.cwd()): void {
  const file = resolve(cwd, '.env');
  if (existsSync(file)) process.loadEnvFile(file);
}
