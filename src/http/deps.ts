/** Everything the HTTP layer is handed by main.ts. Interfaces only. */
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import type { AuthorStatus } from '../domain/ports/author.js';
import type { BuildService, DropletService } from '../pipeline/service.js';
import type { Registry } from '../domain/ports/registry.js';

/** What /executor/health and /executor/capabilities report about the running executor. */
export interface ExecutorInfo {
  version: string;
  startedAt: Date;
  /** `status()` is null for authors that call no API (offline). */
  author: { id: string; description: string; status(): AuthorStatus | null };
  deployTarget: string;
  registry: string;
  sandbox: 'process' | 'bubblewrap';
  /** What isolates generated code and caps its resources; `unavailable_reason` set means builds are refused. */
  sandboxDetail: { isolation: string; limits: string; unavailable_reason: string | null };
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
  /** Fastify's logger option (pino settings, `false`) or a ready pino instance. */
  logger: FastifyServerOptions['logger'] | FastifyBaseLogger;
  /** Largest accepted request body, bytes. */
  bodyLimit?: number;
}
