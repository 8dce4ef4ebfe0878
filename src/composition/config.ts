/**
 * Configuration from the environment (and `.env` when present), validated once at
 * boot. A bad value stops the start with one line naming the variable.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parsePriceOverrides } from '../domain/pricing.js';
import { commaList, flag, intIn, notifyEvents, optionalText, optionalUrl, parseDuration } from './config-values.js';
import { basicCredentials, CredentialEncodingError, urlCredentialForms, webhookUrlForms } from './secret-forms.js';

export const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-5-5';
export const DEFAULT_OPENAI_MODEL = 'gpt-5.4';

export const configSchema = z.object({
  /** Port the executor listens on. */
  PORT: intIn(0, 65535, 8400),
  /** Interface to bind; 0.0.0.0 exposes it beyond this machine (set API_TOKEN then). */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** SQLite database, droplet repositories and deployments live under it. */
  DATA_DIR: z.string().min(1).default('./data'),
  /** Base of stream_url/status_url in responses. Default: http://HOST:PORT. */
  PUBLIC_URL: optionalUrl,
  /**
   * Who writes SPECs and code: `offline` (deterministic, no network), `anthropic`
   * (Claude) or `openai` (any OpenAI-compatible server). Unset: `anthropic` when
   * ANTHROPIC_API_KEY is set, else `offline`.
   */
  MODEL_PROVIDER: optionalText.pipe(z.enum(['offline', 'anthropic', 'openai']).optional()),
  ANTHROPIC_API_KEY: optionalText,
  ANTHROPIC_MODEL: z.string().min(1).default(DEFAULT_ANTHROPIC_MODEL),
  /** Another endpoint speaking the Messages API (a proxy, a gateway, a test server). */
  ANTHROPIC_BASE_URL: optionalUrl,
  /** Optional for local servers (Ollama, vLLM, llama.cpp), which ignore it. */
  OPENAI_API_KEY: optionalText,
  OPENAI_BASE_URL: optionalUrl,
  OPENAI_MODEL: z.string().min(1).default(DEFAULT_OPENAI_MODEL),
  /** How the model hands files back: `tools` (write_file/delete_file calls) or `file_blocks` in text, for servers without tool support. */
  MODEL_OUTPUT_FORMAT: z.enum(['tools', 'file_blocks']).default('tools'),
  /** Largest answer one model call may produce; longer output is continued in a new call. */
  MODEL_MAX_OUTPUT_TOKENS: intIn(256, 128_000, 16_000),
  /** Retries of one model call after 429, 529, 5xx, dropped connections and stalled streams. */
  MODEL_MAX_RETRIES: intIn(0, 20, 4),
  /** First back-off delay; doubles per retry, with full jitter. */
  MODEL_RETRY_BASE_MS: intIn(0, 60_000, 1_000),
  /** A streamed answer silent this long is aborted and retried. */
  MODEL_IDLE_TIMEOUT_SECONDS: intIn(1, 600, 60),
  /** JSON price table override: {"model": {"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75}} in USD per million tokens. */
  MODEL_PRICES: optionalText.transform((value, context) => {
    try {
      return parsePriceOverrides(value);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  }),
  /** Hard cap on what one build may spend on model calls, USD (a request's max_cost_usd may lower it). */
  MAX_BUILD_COST_USD: z.coerce.number().positive().max(100_000).optional(),
  /**
   * Isolation of generated code: `auto` uses bubblewrap when it works here and says so
   * when it does not; `required` refuses builds without it; `off` uses a plain process group.
   */
  SANDBOX: z.enum(['auto', 'required', 'off']).default('auto'),
  /** The bubblewrap binary (Debian's `bubblewrap` package installs it here). */
  BWRAP_PATH: z.string().min(1).default('/usr/bin/bwrap'),
  /** Memory limit of each sandboxed command, MiB. */
  SANDBOX_MEMORY_MB: intIn(64, 1_048_576, 2_048),
  /** Processes (and threads) one sandboxed command may run at once. */
  SANDBOX_MAX_PROCESSES: intIn(8, 65_536, 256),
  /** Verification attempts (test → repair) before a build fails. */
  MAX_BUILD_ITERATIONS: intIn(1, 50, 10),
  /** Builds running at once; the rest wait in FIFO order. */
  MAX_CONCURRENT_BUILDS: intIn(1, 32, 2),
  /** `local` runs droplets on this machine, `ssh` on the hosts of SSH_HOST / DEPLOY_HOSTS; `none` skips the deploy step. */
  DEPLOY_TARGET: z.enum(['local', 'ssh', 'none']).default('local'),
  /** `local`: the address droplets are published under (and listen on, unless DEPLOY_BIND_HOST says otherwise). */
  DEPLOY_HOST: z.string().min(1).default('127.0.0.1'),
  /** The interface droplets' supervisors listen on. Default: DEPLOY_HOST on `local`, 0.0.0.0 on `ssh`. */
  DEPLOY_BIND_HOST: optionalText,
  /** Where releases live on each host. Default: DATA_DIR/deployments on `local`, `droplets` under the SSH user's home on `ssh`. */
  DEPLOY_BASE_DIR: optionalText,
  /** A droplet's public URL: `{host}` and `{port}` are filled in. */
  DEPLOY_PUBLIC_URL_TEMPLATE: z.string().min(1).default('http://{host}:{port}'),
  /** Public ports droplets are given on SSH hosts, `min-max`; `local` takes a free port from the kernel unless set. */
  DEPLOY_PORTS: optionalText.pipe(z.string().regex(/^\d{2,5}-\d{2,5}$/, 'must look like 20000-29999').optional()),
  /** Releases kept per droplet on its host, the live one included (rollback targets). */
  DEPLOY_KEEP_RELEASES: intIn(1, 100, 5),
  /** The unprivileged user droplets run as. Default: the SSH user on `ssh`; on `local`, `executor-droplet` (created) when the executor runs as root. */
  DEPLOY_RUN_AS: optionalText,
  /** What keeps supervisors running: `auto` (systemd where it runs the host, else a detached process), `process`, `systemd`, `systemd-user`. */
  DEPLOY_SUPERVISOR: z.enum(['auto', 'process', 'systemd', 'systemd-user']).default('auto'),
  /** node and npm on SSH hosts (on `local`, the executor's own node). */
  DEPLOY_NODE_PATH: z.string().min(1).default('node'),
  DEPLOY_NPM_PATH: z.string().min(1).default('npm'),
  /** A deploy lock on a host older than this was left by a crashed executor and is broken. */
  DEPLOY_LOCK_STALE_SECONDS: intIn(30, 86_400, 900),
  /** How long a deploy (or a lifecycle action) waits for another one of the same droplet on its host before it fails DEPLOY_LOCKED. */
  DEPLOY_LOCK_WAIT_SECONDS: intIn(1, 3600, 120),
  /** How often running droplets are checked against the record (a dead supervisor restarted); 0 checks only at start. */
  DEPLOY_RECONCILE_SECONDS: intIn(0, 86_400, 30),
  /** `ssh`: one host, as `SSH_USER@SSH_HOST:SSH_PORT`; DEPLOY_HOSTS lists several (`user@host:port,…`). */
  SSH_HOST: optionalText,
  SSH_PORT: intIn(1, 65535, 22),
  SSH_USER: optionalText,
  DEPLOY_HOSTS: optionalText,
  /** The private key the executor logs in with (or SSH_AUTH_SOCK for an agent). */
  SSH_KEY_PATH: optionalText,
  SSH_AUTH_SOCK: optionalText,
  /** Pins of the hosts' keys: a known_hosts file, or one fingerprint (`SHA256:…`, as `ssh-keygen -lf` prints). */
  SSH_KNOWN_HOSTS: optionalText,
  SSH_HOST_FINGERPRINT: optionalText,
  /** Trust a host with no pin on first use and record its key (in SSH_KNOWN_HOSTS, else DATA_DIR/known_hosts). */
  SSH_ACCEPT_NEW_HOST_KEY: optionalText.pipe(z.enum(['true', 'false']).optional()).transform((value) => value === 'true'),
  /** Optional fleet token handed to deployed droplets as their API_TOKEN. */
  DROPLET_API_TOKEN: optionalText,
  /** The fleet registry's base URL (its API: POST {REGISTRY_URL}/register…). Unset: the executor is the registry and serves that API under /registry. */
  REGISTRY_URL: optionalUrl,
  /** Bearer token sent to REGISTRY_URL; as the registry, a token peers may use for /registry besides API_TOKEN. */
  REGISTRY_TOKEN: optionalText,
  /** How often the executor heartbeats the droplets it deployed (from their health probes). */
  REGISTRY_HEARTBEAT_SECONDS: intIn(1, 3600, 30),
  /** A registry entry with no heartbeat for this long expires (entries may ask for their own TTL). */
  REGISTRY_TTL_SECONDS: intIn(2, 86_400, 90),
  /** Per request to REGISTRY_URL, and attempts on 5xx, 429 and timeouts (with back-off). */
  REGISTRY_TIMEOUT_SECONDS: intIn(1, 120, 10),
  REGISTRY_MAX_ATTEMPTS: intIn(1, 20, 5),
  /** Channels a build announces on when its request names none (comma list of log, webhook, slack, email). Default: every configured one. */
  NOTIFY_CHANNELS: optionalText.transform((value) => (value === undefined ? undefined : commaList(value))),
  /** Webhook that receives a signed POST for each announced build event. */
  NOTIFY_WEBHOOK_URL: optionalUrl,
  /** HMAC-SHA256 key for the webhook's X-Executor-Signature header (over timestamp and body). */
  NOTIFY_WEBHOOK_SECRET: optionalText.pipe(z.string().min(16, 'must be at least 16 characters (it signs each delivery)').optional()),
  /** Slack incoming webhook. */
  SLACK_WEBHOOK_URL: optionalUrl,
  /** SMTP server for the `email` channel: smtp://user:pass@host:587 or smtps://…:465. */
  SMTP_URL: optionalText.pipe(z.url({ protocol: /^smtps?$/ }).optional()),
  NOTIFY_EMAIL_FROM: optionalText,
  /** Comma list of recipients. */
  NOTIFY_EMAIL_TO: optionalText.transform((value) => (value === undefined ? undefined : commaList(value))),
  /** What each channel announces: a comma list of completed, failed, waiting_approval (default: all three). */
  NOTIFY_WEBHOOK_EVENTS: notifyEvents,
  NOTIFY_SLACK_EVENTS: notifyEvents,
  NOTIFY_EMAIL_EVENTS: notifyEvents,
  /** Allow notification targets on loopback, private, link-local or metadata addresses (refused by default). */
  NOTIFY_ALLOW_PRIVATE: flag,
  /** Per delivery attempt, and how long an undelivered message keeps being retried (across restarts). */
  NOTIFY_TIMEOUT_SECONDS: intIn(1, 120, 10),
  NOTIFY_RETRY_WINDOW_SECONDS: intIn(0, 7 * 86_400, 3600),
  /** The back-off before the second delivery attempt, ms; each later one doubles it (jittered, at most 5 min). */
  NOTIFY_RETRY_BASE_MS: intIn(1, 300_000, 2_000),
  /** How long a one-click approval link stays valid: seconds, or 30m, 24h, 7d. */
  APPROVAL_LINK_TTL: z
    .string()
    .optional()
    .transform((value, context) => {
      const seconds = parseDuration(value ?? '', 24 * 3600);
      if (seconds === null) {
        context.addIssue({ code: 'custom', message: 'must be seconds or a duration such as 30m, 24h, 7d (at most 30d)' });
        return z.NEVER;
      }
      return seconds;
    }),
  /** Signs approval links. Default: a random key kept in DATA_DIR/approval-link.key. */
  APPROVAL_LINK_SECRET: optionalText,
  /** Where each droplet's repository is published: `git@github.com:org/{droplet}.git`, an https URL, or a path to a bare repository. */
  GIT_REMOTE_URL_TEMPLATE: optionalText.pipe(z.string().includes('{droplet}', { message: 'must contain {droplet}' }).optional()),
  /** With GITHUB_OWNER: a missing repository is created through the GitHub REST API (and https pushes use the token). */
  GITHUB_TOKEN: optionalText,
  /** The user or organisation that owns the created repositories. */
  GITHUB_OWNER: optionalText,
  /** GitHub Enterprise: https://github.example.com/api/v3. */
  GITHUB_API_URL: optionalUrl,
  /** Created repositories are private unless this is false. */
  GITHUB_PRIVATE: optionalText.pipe(z.enum(['true', 'false']).optional()).transform((value) => value !== 'false'),
  /** When set, every route except the health checks needs `Authorization: Bearer <token>`. */
  API_TOKEN: optionalText,
  /** Start bound to a non-loopback HOST without API_TOKEN (refused otherwise): anyone who reaches the port can run code here. */
  ALLOW_INSECURE_BIND: flag,
  /** Build submissions (build-droplet, a task_assignment message) per client IP and window; 0: unlimited. */
  BUILD_RATE_LIMIT: intIn(0, 100_000, 30),
  /** The window of BUILD_RATE_LIMIT: seconds, or 1m, 1h (at least 60 s). */
  BUILD_RATE_WINDOW: z
    .string()
    .optional()
    .transform((value, context) => {
      const seconds = parseDuration(value ?? '', 60);
      if (seconds === null) {
        context.addIssue({ code: 'custom', message: 'must be seconds or a duration such as 1m, 1h (from 60 s to 30d)' });
        return z.NEVER;
      }
      return seconds;
    }),
  /** Wall-clock limits for commands run against generated code, seconds. */
  INSTALL_TIMEOUT_SECONDS: intIn(5, 3600, 300),
  TEST_TIMEOUT_SECONDS: intIn(5, 3600, 120),
  /** How long a droplet may take to answer /health after it starts, seconds. */
  START_TIMEOUT_SECONDS: intIn(1, 600, 20),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `auto`: human lines at a terminal, JSON lines otherwise. */
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
}).superRefine((config, context) => {
  // Receivers must be able to tell our POSTs from anyone else's.
  if (config.NOTIFY_WEBHOOK_URL && !config.NOTIFY_WEBHOOK_SECRET) {
    context.addIssue({ code: 'custom', path: ['NOTIFY_WEBHOOK_SECRET'], message: 'is required when NOTIFY_WEBHOOK_URL is set (it signs each delivery)' });
  }
  if (config.REGISTRY_TTL_SECONDS <= config.REGISTRY_HEARTBEAT_SECONDS) {
    context.addIssue({ code: 'custom', path: ['REGISTRY_TTL_SECONDS'], message: 'must be longer than REGISTRY_HEARTBEAT_SECONDS (an entry would expire between heartbeats)' });
  }
  if (config.SMTP_URL && (!config.NOTIFY_EMAIL_FROM || !config.NOTIFY_EMAIL_TO?.length)) {
    context.addIssue({ code: 'custom', path: [config.NOTIFY_EMAIL_FROM ? 'NOTIFY_EMAIL_TO' : 'NOTIFY_EMAIL_FROM'], message: 'is required when SMTP_URL is set' });
  }
  if (config.GITHUB_OWNER && !config.GITHUB_TOKEN) {
    context.addIssue({ code: 'custom', path: ['GITHUB_TOKEN'], message: 'is required when GITHUB_OWNER is set (it creates the repositories)' });
  }
  // Every droplet is handed DROPLET_API_TOKEN: it must not also open the executor's API.
  if (config.DROPLET_API_TOKEN && config.DROPLET_API_TOKEN === config.API_TOKEN) {
    context.addIssue({ code: 'custom', path: ['DROPLET_API_TOKEN'], message: 'must differ from API_TOKEN (every deployed droplet receives it)' });
  }
  // Droplets may only read the registry: a REGISTRY_TOKEN they all hold would let them write it.
  if (config.REGISTRY_TOKEN && config.REGISTRY_TOKEN === config.DROPLET_API_TOKEN) {
    context.addIssue({ code: 'custom', path: ['REGISTRY_TOKEN'], message: 'must differ from DROPLET_API_TOKEN (every deployed droplet receives it)' });
  }
  // Webhook receivers, droplets and registry clients hold these: none of them may sign approval links.
  const sharedWithLinks = (['NOTIFY_WEBHOOK_SECRET', 'API_TOKEN', 'DROPLET_API_TOKEN', 'REGISTRY_TOKEN'] as const).find(
    (name) => config.APPROVAL_LINK_SECRET !== undefined && config[name] === config.APPROVAL_LINK_SECRET,
  );
  if (sharedWithLinks) {
    context.addIssue({ code: 'custom', path: ['APPROVAL_LINK_SECRET'], message: `must differ from ${sharedWithLinks} (whoever holds that could sign approval links)` });
  }
  if (config.DEPLOY_TARGET === 'ssh') {
    if (!config.SSH_HOST && !config.DEPLOY_HOSTS) {
      context.addIssue({ code: 'custom', path: ['SSH_HOST'], message: 'or DEPLOY_HOSTS is required when DEPLOY_TARGET=ssh' });
    }
    if (!config.SSH_KEY_PATH && !config.SSH_AUTH_SOCK) {
      context.addIssue({ code: 'custom', path: ['SSH_KEY_PATH'], message: 'or SSH_AUTH_SOCK is required when DEPLOY_TARGET=ssh' });
    }
  }
  if (config.MODEL_PROVIDER === 'anthropic' && !config.ANTHROPIC_API_KEY) {
    context.addIssue({ code: 'custom', path: ['ANTHROPIC_API_KEY'], message: 'is required when MODEL_PROVIDER=anthropic' });
  }
  if (config.MODEL_PROVIDER === 'openai' && !config.OPENAI_API_KEY && !config.OPENAI_BASE_URL) {
    context.addIssue({ code: 'custom', path: ['OPENAI_API_KEY'], message: 'is required when MODEL_PROVIDER=openai talks to api.openai.com (set OPENAI_BASE_URL for a local server)' });
  }
});

