/**
 * An archetype's droplet on this machine: written from its plan with the executor's
 * node_modules linked in, its own suite run, and the droplet started as `npm start`
 * would, so its SPEC's acceptance scenarios and OpenAPI answers can be checked against
 * it with the verifier's own runner.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ScenarioResult } from '../../src/domain/acceptance.js';
import { parseAcceptanceFile } from '../../src/domain/acceptance.js';
import type { ContractCheck } from '../../src/domain/verification.js';
import type { DropletPlan } from '../../src/authors/offline/plan.js';
import { acceptanceJson } from '../../src/authors/offline/proof/acceptance.js';
import { openApiJson } from '../../src/authors/offline/proof/openapi.js';
import { freePort } from '../../src/sandbox/ports.js';
import { runAcceptance } from '../../src/verify/acceptance.js';
import { openApiChecks, type AcceptanceExchange } from '../../src/verify/openapi-checks.js';
import { parseApiDescription } from '../../src/verify/openapi.js';
import { writeSkeletonDroplet } from './skeleton-droplet.js';

const run = promisify(execFile);
const TOKEN = 'archetype-token';

export interface ArchetypeDroplet {
  dir: string;
  /** `node --test test/index.js` in the droplet: its stdout (TAP). */
  ownSuite(): Promise<string>;
  /** Starts the droplet, runs the SPEC's scenarios and the OpenAPI checks against it, stops it. */
  prove(): Promise<{ scenarios: ScenarioResult[]; openapi: ContractCheck[] }>;
  remove(): void;
}

async function started(dir: string, dataDir: string): Promise<{ baseUrl: string; stop: () => Promise<number | null> }> {
  const port = await freePort('127.0.0.1');
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = { PATH: process.env.PATH ?? '', SERVICE_PORT: String(port), API_TOKEN: TOKEN, DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  const child = spawn(process.execPath, ['src/server.js'], { cwd: dir, env, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  for (let i = 0; i < 200; i += 1) {
    if ((await fetch(`${baseUrl}/health`).catch(() => null))?.ok) return { baseUrl, stop: () => (child.kill('SIGTERM'), exited) };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  child.kill('SIGKILL');
  throw new Error(`the droplet in ${dir} never answered /health`);
}

export function archetypeDroplet(plan: DropletPlan): ArchetypeDroplet {
  const dir = writeSkeletonDroplet(mkdtempSync(join(tmpdir(), `archetype-${plan.archetype?.kind ?? 'records'}-`)), plan);
  return {
    dir,
    async ownSuite() {
      const { stdout } = await run(process.execPath, ['--test', 'test/index.js'], { cwd: dir, env: { PATH: process.env.PATH ?? '' } });
      return stdout;
    },
    async prove() {
      const acceptance = parseAcceptanceFile(acceptanceJson(plan));
      const api = await parseApiDescription(openApiJson(plan));
      if (!acceptance.ok || !api.ok) throw new Error(acceptance.ok ? (api as { reason: string }).reason : acceptance.reason);
      const droplet = await started(dir, mkdtempSync(join(tmpdir(), 'archetype-data-')));
      const exchanges: AcceptanceExchange[] = [];
      try {
        const scenarios = await runAcceptance(droplet.baseUrl, acceptance.file.scenarios, {
          token: TOKEN,
          timeoutMs: 5_000,
          signal: AbortSignal.timeout(30_000),
          onExchange: (exchange) => exchanges.push(exchange),
        });
        return { scenarios, openapi: openApiChecks(api.api, exchanges) };
      } finally {
        await droplet.stop();
      }
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
