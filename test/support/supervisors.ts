/**
 * Test clean-up for deployed droplets: every supervisor under a deploy base directory is
 * killed with its backends (SIGKILL: tests do not wait for graceful drains), so no
 * droplet outlives the test that deployed it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

function kill(pid: number, group: boolean): void {
  try {
    process.kill(group ? -pid : pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Kills the supervisors (and their backends' process groups) of every droplet under `baseDir`. */
export function killSupervisors(baseDir: string): number {
  if (!existsSync(baseDir)) return 0;
  let killed = 0;
  for (const name of readdirSync(baseDir)) {
    const run = join(baseDir, name, 'run');
    try {
      const pid = Number(readFileSync(join(run, 'supervisor.pid'), 'utf8').trim());
      if (Number.isInteger(pid) && pid > 1) {
        kill(pid, true);
        kill(pid, false);
        killed += 1;
      }
    } catch {
      // no supervisor recorded
    }
    try {
      const backends = JSON.parse(readFileSync(join(run, 'backends.json'), 'utf8')) as { pgid?: number }[];
      for (const backend of backends) if (Number.isInteger(backend.pgid) && backend.pgid! > 1) kill(backend.pgid!, true);
    } catch {
      // none recorded
    }
  }
  return killed;
}
