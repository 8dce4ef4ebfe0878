/**
 * Process groups of deployed droplets. A droplet is spawned detached, so its pid is also
 * its process group id and stopping the group takes any children it started with it.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const POLL_MS = 50;
const REAP_WAIT_MS = 1_000;

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Sends a signal; false when no such process (group) exists. EPERM means it exists. */
function signal(target: number, name: NodeJS.Signals | 0): boolean {
  try {
    process.kill(target, name);
    return true;
  } catch (error) {
    if (errnoOf(error) === 'EPERM') return true;
    if (errnoOf(error) === 'ESRCH') return false;
    throw error;
  }
}

/** State and process group from /proc/<pid>/stat (the fields after the parenthesised name). */
function procStat(pid: number | string): { state: string; pgrp: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state = '', , pgrp = ''] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, pgrp: Number(pgrp) };
  } catch {
    return null;
  }
}

/** A zombie still answers signal 0 but serves nothing; /proc tells them apart on Linux. */
function isZombie(pid: number): boolean {
  return procStat(pid)?.state === 'Z';
}

export function isProcessAlive(pid: number): boolean {
  return signal(pid, 0) && !isZombie(pid);
}

/**
 * Whether any member of the group still runs. Zombies do not count: a droplet that outlived
 * an earlier executor is reparented, and in a container whose init does not reap it would
 * otherwise look alive forever.
 */
export function isGroupAlive(pgid: number): boolean {
  if (!signal(-pgid, 0)) return false;
  if (!procAvailable()) return true;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') return true;
  }
  return false;
}

/**
 * Whether `pid` is the droplet started in `directory` (its working directory), so a pid
 * recorded before a reboot and since reused by an unrelated process is never killed.
 * Where /proc is not available the pid is trusted.
 */
export function runsFrom(pid: number, directory: string): boolean {
  let cwd: string;
  try {
    cwd = readlinkSync(`/proc/${pid}/cwd`);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT' && !procAvailable()) return isProcessAlive(pid);
    return false;
  }
  // A release directory replaced under a running process reads as "<dir> (deleted)".
  return cwd.replace(/ \(deleted\)$/, '') === resolve(directory);
}

function procAvailable(): boolean {
  try {
    readlinkSync('/proc/self/cwd');
    return true;
  } catch {
    return false;
  }
}

async function waitUntilGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isGroupAlive(pgid)) {
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
  // Give the parent (often this process) a moment to reap, so the pid is really gone;
  // an unreaped zombie after that is harmless and not waited for.
  const reapDeadline = Date.now() + REAP_WAIT_MS;
  while (signal(-pgid, 0) && Date.now() < reapDeadline) await sleep(10);
  return true;
}

/**
 * SIGTERM to the whole group, SIGKILL after `graceMs`, then waits until no member is left.
 * @throws Error when the group survives SIGKILL (should not happen short of a stuck kernel task).
 */
export async function stopProcessGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signal(-pgid, 'SIGTERM')) return;
  if (await waitUntilGone(pgid, graceMs)) return;
  signal(-pgid, 'SIGKILL');
  if (await waitUntilGone(pgid, 5_000)) return;
  throw new Error(`Process group ${pgid} is still running after SIGKILL.`);
}
