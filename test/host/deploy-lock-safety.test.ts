/**
 * The deploy lock's safety rules, over a real LocalShell and a temp dir as the host:
 * only the holder's own record is ever removed; a lock of an earlier run of this same
 * executor (same data dir) and one the same release takes again are taken at once; one
 * of another executor is waited for; a held lock is touched so it never looks abandoned;
 * and two waiters that break the same abandoned lock end with one holder.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StepError } from '../../src/domain/errors.js';
import { acquireDeployLock, type HeldLock, type LockOwner } from '../../src/deploy/fleet/deploy-lock.js';
import { HostOps } from '../../src/deploy/fleet/host-ops.js';
import { DropletLayout } from '../../src/deploy/fleet/layout.js';
import { LocalShell } from '../../src/deploy/shell/local-shell.js';
import type { ExecOptions, ExecResult, HostShell, HostUser } from '../../src/deploy/shell/types.js';
import { eventually } from '../support/processes.js';

const HOUR_MS = 3_600_000;
const DATA_DIR = '/srv/executor-a/data';

let root: string;
let layout: DropletLayout;
const ops = new HostOps(new LocalShell());
const held: HeldLock[] = [];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'deploy-lock-safety-'));
  layout = new DropletLayout(join(root, 'plant-tracker'));
  mkdirSync(layout.dir);
});
afterEach(async () => {
  for (const lock of held.splice(0)) await lock.release();
  vi.useRealTimers();
  rmSync(root, { recursive: true, force: true });
});

const owner = (release: string, executor: string, dataDir = DATA_DIR): LockOwner => ({ release, action: 'deploy', executor, dataDir });

async function take(who: LockOwner, options: { staleMs?: number; waitMs?: number } = {}, via = ops): Promise<HeldLock> {
  const lock = await acquireDeployLock(via, layout, who, { staleMs: options.staleMs ?? HOUR_MS, waitMs: options.waitMs ?? 0, pollMs: 100 });
  held.push(lock);
  return lock;
}

const ownerFile = () => join(layout.lockDir, 'owner');
const holder = () => JSON.parse(readFileSync(ownerFile(), 'utf8')) as LockOwner & { token: string };
const age = (when: string) => execFileSync('touch', ['-d', when, ownerFile()]);

/** A lock as another run left it: its record, last touched `when` (fresh when null). */
function plant(who: LockOwner, when: string | null = null): string {
  mkdirSync(layout.lockDir);
  const text = JSON.stringify({ ...who, at: new Date().toISOString(), token: 'planted' });
  writeFileSync(ownerFile(), text);
  if (when) age(when);
  return text;
}

async function lockedOut(promise: Promise<unknown>): Promise<StepError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StepError);
  expect((error as StepError).code).toBe('DEPLOY_LOCKED');
  return error as StepError;
}

describe('deploy lock: whose lock is removed', () => {
  it('release() of a holder whose lock was broken and taken by another leaves the other’s lock in place', async () => {
    const first = await take(owner('build-1', 'run-a'));
    age('1 hour ago'); // as if its executor had hung past the stale timeout
    const second = await take(owner('build-2', 'run-b', '/srv/executor-b/data'), { staleMs: 60_000 });
    expect(holder().executor).toBe('run-b');

    await first.release();
    expect(holder().executor).toBe('run-b');
    await second.release();
    expect(existsSync(layout.lockDir)).toBe(false);
  });
});

describe('deploy lock: taken at once', () => {
  it('a lock of an earlier run of this executor (same data dir, another run) is abandoned: taken without waiting', async () => {
    plant(owner('build-1', 'run-before-restart'));
    await take(owner('build-2', 'run-now'), { staleMs: HOUR_MS, waitMs: 0 });
    expect(holder()).toMatchObject({ release: 'build-2', executor: 'run-now' });
  });

  it('the same release takes its own lock again (a resumed deploy)', async () => {
    plant(owner('build-7', 'run-elsewhere', '/srv/executor-b/data'));
    await take(owner('build-7', 'run-now'), { staleMs: HOUR_MS, waitMs: 0 });
    expect(holder()).toMatchObject({ release: 'build-7', executor: 'run-now' });
  });
});

