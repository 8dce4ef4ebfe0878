/**
 * Per-run control groups: a memory cap and a process (task) cap for one sandboxed
 * command and everything it starts. Works with cgroup v2 (memory.max, pids.max in one
 * group) and with v1 hierarchies (memory.limit_in_bytes and pids.max, one group each).
 * Run groups are made under the executor's own group, so whatever caps the executor
 * (a service manager, a container) still caps its children too.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isProcessAlive } from './process-group.js';

export type LimitedResource = 'memory' | 'pids';

export interface CgroupHierarchy {
  version: 1 | 2;
  /** Where it is mounted, e.g. `/sys/fs/cgroup/memory`. */
  mount: string;
  /** Controllers it carries (v1: from the mount options; v2: cgroup.controllers of the root). */
  controllers: string[];
  /** The executor's own group, relative to the mount. */
  ownPath: string;
}

/** One group per run in one hierarchy, with the files that set its limits. */
export interface CgroupPlacement {
  version: 1 | 2;
  resources: LimitedResource[];
  /** Directory under which run groups are made. */
  parent: string;
  /** Written in order; a failure means the placement is unusable. */
  settings: ReadonlyArray<readonly [file: string, value: string]>;
  /** Written when the kernel offers them (swap caps); failures are ignored. */
  extras: ReadonlyArray<readonly [file: string, value: string]>;
}

const RUNS_DIR = 'executor-sandbox';
const EMPTY_WAIT_MS = 5_000;

