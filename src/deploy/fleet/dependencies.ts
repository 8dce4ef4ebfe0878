/**
 * A release's production dependencies, installed once per lockfile per host and linked
 * into each release that uses it (`node_modules` is a link, so a redeploy with the same
 * lockfile installs nothing). Local hosts link the executor's dependency store entry,
 * the very tree verification ran against; other hosts run `npm ci --omit=dev
 * --ignore-scripts` from the release's lockfile into `{base}/.executor/modules/<key>`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { StepError } from '../../domain/errors.js';
import { shareDependencyEntry } from '../../sandbox/data-dir-modes.js';
import { dependencyKey, type DependencyStore } from '../../sandbox/dependency-store.js';
import { readRegularFile } from '../../support/files.js';
import type { HostOps } from './host-ops.js';
import type { HostLayout } from './layout.js';

export interface InstallRequest {
  ops: HostOps;
  host: HostLayout;
  /** The verified working copy on the executor's machine (its lockfile names the tree). */
  sourceDir: string;
  /** The unpacked release on the host, not yet renamed into place. */
  releaseDir: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface DependencyInstaller {
  /** Links `node_modules` of the release; returns where it points, or null when the droplet has no dependencies. */
  install(request: InstallRequest): Promise<{ modules: string | null; installed: boolean }>;
}

/** Runs npm on the host, once per lockfile. */
export class HostNpmInstaller implements DependencyInstaller {
  constructor(private readonly npmPath = 'npm') {}

  async install({ ops, host, sourceDir, releaseDir, timeoutMs, signal }: InstallRequest) {
    const key = await installKey(sourceDir);
    if (key === null) return { modules: null, installed: false };
    const entry = posix.join(host.modulesDir, key);
    const modules = posix.join(entry, 'node_modules');
    let installed = false;
    if (!(await ops.isDirectory(modules))) {
      await removeAbandonedStaging(ops, host, timeoutMs);
      const staging = posix.join(host.modulesDir, `.staging-${key}-${randomBytes(4).toString('hex')}`);
      await ops.mkdirs([staging], { mode: '755' });
      try {
        const lockfile = (await ops.exists(posix.join(releaseDir, 'package-lock.json'))) ? ['package-lock.json'] : [];
        // -P: a link in the release is copied as a link (and npm refuses it), never followed by the deploying user.
        await ops.run(['cp', '-P', ...['package.json', ...lockfile].map((file) => posix.join(releaseDir, file)), staging]);
        const command = lockfile.length ? 'ci' : 'install';
        await ops
          .sh(
            'cd "$1" && shift && "$@" && mkdir -p node_modules && chmod -R a=rX node_modules',
            [staging, this.npmPath, command, '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--no-update-notifier'],
            { what: `npm ${command}`, timeoutMs, signal },
          )
          .catch((error: unknown) => {
            throw new StepError('DEPLOY_INSTALL_FAILED', (error as Error).message, { host: ops.shell.label });
          });
        // Another deploy may have finished the same entry meanwhile: the first rename wins, both are equal.
        await ops.sh('mv -T "$1" "$2" 2>/dev/null || true', [staging, entry]);
        installed = true;
      } finally {
        await ops.remove([staging]);
      }
    }
    await linkModules(ops, modules, releaseDir);
    return { modules, installed };
  }
}

/** `<release>/node_modules` becomes the link; a node_modules the release shipped goes first (ln would link inside it). */
async function linkModules(ops: HostOps, modules: string, releaseDir: string): Promise<void> {
  await ops.sh('rm -rf "$2/node_modules" && ln -sT "$1" "$2/node_modules"', [modules, releaseDir], { what: 'linking node_modules' });
}

/**
 * An install cut off by a crash (kill -9 of the executor during `npm ci`) leaves its
 * staging directory; one older than the install timeout belongs to no running install.
 */
async function removeAbandonedStaging(ops: HostOps, host: HostLayout, timeoutMs: number): Promise<void> {
  const minutes = String(Math.ceil(timeoutMs / 60_000) + 1);
  await ops.sh('[ -d "$1" ] || exit 0; find "$1" -mindepth 1 -maxdepth 1 -name ".staging-*" -mmin +"$2" -exec chmod -R u+w {} + -exec rm -rf {} +', [host.modulesDir, minutes], {
    what: 'removing abandoned installs',
  });
}

/** Links the executor's dependency store entry; without one (a droplet verified before the store), npm on the host. */
export class StoreLinkInstaller implements DependencyInstaller {
  constructor(
    private readonly store: DependencyStore,
    private readonly fallback: DependencyInstaller,
  ) {}

  async install(request: InstallRequest) {
    const stored = await this.store.find(request.sourceDir);
    if (!stored) return this.fallback.install(request);
    // Readable (never writable) by the droplet's user, who runs it from there.
    await shareDependencyEntry(posix.dirname(stored.modules));
    await linkModules(request.ops, stored.modules, request.releaseDir);
    return { modules: stored.modules, installed: false };
  }
}

/** The lockfile's tree key, else a hash of the manifest; null without dependencies at all. */
async function installKey(sourceDir: string): Promise<string | null> {
  const fromLock = await dependencyKey(sourceDir);
  const manifest = await readRegularFile(posix.join(sourceDir, 'package.json'), { maxBytes: 1024 * 1024, within: sourceDir });
  if (manifest.status !== 'read') return fromLock;
  try {
    const parsed = JSON.parse(manifest.content.toString('utf8')) as { dependencies?: Record<string, unknown> };
    if (!parsed.dependencies || Object.keys(parsed.dependencies).length === 0) return null;
  } catch {
    throw new StepError('DEPLOY_BAD_MANIFEST', 'The droplet package.json could not be read as JSON.');
  }
  return fromLock ? `lock-${fromLock.slice(0, 24)}` : `manifest-${createHash('sha256').update(manifest.content).digest('hex').slice(0, 24)}`;
}
