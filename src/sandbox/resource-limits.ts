/**
 * Memory and process caps for every sandboxed command, by the best mechanism this host
 * offers: a cgroup per run (caps the whole tree, and lets the end of a run kill what
 * escaped its process group), else prlimit. Both work the same with or without bubblewrap:
 * the caps are put in place before bwrap (or the command) executes.
 */
import { existsSync } from 'node:fs';
import { type CgroupPlacement, CgroupRun, planPlacements, readHierarchies, usablePlacements } from './cgroup.js';

export interface ResourceLimitSettings {
  /** Memory of one command and everything it starts, MiB. */
  memoryMb: number;
  /** Processes and threads of one command at once. */
  maxProcesses: number;
}

/** Caps for one run: a prefix that executes the command under them, released after the run. */
export interface RunLimits {
  prefix: string[];
  release(): Promise<void>;
}

export interface ResourceLimiter {
  /** Which mechanism caps what, for start-up logs and /executor/health. */
  readonly description: string;
  acquire(): RunLimits;
}

const PRLIMIT = '/usr/bin/prlimit';

/**
 * Joins each cgroup (its `cgroup.procs` files are the first `$1` arguments) and then
 * becomes the command, so nothing runs outside the caps, not even for an instant.
 */
const JOIN_AND_EXEC = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n - 1)); done; exec "$@"';

export class HostResourceLimiter implements ResourceLimiter {
  readonly description: string;

  constructor(
    private readonly placements: readonly CgroupPlacement[],
    private readonly prlimitArgs: readonly string[],
    description: string,
  ) {
    this.description = description;
  }

  acquire(): RunLimits {
    const run = this.placements.length > 0 ? CgroupRun.create(this.placements) : null;
    const joins = run?.joinFiles ?? [];
    const prefix = [
      ...(joins.length > 0 ? ['/bin/sh', '-c', JOIN_AND_EXEC, 'sh', String(joins.length), ...joins] : []),
      ...(this.prlimitArgs.length > 0 ? [PRLIMIT, ...this.prlimitArgs, '--'] : []),
    ];
    return { prefix, release: () => run?.remove() ?? Promise.resolve() };
  }
}

export interface LimiterProbeOptions {
  /** Skip cgroups (tests of the prlimit path; hosts where cgroups belong to someone else). */
  cgroups?: boolean;
  /** Whether prlimit may be used; default: when /usr/bin/prlimit exists. */
  prlimit?: boolean;
}

/**
 * The limiter for this host. RLIMIT_DATA rather than RLIMIT_AS: V8 and WebAssembly
 * reserve far more address space than they use, so an address-space cap breaks node
 * (fetch fails) long before memory runs out. RLIMIT_NPROC counts every process of the
 * real user and is ignored for root, so as root prlimit cannot cap process count at all.
 */
export function detectResourceLimiter(settings: ResourceLimitSettings, options: LimiterProbeOptions = {}): ResourceLimiter {
  const memoryBytes = settings.memoryMb * 1024 * 1024;
  const planned = options.cgroups === false ? [] : planPlacements(readHierarchies(), { memoryBytes, maxProcesses: settings.maxProcesses });
  const { usable } = usablePlacements(planned);
  const byCgroup = new Set(usable.flatMap((placement) => placement.resources));
  const prlimitAvailable = options.prlimit ?? existsSync(PRLIMIT);
  const isRoot = process.getuid?.() === 0;

  const prlimitArgs: string[] = [];
  const parts: string[] = [];
  const cgroupName = (resource: 'memory' | 'pids') => `cgroup v${usable.find((placement) => placement.resources.includes(resource))!.version}`;
  if (byCgroup.has('memory')) {
    parts.push(`memory ${settings.memoryMb} MiB per run (${cgroupName('memory')})`);
  } else if (prlimitAvailable) {
    prlimitArgs.push(`--data=${memoryBytes}`);
    parts.push(`memory ${settings.memoryMb} MiB per process (prlimit RLIMIT_DATA)`);
  } else {
    parts.push('memory not limited (no usable cgroup, no prlimit)');
  }
  if (byCgroup.has('pids')) {
    parts.push(`${settings.maxProcesses} processes per run (${cgroupName('pids')})`);
  } else if (prlimitAvailable && !isRoot) {
    prlimitArgs.push(`--nproc=${settings.maxProcesses}`);
    parts.push(`${settings.maxProcesses} processes of the executor's user (prlimit RLIMIT_NPROC)`);
  } else {
    parts.push(isRoot ? 'process count not limited (no usable pids cgroup; RLIMIT_NPROC does not bind root)' : 'process count not limited (no usable cgroup, no prlimit)');
  }
  return new HostResourceLimiter(usable, prlimitArgs, parts.join('; '));
}
