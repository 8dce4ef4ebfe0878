/** The sandbox generated code runs in, chosen at start-up, and the ledger that reaps what a crash left. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ProcessLedger } from '../sandbox/process-ledger.js';
import { createSandbox, type SandboxChoice } from '../sandbox/sandbox-factory.js';
import type { Config } from './config.js';

/** What a user reading the warning should do about it. */
export const BUBBLEWRAP_FIX =
  'install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap), allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 or kernel.apparmor_restrict_unprivileged_userns=0), then restart; or set SANDBOX=off to run without it on purpose';

export function prepareSandbox(config: Config, log: Logger): { choice: SandboxChoice; ledger: ProcessLedger } {
  // Process groups a crashed predecessor left running for generated code die before anything starts.
  const ledger = new ProcessLedger(join(config.dataDir, 'run'));
  const reaped = ledger.reapLeftovers();
  if (reaped.length > 0) log.warn({ process_groups: reaped }, 'killed processes left by an earlier executor');
  const choice = createSandbox({
    mode: config.SANDBOX,
    bwrapPath: config.BWRAP_PATH,
    memoryMb: config.SANDBOX_MEMORY_MB,
    maxProcesses: config.SANDBOX_MAX_PROCESSES,
    // Generated code never sees the executor's data, home or working-directory .env.
    dataDir: config.dataDir,
    executorHome: homedir(),
    executorCwd: process.cwd(),
    baseEnv: process.env,
    homeDir: join(config.dataDir, 'sandbox-home'),
    // Installs are served from the executor's own npm cache, so droplets build with no network.
    npmCacheDir: process.env.npm_config_cache ?? join(homedir(), '.npm'),
    groups: ledger,
  });
  if (choice.unavailableReason) log.error({ reason: choice.unavailableReason, fix: BUBBLEWRAP_FIX }, 'SANDBOX=required but bubblewrap does not work here: builds are refused');
  else if (choice.kind === 'process') log.warn({ isolation: choice.isolation, ...(config.SANDBOX === 'auto' && { fix: BUBBLEWRAP_FIX }) }, 'generated code runs without bubblewrap isolation');
  log.info({ sandbox: choice.kind, isolation: choice.isolation, limits: choice.limits }, 'sandbox ready');
  return { choice, ledger };
}
