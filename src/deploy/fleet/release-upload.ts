/**
 * Puts a release on a host: the verified commit as a tar (`git archive`, never the
 * working tree), unpacked under `.partial-<id>`, its dependencies linked, made
 * read-only, then renamed into `releases/<id>`. A release directory therefore exists
 * only complete; an upload cut off by a crash leaves a partial one, redone next time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { throwIfAborted } from '../../domain/errors.js';
import type { DependencyInstaller } from './dependencies.js';
import type { HostOps } from './host-ops.js';
import type { DropletLayout, HostLayout } from './layout.js';

export interface UploadRequest {
  ops: HostOps;
  host: HostLayout;
  droplet: DropletLayout;
  releaseId: string;
  sourceDir: string;
  archive(file: string): Promise<void>;
  installer: DependencyInstaller;
  installTimeoutMs: number;
  signal: AbortSignal;
  progress: (message: string, data?: Record<string, unknown>) => void;
}

/** The release's directory on the host, uploaded unless it is already there complete. */
export async function ensureRelease(request: UploadRequest): Promise<{ dir: string; uploaded: boolean }> {
  const { ops, droplet, releaseId, signal, progress } = request;
  const dir = droplet.release(releaseId);
  if (await ops.isDirectory(dir)) return { dir, uploaded: false };

  const partial = droplet.partial(releaseId);
  const remoteTar = droplet.upload(releaseId);
  await ops.remove([partial, remoteTar]);
  await ops.mkdirs([droplet.releasesDir], { mode: '755' });
  const local = await mkdtemp(join(tmpdir(), 'executor-release-'));
  try {
    const tar = join(local, 'release.tar');
    await request.archive(tar);
    throwIfAborted(signal);
    progress('Uploading release', { host: ops.shell.label, release: releaseId });
    await ops.shell.upload(tar, remoteTar, { signal });
  } finally {
    await rm(local, { recursive: true, force: true });
  }
  throwIfAborted(signal);
  await ops.mkdirs([partial], { mode: '755' });
  // --no-same-owner / --no-same-permissions: files belong to the deploying user, modes masked by umask.
  await ops.run(['tar', '-xf', remoteTar, '-C', partial, '--no-same-owner', '--no-same-permissions'], { what: 'unpacking the release' });
  await ops.remove([remoteTar]);
  throwIfAborted(signal);

  progress('Installing dependencies', { host: ops.shell.label });
  const { installed } = await request.installer.install({
    ops,
    host: request.host,
    sourceDir: request.sourceDir,
    releaseDir: partial,
    timeoutMs: request.installTimeoutMs,
    signal,
  });
  if (installed) progress('Dependencies installed', { host: ops.shell.label });
  // Readable by everyone and written by no one, the droplet included (whatever the deploying
  // user's umask): only shared/data is its to write.
  await ops.run(['chmod', '-R', 'a=rX', partial], { what: 'making the release read-only' });
  await ops.run(['mv', '-T', partial, dir], { what: 'moving the release into place' });
  return { dir, uploaded: true };
}
