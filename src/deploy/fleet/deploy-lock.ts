/**
 * One deploy (or lifecycle action) of a droplet on a host at a time: a lock directory on
 * the host (mkdir is atomic on every POSIX filesystem) holding who took it. The holder
 * touches it while it works; a lock untouched for longer than the stale timeout, by the
 * host's own clock, was left by an executor that died and is broken. So is one left by an
 * earlier run of this same executor (one executor owns a data dir, so that run is dead),
 * and one the same release takes again (a resumed deploy). Only the holder's own record
 * is ever removed.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { StepError } from '../../domain/errors.js';
import type { HostOps } from './host-ops.js';
import type { DropletLayout } from './layout.js';

export interface LockOptions {
  staleMs: number;
  /** How long to wait for another holder to finish. */
  waitMs: number;
  pollMs?: number;
  signal?: AbortSignal;
}

export interface LockOwner {
  /** The release a deploy is for, or the action's own id. */
  release: string;
  action: string;
  /** This executor run, and the data dir it owns. */
  executor: string;
  dataDir: string;
}

interface LockRecord extends LockOwner {
  at: string;
  token: string;
}

// Prints "taken", or the seconds since the holder last touched it and its record.
const TRY_LOCK = `if mkdir "$1" 2>/dev/null; then printf '%s' "$2" > "$1/owner" && echo taken; exit 0; fi
touched=$(stat -c %Y "$1/owner" 2>/dev/null || stat -c %Y "$1" 2>/dev/null || date +%s)
printf '%s\\n' "$(( $(date +%s) - touched ))"; cat "$1/owner" 2>/dev/null; exit 0`;
// Moves the lock aside, then makes sure it was the one judged abandoned; if not, puts it back.
const BREAK_LOCK = `aside="$1.broken-$3"; mv -T "$1" "$aside" 2>/dev/null || exit 0
if [ "$(cat "$aside/owner" 2>/dev/null)" = "$2" ]; then rm -rf "$aside"; else mv -T "$aside" "$1" 2>/dev/null || rm -rf "$aside"; fi`;
const RELEASE_LOCK = `[ "$(cat "$1/owner" 2>/dev/null)" = "$2" ] && rm -rf "$1"; exit 0`;

export interface HeldLock {
  release(): Promise<void>;
}

export async function acquireDeployLock(ops: HostOps, layout: DropletLayout, owner: LockOwner, options: LockOptions): Promise<HeldLock> {
  const record: LockRecord = { ...owner, at: new Date().toISOString(), token: randomBytes(8).toString('hex') };
  const text = JSON.stringify(record);
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    const answer = (await ops.sh(TRY_LOCK, [layout.lockDir, text], { what: 'taking the deploy lock' })).stdout;
    if (answer.trim() === 'taken') return held(ops, layout, text, options.staleMs);
    const [ageLine = '0', ...rest] = answer.split('\n');
    const holderText = rest.join('\n');
    const holder = parseRecord(holderText);
    if (abandoned(holder, owner, Number(ageLine) * 1000, options.staleMs)) {
      await ops.sh(BREAK_LOCK, [layout.lockDir, holderText, randomBytes(4).toString('hex')], { what: 'breaking an abandoned deploy lock' });
      continue;
    }
    if (Date.now() >= deadline || options.signal?.aborted) {
      throw new StepError('DEPLOY_LOCKED', `Another deploy of this droplet holds ${ops.shell.label} (${holder?.action ?? 'unknown'} of ${holder?.release ?? 'unknown'} since ${holder?.at ?? 'unknown'}).`, {
        host: ops.shell.label,
        holder: holder?.release ?? null,
      });
    }
    await sleep(options.pollMs ?? 500);
  }
}

/** Nobody can be inside: ours from before a crash, an earlier run of this executor, or untouched too long. */
function abandoned(holder: LockRecord | null, owner: LockOwner, ageMs: number, staleMs: number): boolean {
  if (ageMs > staleMs) return true;
  if (!holder) return false;
  if (holder.release === owner.release) return true;
  return holder.dataDir === owner.dataDir && holder.executor !== owner.executor;
}

function held(ops: HostOps, layout: DropletLayout, text: string, staleMs: number): HeldLock {
  // Touched while held, so a long install is never taken for an abandoned lock.
  const heartbeat = setInterval(() => void ops.run(['touch', `${layout.lockDir}/owner`]).catch(() => {}), Math.max(5_000, staleMs / 3));
  heartbeat.unref();
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      await ops.sh(RELEASE_LOCK, [layout.lockDir, text], { what: 'releasing the deploy lock' });
    },
  };
}

function parseRecord(text: string): LockRecord | null {
  try {
    const value = JSON.parse(text) as Partial<LockRecord>;
    if (typeof value.release !== 'string') return null;
    return { release: value.release, action: String(value.action ?? ''), executor: String(value.executor ?? ''), dataDir: String(value.dataDir ?? ''), at: String(value.at ?? ''), token: String(value.token ?? '') };
  } catch {
    return null;
  }
}
