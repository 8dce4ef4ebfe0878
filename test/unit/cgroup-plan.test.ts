import { describe, expect, it } from 'vitest';
import { parseHierarchies, planPlacements } from '../../src/sandbox/cgroup.js';

const LIMITS = { memoryBytes: 256 * 1024 * 1024, maxProcesses: 64 };

// A hybrid host (this one): v1 controllers, an empty v2 hierarchy beside them.
const HYBRID_MOUNTINFO = [
  '30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755',
  '35 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '36 30 0:32 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '37 30 0:33 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
  '38 30 0:34 / /nonexistent/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');
const HYBRID_OWN = ['9:pids:/', '4:memory:/service/abc', '3:cpu,cpuacct:/', '0::/'].join('\n');

describe('parseHierarchies', () => {
  it('finds v1 memory and pids hierarchies with the executor’s place in each', () => {
    const hierarchies = parseHierarchies(HYBRID_MOUNTINFO, HYBRID_OWN);
    expect(hierarchies).toEqual([
      { version: 1, mount: '/sys/fs/cgroup/memory', controllers: ['memory'], ownPath: '/service/abc' },
      { version: 1, mount: '/sys/fs/cgroup/pids', controllers: ['pids'], ownPath: '/' },
      // A v2 hierarchy whose cgroup.controllers cannot be read carries nothing.
      { version: 2, mount: '/nonexistent/unified', controllers: [], ownPath: '/' },
    ]);
  });

  it('ignores v1 hierarchies without memory or pids and v2 when the process is not in it', () => {
    const hierarchies = parseHierarchies(HYBRID_MOUNTINFO, '4:memory:/x');
    expect(hierarchies.map((entry) => entry.mount)).toEqual(['/sys/fs/cgroup/memory']);
  });
});

describe('planPlacements', () => {
  it('puts memory and pids in one v2 group when v2 carries both', () => {
    const placements = planPlacements([{ version: 2, mount: '/sys/fs/cgroup', controllers: ['cpu', 'memory', 'pids'], ownPath: '/system.slice/executor.service' }], LIMITS);
    expect(placements).toEqual([
      {
        version: 2,
        resources: ['memory', 'pids'],
        parent: '/sys/fs/cgroup/system.slice/executor.service/executor-sandbox',
        settings: [['memory.max', String(LIMITS.memoryBytes)], ['pids.max', '64']],
        extras: [['memory.swap.max', '0']],
      },
    ]);
  });

  it('uses one v1 group per controller otherwise, under the executor’s own group', () => {
    const placements = planPlacements(parseHierarchies(HYBRID_MOUNTINFO, HYBRID_OWN), LIMITS);
    expect(placements).toEqual([
      {
        version: 1,
        resources: ['memory'],
        parent: '/sys/fs/cgroup/memory/service/abc/executor-sandbox',
        settings: [['memory.limit_in_bytes', String(LIMITS.memoryBytes)]],
        extras: [['memory.memsw.limit_in_bytes', String(LIMITS.memoryBytes)]],
      },
      { version: 1, resources: ['pids'], parent: '/sys/fs/cgroup/pids/executor-sandbox', settings: [['pids.max', '64']], extras: [] },
    ]);
  });

  it('plans nothing without cgroups', () => {
    expect(planPlacements([], LIMITS)).toEqual([]);
  });
});
