/**
 * Remembers the process groups started for untrusted code, in files under the data
 * dir, so that after a crash (SIGKILL, power loss) the next start can kill whatever
 * the dead executor left behind. A group is identified by its leader's pid and its
 * start time, so a recycled pid is never killed by mistake.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The kernel's start time of a process (field 22 of /proc/<pid>/stat), or null when gone. */
function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

export class ProcessLedger {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  record(pgid: number): void {
    const started = startTimeOf(pgid);
    if (started !== null) writeFileSync(join(this.dir, String(pgid)), started);
  }

  forget(pgid: number): void {
    rmSync(join(this.dir, String(pgid)), { force: true });
  }

  /** Kills every recorded group whose leader is still the process we started. Returns their pgids. */
  reapLeftovers(): number[] {
    const reaped: number[] = [];
    for (const name of readdirSync(this.dir)) {
      const pgid = Number(name);
      if (!Number.isInteger(pgid) || pgid <= 1) continue;
      const recorded = readFileSync(join(this.dir, name), 'utf8').trim();
      if (startTimeOf(pgid) === recorded) {
        try {
          process.kill(-pgid, 'SIGKILL');
          reaped.push(pgid);
        } catch {
          // exited between the check and the kill
        }
      }
      this.forget(pgid);
    }
    return reaped;
  }
}
