/**
 * Where a droplet lives on a host (the same on every target):
 *
 *   {base}/.executor/supervisor-<hash>.mjs, {base}/.executor/modules/<key>/node_modules
 *   {base}/{name}/releases/{release}   complete releases, read-only to the droplet
 *   {base}/{name}/releases/.partial-{release}   an upload being unpacked
 *   {base}/{name}/current -> releases/{release}
 *   {base}/{name}/shared/{data,.env}   kept across releases, the droplet's to write
 *   {base}/{name}/supervisor.json, run/, logs/, .deploy-lock/
 */
import { posix } from 'node:path';
import { DROPLET_NAME_PATTERN } from '../../domain/build.js';
import { StepError } from '../../domain/errors.js';

const SAFE_RELEASE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** Whether a name in `releases/` is a release (and not an upload, a partial one or anything else). */
export const isReleaseId = (name: string): boolean => SAFE_RELEASE.test(name);

export function assertReleaseId(releaseId: string): void {
  if (!isReleaseId(releaseId)) {
    throw new StepError('DEPLOY_INVALID_RELEASE', `Release id "${releaseId}" is not a safe directory name.`);
  }
}

export class HostLayout {
  constructor(readonly base: string) {
    if (!posix.isAbsolute(base)) throw new Error(`The deploy base directory must be absolute: ${base}`);
  }

  get executorDir(): string {
    return posix.join(this.base, '.executor');
  }

  get modulesDir(): string {
    return posix.join(this.executorDir, 'modules');
  }

  droplet(name: string): DropletLayout {
    if (!DROPLET_NAME_PATTERN.test(name) || name.startsWith('.')) {
      throw new StepError('DEPLOY_INVALID_RELEASE', `"${name}" is not a valid droplet name.`);
    }
    return new DropletLayout(posix.join(this.base, name));
  }
}

export class DropletLayout {
  constructor(readonly dir: string) {}

  get releasesDir(): string {
    return posix.join(this.dir, 'releases');
  }
  release(releaseId: string): string {
    assertReleaseId(releaseId);
    return posix.join(this.releasesDir, releaseId);
  }
  partial(releaseId: string): string {
    assertReleaseId(releaseId);
    return posix.join(this.releasesDir, `.partial-${releaseId}`);
  }
  get current(): string {
    return posix.join(this.dir, 'current');
  }
  get sharedDir(): string {
    return posix.join(this.dir, 'shared');
  }
  get dataDir(): string {
    return posix.join(this.sharedDir, 'data');
  }
  get envFile(): string {
    return posix.join(this.sharedDir, '.env');
  }
  get config(): string {
    return posix.join(this.dir, 'supervisor.json');
  }
  get runDir(): string {
    return posix.join(this.dir, 'run');
  }
  get logsDir(): string {
    return posix.join(this.dir, 'logs');
  }
  log(releaseId: string): string {
    assertReleaseId(releaseId);
    return posix.join(this.logsDir, `${releaseId}.log`);
  }
  get lockDir(): string {
    return posix.join(this.dir, '.deploy-lock');
  }
  upload(releaseId: string): string {
    assertReleaseId(releaseId);
    return posix.join(this.releasesDir, `.upload-${releaseId}.tar`);
  }
}
