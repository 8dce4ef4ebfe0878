/**
 * One deploy of a droplet on a host at a time: a lock directory on the host (mkdir is
 * atomic on every POSIX filesystem), holding who took it. A lock older than the stale
 * timeout, by the host's own clock, was left by an executor that died and is broken.
 * The same release taking its own lock again is a resumed deploy and takes it over.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StepError } from '../../domain/errors.js';
import type { HostOps } from './host-ops.js';
import type { DropletLayout } from './layout.js';

export interface LockOptions {
  staleMs: number;
  /** How long to wait for another deploy to finish. */
  waitMs: number;
  pollMs?: number;
  signal?: AbortSignal;
}

interface LockOwner {
  release: string;
  action: string;
  at: string;
}

// Prints "taken", or the owner file and its age in seconds by the host's clock.
const TRY_LOCK = `if mkdir "$1" 2>/dev/null; then printf '%s' "$2" > "$1/owner" && echo taken; exit 0; fi
age=$(( $(date +%s) - $(stat -c %Y "$1/owner" 2>/dev/null || stat -c %Y "$1") ))
printf '%s\\n' "$age"; cat "$1/owner" 2>/dev/null; exit 0`;

export interface HeldLock {
  release(): Promise<void>;
}

export async function acquireDeployLock(ops: HostOps, layout: DropletLayout, owner: Omit<LockOwner, 'at'>, options: LockOptions): Promise<HeldLock> {
  const record = JSON.stringify({ ...owner, at: new Date().toISOString() });
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    const answer = (await ops.sh(TRY_LOCK, [layout.lockDir, record], { what: 'taking the deploy lock' })).stdout;
    if (answer.trim() === 'taken') return held(ops, layout);
    const [ageLine = '0', ...rest] = answer.split('\n');
    const ageMs = Number(ageLine) * 1000;
    const holder = parseOwner(rest.join('\n'));
    if (holder?.release === owner.release || ageMs > options.staleMs) {
      // Ours from before a crash, or abandoned: nobody else can be inside.
      await ops.remove([layout.lockDir]);
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

function held(ops: HostOps, layout: DropletLayout): HeldLock {
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await ops.remove([layout.lockDir]);
    },
  };
}

function parseOwner(text: string): LockOwner | null {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    return typeof value.release === 'string' ? { release: value.release, action: String(value.action ?? ''), at: String(value.at ?? '') } : null;
  } catch {
    return null;
  }
}
