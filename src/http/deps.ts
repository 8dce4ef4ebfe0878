/** Everything the HTTP layer is handed by main.ts. Interfaces only. */
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import type { AuthorStatus } from '../domain/ports/author.js';
import type { ApprovalLinkRedeemer, BuildFileService, BuildService, DropletService } from '../pipeline/service.js';
import type { Registry } from '../domain/ports/registry.js';
import type { FleetRegistry } from '../domain/ports/fleet-registry.js';
import type { BuildRateLimit } from './rate-limit.js';

/** What /executor/health and /executor/capabilities report about the running executor. */
export interface ExecutorInfo {
  version: string;
  startedAt: Date;
  /** `status()` is null for authors that call no API (offline). */
  author: { id: string; description: string; status(): AuthorStatus | null };
  deployTarget: string;
  registry: string;
  sandbox: 'process' | 'bubblewrap';
  /**
   * What isolates generated code and caps its resources; `unavailable_reason` set means builds are refused,
   * `fallback_reason` set means builds run with less isolation than asked (SANDBOX=auto without bubblewrap).
   * `fix` says what to do about either.
   */
  sandboxDetail: { isolation: string; limits: string; unavailable_reason: string | null; fallback_reason: string | null; fix: string | null };
  notifyChannels: string[];
  maxConcurrentBuilds: number;
  maxBuildIterations: number;
  /** Builds by status, for /state and /executor/health. */
  buildCounts(): Promise<Record<string, number>>;
  /** Whether the store answers (a cheap query). */
  storeHealthy(): Promise<boolean>;
}

export interface AppDeps {
  builds: BuildService;
  droplets: DropletService;
  registry: Registry;
  info: ExecutorInfo;
  /** Base for stream_url/status_url, e.g. `http://127.0.0.1:8400`. */
  publicUrl: string;
  /** When set, every route except the health ones needs `Authorization: Bearer <token>`. */
  apiToken?: string;
  /** The fleet registry served under /registry (the executor is the registry); absent: no /registry routes. */
  fleetRegistry?: FleetRegistry;
  /** Peers may also use this for /registry (besides API_TOKEN); set alone, it guards only /registry. */
  registryToken?: string;
  /** Deployed droplets' token (DROPLET_API_TOKEN): accepted for /registry reads only. */
  dropletToken?: string;
  /** A build's committed files and repair diffs (`/executor/builds/:id/files`, `…/repairs`); absent: no such routes. */
  buildFiles?: BuildFileService;
  /** Signed one-click approval links (`/executor/approvals/:token`); absent: no approval pages. */
  approvalLinks?: ApprovalLinkRedeemer;
  /** Fastify's logger option (pino settings, `false`) or a ready pino instance. */
  logger: FastifyServerOptions['logger'] | FastifyBaseLogger;
  /** Largest accepted request body, bytes. */
  bodyLimit?: number;
  /** Build submissions per client IP and window (BUILD_RATE_LIMIT, BUILD_RATE_WINDOW); absent: unlimited. */
  buildRateLimit?: BuildRateLimit;
}
