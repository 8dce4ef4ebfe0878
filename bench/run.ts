/**
 * Benchmarks, printed as figures and ratios against baselines measured in the same run:
 *  1. offline `auto` builds, POST → completed: median wall time with a warm dependency
 *     store, against the floor of the same droplet (bench/floor.ts), and the share spent in
 *     child processes (install, tests, droplet start) versus the executor itself;
 *  2. GET /executor/builds/{id}/status requests per second against a bare Fastify
 *     route serving the same JSON on the same machine.
 * Usage: npm run bench [-- --builds 4 --seconds 5]
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { loadConfig } from '../src/composition/config.js';
import type { BuildView } from '../src/domain/status.js';
import { createExecutor } from '../src/composition/executor.js';
import { freePort } from '../src/sandbox/ports.js';
import { stopDeployedDroplets, tempDataDir } from '../test/support/executor.js';
import { measureFloor } from './floor.js';
import { argument, median } from './stats.js';

async function requestsPerSecond(url: string, seconds: number): Promise<number> {
  const result = await autocannon({ url, connections: 10, duration: seconds });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

const NAMES = ['analytics-engine', 'metrics-relay', 'status-board', 'event-ledger', 'alert-router', 'usage-meter', 'trace-keeper'];

async function main(): Promise<void> {
  const builds = argument('builds', 4);
  const seconds = argument('seconds', 5);
  const dataDir = tempDataDir();
  const port = await freePort();
  const executor = await createExecutor(loadConfig({ DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'silent', MAX_CONCURRENT_BUILDS: '1' }));
  await executor.app.listen({ port, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${port}`;
  try {
    console.log(`Offline auto builds, POST → completed (${builds} runs, one at a time)`);
    const walls: number[] = [];
    const childShares: number[] = [];
    let lastId = '';
    for (let run = 0; run < builds; run += 1) {
      const name = NAMES[run % NAMES.length]!;
      const started = performance.now();
      const response = await fetch(`${base}/executor/build-droplet`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ architect_intent: `Build ${name.replace(/-/g, ' ')} for tracking droplet metrics and performance`, droplet_name: `${name}-${run}`, approval_mode: 'auto' }),
      });
      const { build_id: buildId } = (await response.json()) as { build_id: string };
      const view = await new Promise<BuildView>((resolve, reject) => {
        const unsubscribe = executor.builds.subscribe(buildId, (event) => {
          if (event.type === 'build.completed' || event.type === 'build.failed') {
            unsubscribe();
            void executor.builds.get(buildId).then((finished) => {
              if (finished.status === 'completed') resolve(finished);
              else reject(new Error(`build failed: ${JSON.stringify(finished.error)}`));
            }, reject);
          }
        });
      });
      const wallMs = performance.now() - started;
      const childMs = Number(view.steps[4]!.details.child_process_ms ?? 0) + Number(view.steps[5]!.details.child_process_ms ?? 0);
      walls.push(wallMs);
      childShares.push(childMs / wallMs);
      lastId = buildId;
      console.log(`  run ${run + 1}: ${(wallMs / 1000).toFixed(2)} s wall, ${(childMs / 1000).toFixed(2)} s in child processes, ${((wallMs - childMs) / 1000).toFixed(2)} s executor`);
    }
    // Run 1 fills the dependency store; the later ones, pinning the same packages, install nothing.
    const warm = walls.length > 1 ? walls.slice(1) : walls;
    const wall = median(warm);
    const childShare = median(childShares);
    console.log(`  median wall time, warm dependency store (runs 2…${builds}): ${(wall / 1000).toFixed(2)} s; run 1 (cold store): ${(walls[0]! / 1000).toFixed(2)} s`);
    console.log(`  child processes (install, tests, droplet start): ${(childShare * 100).toFixed(1)}% of wall time`);
    console.log(`  executor overhead: ${((1 - childShare) * 100).toFixed(1)}% of wall time (aim: under 10%)`);

    const last = await executor.builds.get(lastId);
    const floor = await measureFloor(last.repository_path!, join(dataDir, 'dependencies'));
    const floorMs = floor.testsMs + floor.startMs;
    console.log(`\nThe same droplet's floor, bare, median of 3: its own tests ${(floor.testsMs / 1000).toFixed(2)} s + start to healthy ${(floor.startMs / 1000).toFixed(2)} s = ${(floorMs / 1000).toFixed(2)} s (baseline)`);
    console.log(`  warm build: ${(wall / floorMs).toFixed(2)}× the floor (aim: at most 1.5×)`);

    console.log(`\nGET /executor/builds/{id}/status vs a bare Fastify route with the same JSON (2 × ${seconds} s each, alternating, 10 connections)`);
    const body = await executor.builds.get(lastId);
    const bare = Fastify();
    bare.get('/status', async () => body);
    const barePort = await freePort();
    await bare.listen({ port: barePort, host: '127.0.0.1' });
    // Alternate the two so warm-up and machine noise fall on both alike; report the means.
    const bareRuns: number[] = [];
    const statusRuns: number[] = [];
    for (let round = 0; round < 2; round += 1) {
      bareRuns.push(await requestsPerSecond(`http://127.0.0.1:${barePort}/status`, seconds));
      statusRuns.push(await requestsPerSecond(`${base}/executor/builds/${lastId}/status`, seconds));
    }
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    const bareRps = mean(bareRuns);
    const statusRps = mean(statusRuns);
    await bare.close();
    console.log(`  bare route: ${bareRps.toFixed(0)} req/s (baseline)`);
    console.log(`  status route: ${statusRps.toFixed(0)} req/s`);
    console.log(`  ratio: ${(statusRps / bareRps).toFixed(2)} of the bare route (aim: at least 0.50), response ${JSON.stringify(body).length} bytes`);
  } finally {
    stopDeployedDroplets(executor);
    await executor.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