/** Hierarchies from /proc/self/mountinfo, joined with the executor's place in each (/proc/self/cgroup). */
export function parseHierarchies(mountinfo: string, ownCgroups: string): CgroupHierarchy[] {
  const own = new Map<string, string>();
  for (const line of ownCgroups.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, id, controllers, path] = match;
    if (id === '0' && controllers === '') own.set('', path!);
    for (const name of controllers!.split(',').filter(Boolean)) own.set(name, path!);
  }
  const hierarchies: CgroupHierarchy[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mount = left.split(' ')[4];
    const [fstype, , superOptions = ''] = right.split(' ');
    if (!mount) continue;
    if (fstype === 'cgroup2') {
      const ownPath = own.get('');
      if (ownPath === undefined) continue;
      let controllers: string[] = [];
      try {
        controllers = readFileSync(join(mount, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
      } catch {
        // not readable: treated as carrying nothing
      }
      hierarchies.push({ version: 2, mount, controllers, ownPath });
    } else if (fstype === 'cgroup') {
      const controllers = superOptions.split(',').filter((option) => option === 'memory' || option === 'pids');
      const ownPath = controllers.map((name) => own.get(name)).find((path) => path !== undefined);
      if (controllers.length > 0 && ownPath !== undefined) hierarchies.push({ version: 1, mount, controllers, ownPath });
    }
  }
  return hierarchies;
}

export function readHierarchies(): CgroupHierarchy[] {
  try {
    return parseHierarchies(readFileSync('/proc/self/mountinfo', 'utf8'), readFileSync('/proc/self/cgroup', 'utf8'));
  } catch {
    return [];
  }
}

function settingsFor(version: 1 | 2, resources: readonly LimitedResource[], limits: { memoryBytes: number; maxProcesses: number }): Pick<CgroupPlacement, 'settings' | 'extras'> {
  const settings: Array<[string, string]> = [];
  const extras: Array<[string, string]> = [];
  if (resources.includes('memory')) {
    settings.push([version === 2 ? 'memory.max' : 'memory.limit_in_bytes', String(limits.memoryBytes)]);
    // No swap either, or "too much memory" turns into a crawl instead of a kill.
    extras.push(version === 2 ? ['memory.swap.max', '0'] : ['memory.memsw.limit_in_bytes', String(limits.memoryBytes)]);
  }
  if (resources.includes('pids')) settings.push(['pids.max', String(limits.maxProcesses)]);
  return { settings, extras };
}

/**
 * Where run groups can go: v2 when it carries both controllers and they can be
 * delegated below the executor's group, else one v1 hierarchy per controller.
 */
export function planPlacements(hierarchies: readonly CgroupHierarchy[], limits: { memoryBytes: number; maxProcesses: number }): CgroupPlacement[] {
  const v2 = hierarchies.find((entry) => entry.version === 2 && entry.controllers.includes('memory') && entry.controllers.includes('pids'));
  if (v2) {
    return [{ version: 2, resources: ['memory', 'pids'], parent: join(v2.mount, v2.ownPath, RUNS_DIR), ...settingsFor(2, ['memory', 'pids'], limits) }];
  }
  const placements: CgroupPlacement[] = [];
  for (const resource of ['memory', 'pids'] as const) {
    const v1 = hierarchies.find((entry) => entry.version === 1 && entry.controllers.includes(resource));
    if (v1) placements.push({ version: 1, resources: [resource], parent: join(v1.mount, v1.ownPath, RUNS_DIR), ...settingsFor(1, [resource], limits) });
  }
  return placements;
}

/** v2 only hands controllers to children that every ancestor below the executor's group enables. */
function enableV2Controllers(parent: string): void {
  // The executor's own group holds processes, and v2 forbids controllers there unless it is the root.
  writeFileSync(join(parent, '..', 'cgroup.subtree_control'), '+memory +pids');
  writeFileSync(join(parent, 'cgroup.subtree_control'), '+memory +pids');
}

function pidsIn(group: string): number[] {
  try {
    return readFileSync(join(group, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** One command's groups: made before it starts, emptied (SIGKILL) and removed after it ended. */
export class CgroupRun {
  private constructor(readonly groups: readonly string[]) {}

  /** The `cgroup.procs` files the command joins before it executes anything. */
  get joinFiles(): string[] {
    return this.groups.map((group) => join(group, 'cgroup.procs'));
  }

  static create(placements: readonly CgroupPlacement[]): CgroupRun {
    const name = `${process.pid}-${randomBytes(4).toString('hex')}`;
    const made: string[] = [];
    try {
      for (const placement of placements) {
        const group = join(placement.parent, name);
        mkdirSync(group);
        made.push(group);
        for (const [file, value] of placement.settings) writeFileSync(join(group, file), value);
        for (const [file, value] of placement.extras) {
          try {
            writeFileSync(join(group, file), value);
          } catch {
            // swap accounting is off on this kernel
          }
        }
      }
    } catch (error) {
      void new CgroupRun(made).remove();
      throw error;
    }
    return new CgroupRun(made);
  }

  /**
   * Kills whatever is still inside (a process that left the process group with setsid
   * is still in the cgroup) and removes the groups.
   */
  async remove(): Promise<void> {
    for (const group of this.groups) {
      const giveUpAt = Date.now() + EMPTY_WAIT_MS;
      for (let pids = pidsIn(group); pids.length > 0 && Date.now() < giveUpAt; pids = pidsIn(group)) {
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone already
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      for (let attempt = 0; attempt < 50; attempt += 1) {
        try {
          rmdirSync(group);
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    }
  }
}

/** Removes run groups an earlier executor process left behind (their owner pid is dead). */
function sweepLeftovers(parent: string): void {
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  for (const entry of entries) {
    const owner = /^(\d+)-[0-9a-f]+$/.exec(entry)?.[1];
    if (!owner || isProcessAlive(Number(owner))) continue;
    try {
      rmdirSync(join(parent, entry));
    } catch {
      // still holds processes: the process ledger reaps those
    }
  }
}

/**
 * The placements that really work here: each is prepared, proven with a throwaway run
 * group (made, limited, removed), and dropped with its reason when that fails.
 */
export function usablePlacements(placements: readonly CgroupPlacement[]): { usable: CgroupPlacement[]; problems: string[] } {
  const usable: CgroupPlacement[] = [];
  const problems: string[] = [];
  for (const placement of placements) {
    try {
      mkdirSync(placement.parent, { recursive: true });
      if (placement.version === 2) enableV2Controllers(placement.parent);
      sweepLeftovers(placement.parent);
      const probe = CgroupRun.create([placement]);
      for (const group of probe.groups) rmdirSync(group);
      usable.push(placement);
    } catch (error) {
      problems.push(`cgroup v${placement.version} ${placement.resources.join('+')}: ${(error as Error).message}`);
    }
  }
  return { usable, problems };
}