export type RawConfig = z.infer<typeof configSchema>;

export type ModelProvider = NonNullable<RawConfig['MODEL_PROVIDER']>;

export interface Config extends RawConfig {
  /** MODEL_PROVIDER resolved (unset → anthropic with a key, else offline). */
  modelProvider: ModelProvider;
  /** DATA_DIR made absolute. */
  dataDir: string;
  publicUrl: string;
  /** Every secret value the executor holds: redacted everywhere, never handed to generated code. */
  secrets: string[];
}

export class ConfigError extends Error {}

/** `NAME=` (as a copied .env.example has it) means unset, for every variable: never 0, never "". */
function withoutEmptyValues(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''));
}

/** A credentialed URL's secret forms; a bad percent-encoding stops the start naming the variable. */
function urlSecrets(name: string, url: string | undefined): string[] {
  try {
    return urlCredentialForms(url);
  } catch (error) {
    if (error instanceof CredentialEncodingError) throw new ConfigError(`Invalid configuration: ${name}=(value hidden): ${error.message}`);
    throw error;
  }
}

/** Parses the environment; throws ConfigError whose message is one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = configSchema.safeParse(withoutEmptyValues(env));
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
    modelProvider: raw.MODEL_PROVIDER ?? (raw.ANTHROPIC_API_KEY ? 'anthropic' : 'offline'),
    dataDir: resolve(cwd, raw.DATA_DIR),
    publicUrl: (raw.PUBLIC_URL ?? `http://${host.includes(':') ? `[${host}]` : host}:${raw.PORT}`).replace(/\/+$/, ''),
    secrets: [
      ...[raw.API_TOKEN, raw.NOTIFY_WEBHOOK_SECRET, raw.DROPLET_API_TOKEN, raw.ANTHROPIC_API_KEY, raw.OPENAI_API_KEY],
      ...[raw.REGISTRY_TOKEN, raw.SLACK_WEBHOOK_URL, raw.APPROVAL_LINK_SECRET, raw.GITHUB_TOKEN],
      ...urlSecrets('SMTP_URL', raw.SMTP_URL),
      ...urlSecrets('REGISTRY_URL', raw.REGISTRY_URL),
      ...webhookUrlForms(raw.NOTIFY_WEBHOOK_URL),
      ...webhookUrlForms(raw.SLACK_WEBHOOK_URL),
      // https pushes send the token as `Authorization: Basic base64(x-access-token:TOKEN)`.
      ...(raw.GITHUB_TOKEN ? [basicCredentials('x-access-token', raw.GITHUB_TOKEN)] : []),
    ].filter(
      (value, index, all): value is string => typeof value === 'string' && value.length > 0 && all.indexOf(value) === index,
    ),
  };
}

/** Loads `.env` from the working directory into process.env (existing variables win). */
export function loadDotEnv(cwd = process.cwd()): void {
  const file = resolve(cwd, '.env');
  if (existsSync(file)) process.loadEnvFile(file);
}
