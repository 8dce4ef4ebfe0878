/**
 * Process groups on Linux: liveness and signalling. Liveness reads /proc because a
 * killed orphan may stay a zombie when PID 1 does not reap (containers, microVMs):
 * `kill(pid, 0)` succeeds on zombies, yet they run nothing and hold no pipes.
 */
import { readdirSync, readFileSync } from 'node:fs';

interface ProcStat {
  state: string;
  pgrp: number;
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parens). */
function readStat(pid: string | number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const pgrp = Number(fields[2]);
  if (!state || !Number.isInteger(pgrp)) return null;
  return { state, pgrp };
}

function isRunningState(state: string): boolean {
  return state !== 'Z' && state !== 'X' && state !== 'x';
}

const hasProc = (() => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
})();

function signalZeroSucceeds(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the process exists and is not a zombie. */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (!hasProc) return signalZeroSucceeds(pid);
  const stat = readStat(pid);
  return stat !== null && isRunningState(stat.state);
}

/** Whether any non-zombie process is still in the process group `pgid`. */
export function isProcessGroupAlive(pgid: number): boolean {
  if (!Number.isInteger(pgid) || pgid <= 0) return false;
  if (!hasProc) return signalZeroSucceeds(-pgid);
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return signalZeroSucceeds(-pgid);
  }
  for (const entry of entries) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    const stat = readStat(entry);
    if (stat && stat.pgrp === pgid && isRunningState(stat.state)) return true;
  }
  return false;
}

/** Sends `signal` to every process in the group; false when the group is already gone. */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals): boolean {
  // pgid 0 or 1 would mean "our own group" or "everything we may signal".
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}