describe('deploy lock: another executor’s lock', () => {
  it('is waited for and then DEPLOY_LOCKED, its record untouched', async () => {
    const planted = plant(owner('build-9', 'run-b', '/srv/executor-b/data'));
    const error = await lockedOut(take(owner('build-10', 'run-a'), { waitMs: 1_000 }));
    expect(error.details).toMatchObject({ holder: 'build-9' });
    expect(readFileSync(ownerFile(), 'utf8')).toBe(planted);
  });

  it('is taken once its holder lets go within the wait', async () => {
    plant(owner('build-9', 'run-b', '/srv/executor-b/data'));
    const waiting = take(owner('build-10', 'run-a'), { waitMs: 10_000 });
    setTimeout(() => rmSync(layout.lockDir, { recursive: true }), 300);
    await waiting;
    expect(holder()).toMatchObject({ release: 'build-10', executor: 'run-a' });
  });
});

describe('deploy lock: while held', () => {
  it('touches its owner file, so a long deploy is never taken for an abandoned one', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    await take(owner('build-1', 'run-a'), { staleMs: 60_000 });
    age('2 hours ago');
    const touchedAt = () => statSync(ownerFile()).mtimeMs;
    expect(Date.now() - touchedAt()).toBeGreaterThan(HOUR_MS);

    vi.advanceTimersByTime(20_000); // a third of the stale timeout
    expect(await eventually(() => Date.now() - touchedAt() < 60_000)).toBe(true);
    await lockedOut(take(owner('build-2', 'run-b', '/srv/executor-b/data'), { staleMs: 60_000, waitMs: 0 }));
    expect(holder().executor).toBe('run-a');
  });
});

/** The local host, holding every command after the first until `open()`: a waiter paused between looking and breaking. */
class PausedShell implements HostShell {
  readonly label = 'local';
  readonly address = '127.0.0.1';
  private readonly local = new LocalShell();
  private calls = 0;
  private opened!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.opened = resolve));
  private looked!: () => void;
  /** Resolves once the first command (its first look at the lock) has answered. */
  readonly firstLook = new Promise<void>((resolve) => (this.looked = resolve));

  async exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    this.calls += 1;
    if (this.calls > 1) await this.gate;
    const result = await this.local.exec(argv, options);
    if (this.calls === 1) this.looked();
    return result;
  }
  open(): void {
    this.opened();
  }
  upload(): Promise<void> {
    return Promise.reject(new Error('the lock uploads nothing'));
  }
  runner(): Promise<HostUser> {
    return this.local.runner();
  }
  close(): Promise<void> {
    return this.local.close();
  }
}

describe('deploy lock: breaking an abandoned lock', () => {
  it('two waiters that both found the same abandoned lock end with exactly one holder', async () => {
    plant(owner('build-dead', 'run-dead', '/srv/executor-dead/data'), '1 hour ago');
    const paused = new PausedShell();
    // B looks first and finds the abandoned lock; before it breaks it, A (which found it too) breaks it and takes it.
    const b = take(owner('build-b', 'run-b', '/srv/executor-b/data'), { staleMs: 60_000, waitMs: 1_500 }, new HostOps(paused)).then(
      () => 'holds',
      (error: unknown) => (error instanceof StepError ? error.code : String(error)),
    );
    await paused.firstLook;
    let holders = 0;
    await take(owner('build-a', 'run-a', '/srv/executor-a/data'), { staleMs: 60_000, waitMs: 0 });
    holders += 1;
    paused.open();
    if ((await b) === 'holds') holders += 1;

    expect(holders).toBe(1);
    expect(await b).toBe('DEPLOY_LOCKED');
    expect(holder()).toMatchObject({ release: 'build-a', executor: 'run-a' });
  });
});
