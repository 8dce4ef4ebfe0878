/**
 * A droplet's public port is chosen once per host and kept across releases. It must
 * be free on the host: asked of the host itself (a throwaway listen), not guessed.
 */
import { randomInt } from 'node:crypto';
import { StepError } from '../../domain/errors.js';
import type { FleetHost } from './fleet-host.js';

const PROBE = `const s=require('net').createServer();s.once('error',()=>process.exit(1));s.listen(Number(process.argv[1]),process.argv[2],()=>s.close(()=>process.exit(0)))`;

export interface PortRange {
  min: number;
  max: number;
}

/** A free port on the host: a random one in the range, not taken by another droplet on record. */
export function portAllocator(bindHost: string, nodePath: string, range: PortRange) {
  return async (host: FleetHost, taken: ReadonlySet<number>): Promise<number> => {
    const size = range.max - range.min + 1;
    const offset = randomInt(size);
    for (let i = 0; i < Math.min(size, 200); i++) {
      const port = range.min + ((offset + i) % size);
      if (taken.has(port)) continue;
      if ((await host.ops.shell.exec([nodePath, '-e', PROBE, String(port), bindHost])).code === 0) return port;
    }
    throw new StepError('DEPLOY_HOST_COMMAND_FAILED', `No free port in ${range.min}-${range.max} on ${host.label}.`, { host: host.label });
  };
}
