/** The options the composition root passes createSandbox, laid out under a test's own root directory. */
import { join } from 'node:path';
import type { SandboxFactoryOptions } from '../../src/sandbox/sandbox-factory.js';

/** `root/data` is the data dir, `root/executor-home` the executor's HOME, `root` its working directory. */
export function sandboxFactoryOptions(root: string, overrides: Partial<SandboxFactoryOptions> = {}): SandboxFactoryOptions {
  return {
    mode: 'required',
    memoryMb: 256,
    maxProcesses: 64,
    dataDir: join(root, 'data'),
    executorHome: join(root, 'executor-home'),
    executorCwd: root,
    baseEnv: process.env,
    homeDir: join(root, 'data/sandbox-home'),
    npmCacheDir: join(root, 'npm-cache'),
    killGraceMs: 500,
    ...overrides,
  };
}
