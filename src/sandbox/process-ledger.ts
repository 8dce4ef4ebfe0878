/**
 * Remembers the process groups started for untrusted code, in files under the data
 * dir, so that after a crash (SIGKILL, power loss) the next start can kill whatever
 * the dead executor left behind. A group is identified by its leader's pid and its
 * start time, so a recycled pid is never killed by mistake.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Process group and start time (fields 5 and 22 of /proc/<pid>/stat), or null when gone. */
function statOf(pid: number | string): { pgrp: number; started: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pgrp: Number(fields[2]), started: fields[19] ?? '' };
  } catch {
    return null;
  }
}

function startTimeOf(pid: number): string | null {
  return statOf(pid)?.started ?? null;
}

/**
 * Whether the group still has the members we started: its leader (same start time), or,
 * when the leader already exited, any member that started no earlier than it did.
 */
function groupStillOurs(pgid: number, recorded: string): boolean {
  const leader = statOf(pgid);
  if (leader) return leader.started === recorded;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const member = statOf(entry);
    if (member && member.pgrp === pgid && Number(member.started) >= Number(recorded)) return true;
  }
  return false;
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
      if (groupStillOurs(pgid, recorded)) {
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
