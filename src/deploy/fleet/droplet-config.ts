/**
 * What a droplet is started with on its host: its environment (`shared/.env`, written
 * by the executor, built from scratch: nothing of the executor's own environment) and
 * the supervisor's settings (`supervisor.json`). Both are the deploying user's files,
 * readable but not writable by the droplet: a droplet that could rewrite them could
 * change how its own sandbox is launched.
 */
import { posix } from 'node:path';
import type { DropletIdentity } from '../../domain/build.js';
import { StepError } from '../../domain/errors.js';
import type { DropletLayout } from './layout.js';
import type { SupervisorConfig } from './supervisor.js';

export interface DropletRuntimeSettings {
  /** node on the host. */
  nodePath: string;
  /** PATH the droplet sees. */
  pathEnv: string;
  /** Where the supervisor listens: the droplet's public interface. */
  bindHost: string;
  logLevel: string;
  registryUrl?: string;
  /** The fleet token handed to droplets (DROPLET_API_TOKEN). */
  apiToken?: string;
  healthTimeoutMs: number;
  stopGraceMs: number;
  drainTimeoutMs: number;
  holdRequestsMs: number;
  /** Prepended to the droplet's command: the long-lived sandbox on local hosts, nothing elsewhere. */
  launchPrefix(droplet: DropletLayout): string[];
  /** HOME inside the launch (a private one under the sandbox). */
  home?: string;
}

const ENV_VALUE = /^[^\n\r\0]*$/;

export function dropletEnvFile(identity: DropletIdentity, layout: DropletLayout, settings: DropletRuntimeSettings): string {
  const env: Record<string, string> = {
    SERVICE_NAME: identity.name,
    DROPLET_ID: String(identity.dropletId),
    ENVIRONMENT: 'production',
    NODE_ENV: 'production',
    LOG_LEVEL: settings.logLevel,
    DATA_DIR: layout.dataDir,
    TZ: 'UTC',
    LANG: 'C.UTF-8',
    ...(settings.registryUrl ? { REGISTRY_URL: settings.registryUrl } : {}),
    ...(settings.apiToken ? { API_TOKEN: settings.apiToken } : {}),
  };
  const lines = ['# Written by the Autonomous Executor at every deploy; changes here are replaced.'];
  for (const [key, value] of Object.entries(env)) {
    if (!ENV_VALUE.test(value)) throw new StepError('DEPLOY_INVALID_RELEASE', `${key} holds a line break and cannot be written to .env.`);
    lines.push(`${key}=${value}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `main` of package.json as a path inside the release (default src/server.js). */
export function entryOf(manifestText: string | null): string {
  let main = 'src/server.js';
  if (manifestText !== null) {
    let manifest: { main?: unknown };
    try {
      manifest = JSON.parse(manifestText) as { main?: unknown };
    } catch {
      throw new StepError('DEPLOY_BAD_MANIFEST', 'The droplet package.json could not be read as JSON.');
    }
    if (typeof manifest.main === 'string' && manifest.main.trim() !== '') main = manifest.main.trim();
  }
  const normalized = posix.normalize(main);
  if (posix.isAbsolute(normalized) || normalized === '..' || normalized.startsWith('../') || normalized.includes('\0') || normalized.includes('{')) {
    throw new StepError('DEPLOY_BAD_ENTRY', `The entry point "${main}" is outside the droplet.`, { main });
  }
  return normalized;
}

/** The entry points a supervisor.json already lists (release id → entry), {} when none can be read. */
export function entriesOf(configText: string | null): Record<string, string> {
  try {
    const entries = (JSON.parse(configText ?? '{}') as { launch?: { entries?: unknown } }).launch?.entries;
    if (!entries || typeof entries !== 'object') return {};
    return Object.fromEntries(Object.entries(entries as Record<string, unknown>).filter((pair): pair is [string, string] => typeof pair[1] === 'string'));
  } catch {
    return {};
  }
}

export function supervisorConfig(
  identity: DropletIdentity,
  layout: DropletLayout,
  port: number,
  entries: Record<string, string>,
  settings: DropletRuntimeSettings,
): SupervisorConfig {
  return {
    version: 1,
    droplet: identity.name,
    listen: { host: settings.bindHost, port },
    launch: {
      // The supervisor fills {entry} from `entries` for the release it starts.
      argv: [...settings.launchPrefix(layout), settings.nodePath, '{release}/{entry}'],
      cwd: '{release}',
      entries,
      envFile: layout.envFile,
      env: { PATH: settings.pathEnv, ...(settings.home ? { HOME: settings.home } : {}) },
    },
    health: { path: '/health', timeoutMs: settings.healthTimeoutMs },
    restart: { initialDelayMs: 200, maxDelayMs: 10_000, resetAfterMs: 30_000 },
    stopGraceMs: settings.stopGraceMs,
    drainTimeoutMs: settings.drainTimeoutMs,
    holdRequestsMs: settings.holdRequestsMs,
  };
}
