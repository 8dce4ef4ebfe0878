/**
 * Stopping deployed droplets. A droplet is spawned detached, so its pid is also its
 * process group id and stopping the group takes any children it started with it.
 * Liveness (zombies count as gone) comes from the workspace's process-group module.
 */
import { readlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isProcessAlive, isProcessGroupAlive, signalProcessGroup } from '../sandbox/process-group.js';

export { isProcessAlive };

const POLL_MS = 50;
const REAP_WAIT_MS = 1_000;

function procAvailable(): boolean {
  try {
    readlinkSync('/proc/self/cwd');
    return true;
  } catch {
    return false;
  }
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
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !procAvailable()) return isProcessAlive(pid);
    return false;
  }
  // A release directory replaced under a running process reads as "<dir> (deleted)".
  return cwd.replace(/ \(deleted\)$/, '') === resolve(directory);
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitUntilGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessGroupAlive(pgid)) {
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
  // Give the parent (often this process) a moment to reap, so the pid is really gone;
  // an unreaped zombie after that is harmless and not waited for.
  const reapDeadline = Date.now() + REAP_WAIT_MS;
  while (groupExists(pgid) && Date.now() < reapDeadline) await sleep(10);
  return true;
}

/**
 * SIGTERM to the whole group, SIGKILL after `graceMs`, then waits until no member is left.
 * @throws Error when the group survives SIGKILL (should not happen short of a stuck kernel task).
 */
export async function stopProcessGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalProcessGroup(pgid, 'SIGTERM')) return;
  if (await waitUntilGone(pgid, graceMs)) return;
  signalProcessGroup(pgid, 'SIGKILL');
  if (await waitUntilGone(pgid, 5_000)) return;
  throw new Error(`Process group ${pgid} is still running after SIGKILL.`);
}
