/**
 * The offline author's fit, end to end for each of the 20 intents of bench/intent-fit.ts
 * (every bad fit issue 9 reported among them): its SPEC's proof is valid, and the
 * droplet it writes, started on loopback, passes every acceptance scenario of that SPEC
 * and answers as its OpenAPI document says.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { INTENTS } from '../../bench/intent-fit.js';
import { IntentDropletNamer, OfflineAuthor, planDroplet } from '../../src/authors/offline/index.js';
import { runAcceptance } from '../../src/verify/acceptance.js';
import { parseApiDescription } from '../../src/verify/openapi.js';
import { openApiChecks, type AcceptanceExchange } from '../../src/verify/openapi-checks.js';
import { checkSpecProof } from '../../src/verify/spec-proof.js';
import { writeSkeletonDroplet } from '../support/skeleton-droplet.js';

interface ListeningApp {
  listen(options: { port: number; host: string }): Promise<string>;
  close(): Promise<void>;
}
interface SkeletonModules {
  buildApp(config: unknown): ListeningApp;
  loadConfig(env: Record<string, string>): unknown;
}

const TOKEN = 'intent-fit-token';
const namer = new IntentDropletNamer();
const author = new OfflineAuthor();
const signal = new AbortController().signal;
const dirs: string[] = [];
const apps: ListeningApp[] = [];
afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function startDroplet(intent: string, dropletId: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'intent-fit-'));
  dirs.push(dir);
  writeSkeletonDroplet(dir, planDroplet(intent, { dropletId, name: namer.nameFor(intent) }));
  const load = (path: string) => import(pathToFileURL(join(dir, path)).href) as Promise<Record<string, unknown>>;
  const modules = { ...(await load('src/app.js')), ...(await load('src/config.js')) } as unknown as SkeletonModules;
  const app = modules.buildApp(modules.loadConfig({ LOG_LEVEL: 'silent', API_TOKEN: TOKEN, DATA_DIR: join(dir, 'data') }));
  apps.push(app);
  return app.listen({ port: 0, host: '127.0.0.1' });
}

describe('the offline author on 20 intents an architect might write', () => {
  it.each(INTENTS.map((intent, index) => [index + 1, intent] as const))('%i. %s: a valid proof, and a droplet that passes it', async (index, intent) => {
    const droplet = { dropletId: index, name: namer.nameFor(intent) };
    const spec = await author.writeSpec({ intent, droplet, foundation: [] }, { signal });
    const proof = await checkSpecProof(spec);
    expect(proof.ok ? 'valid' : proof.reason).toBe('valid');
    if (!proof.ok) return;

    const baseUrl = await startDroplet(intent, index);
    const exchanges: AcceptanceExchange[] = [];
    const results = await runAcceptance(baseUrl, proof.proof.scenarios, { token: TOKEN, timeoutMs: 10_000, signal, onExchange: (exchange) => exchanges.push(exchange) });
    expect(results.filter((result) => !result.passed)).toEqual([]);
    // Each resource the intent named is proved: a scenario covers it.
    for (const resource of planDroplet(intent, droplet).resources) expect(results.map((result) => result.covers)).toContain(resource.plural);

    const api = await parseApiDescription(spec.openapi);
    if (!api.ok) throw new Error(api.reason);
    expect(openApiChecks(api.api, exchanges).filter((check) => !check.passed)).toEqual([]);
  });
});
