import { rmSync } from 'node:fs';
import { loadConfig } from '../src/config.js';
import { createExecutor } from '../src/executor.js';
import { stopDeployedDroplets, tempDataDir } from '../test/support/executor.js';
const dataDir = tempDataDir();
const ex = await createExecutor(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }));
const t0 = performance.now();
const b = ex.builds.submit({ architectIntent: 'Build Analytics Engine for tracking droplet metrics and performance', approvalMode: 'auto', autoDeploy: true });
await new Promise<void>((r) => ex.builds.subscribe(b.build_id, (e) => { if (e.type === 'build.completed' || e.type === 'build.failed') r(); }));
console.log('total', (performance.now() - t0).toFixed(0));
const v = ex.builds.get(b.build_id);
for (const s of v.steps) console.log(s.step, s.duration_seconds, s.details.child_process_ms ?? '', s.error ? JSON.stringify(s.error).slice(0, 600) : '');
const evs = ex.builds.events(b.build_id, 0);
let prev = Date.parse(evs[0]!.at);
for (const e of evs) { const t = Date.parse(e.at); console.log(String(t - prev).padStart(6), e.type, (e.data as any).message ?? (e.data as any).step ?? ''); prev = t; }
stopDeployedDroplets(ex); await ex.close(); rmSync(dataDir, { recursive: true, force: true });
