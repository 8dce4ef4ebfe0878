/**
 * Where one offline `auto` build spends its time, with a warm dependency store (a first
 * build of another droplet fills it): each step's duration and child-process share, then
 * the gap before every journal event. For finding what to speed up next.
 * Usage: npm run bench:steps
 */
import { rmSync } from 'node:fs';
import { loadConfig } from '../src/composition/config.js';
import { createExecutor } from '../src/composition/executor.js';
import { stopDeployedDroplets, tempDataDir } from '../test/support/executor.js';

const dataDir = tempDataDir();
const executor = await createExecutor(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }));
async function build(intent: string): Promise<string> {
  const submitted = await executor.builds.submit({ architectIntent: intent, approvalMode: 'auto', autoDeploy: true });
  await new Promise<void>((resolve) =>
    executor.builds.subscribe(submitted.build_id, (event) => {
      if (event.type === 'build.completed' || event.type === 'build.failed') resolve();
    }),
  );
  return submitted.build_id;
}

try {
  await build('Build Usage Meter for tracking droplet metrics and performance');
  const started = performance.now();
  const submitted = { build_id: await build('Build Analytics Engine for tracking droplet metrics and performance') };
  const view = await executor.builds.get(submitted.build_id);
  console.log(`${view.status} in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  for (const step of view.steps) {
    const childMs = step.details.child_process_ms;
    const child = typeof childMs === 'number' ? childMs : 0;
    console.log(`  ${step.step.padEnd(20)} ${String(step.duration_seconds ?? '-').padStart(6)} s${child ? `  (${child} ms in child processes)` : ''}${step.error ? `  ${step.error.code}: ${step.error.message}` : ''}`);
  }
  console.log('\nms before each event:');
  const events = await executor.builds.events(submitted.build_id, 0);
  let previous = Date.parse(events[0]!.at);
  for (const event of events) {
    const at = Date.parse(event.at);
    const label = event.type === 'step.progress' ? event.data.message : 'step' in event.data ? String(event.data.step) : '';
    console.log(`  ${String(at - previous).padStart(6)}  ${event.type} ${label}`);
    previous = at;
  }
} finally {
  stopDeployedDroplets(executor);
  await executor.close();
  rmSync(dataDir, { recursive: true, force: true });
}
