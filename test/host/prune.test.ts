/**
 * Which releases pruning keeps, on a real host: a temp directory through the real local
 * shell (every command also recorded, so the test sees which removals ran and as whom).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostOps } from '../../src/deploy/fleet/host-ops.js';
import { HostLayout, type DropletLayout } from '../../src/deploy/fleet/layout.js';
import { pruneReleases } from '../../src/deploy/fleet/prune.js';
import { LocalShell } from '../../src/deploy/shell/local-shell.js';
import type { ExecOptions, ExecResult } from '../../src/deploy/shell/types.js';
import type { DeploymentRecord } from '../../src/store/deployments.js';

/** The real local shell, recording what it was asked to run. */
class RecordingLocalShell extends LocalShell {
  readonly calls: { argv: string[]; asRunner: boolean }[] = [];

  override exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push({ argv: [...argv], asRunner: options.asRunner === true });
    return super.exec(argv, options);
  }

  /** The paths each removal was given, and whether it ran as the droplet user. */
  removals(): { paths: string[]; asRunner: boolean }[] {
    return this.calls.filter((call) => call.argv[0] === 'sh' && call.argv[2]!.includes('rm -rf')).map((call) => ({ paths: call.argv.slice(4), asRunner: call.asRunner }));
  }
}

/** Records newest first, as the store lists them. */
const records = (...ids: string[]) => ids.map((releaseId) => ({ releaseId }) as DeploymentRecord);

let base: string;
let droplet: DropletLayout;
let shell: RecordingLocalShell;

/** releases/ holding `entries` (directories with a file, read-only like a release; `.upload-*` as a file), a log per release. */
function host(entries: string[] | null): HostOps {
  if (entries !== null) {
    mkdirSync(droplet.releasesDir, { recursive: true });
    mkdirSync(droplet.logsDir, { recursive: true });
    for (const entry of entries) {
      const path = join(droplet.releasesDir, entry);
      if (entry.endsWith('.tar')) writeFileSync(path, 'tar');
      else {
        mkdirSync(path);
        writeFileSync(join(path, 'package.json'), '{}', { mode: 0o444 });
      }
      if (/^r\d$/.test(entry)) writeFileSync(droplet.log(entry), 'log\n');
    }
  }
  return new HostOps(shell);
}

const onHost = () => readdirSync(droplet.releasesDir).sort();
const logs = () => readdirSync(droplet.logsDir).sort();

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'prune-'));
  droplet = new HostLayout(base).droplet('plant-tracker');
  shell = new RecordingLocalShell();
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('pruneReleases', () => {
  it('keeps the live release and the newest others up to the limit; removes older, unknown and leftover entries, and their logs', async () => {
    const ops = host(['r1', 'r2', 'r3', 'r4', 'r5', 'stray', '.partial-r6', '.upload-r6.tar']);
    // r3 is live after a rollback: it is kept though three releases are newer.
    const removed = await pruneReleases(ops, droplet, records('r5', 'r4', 'r3', 'r2', 'r1'), 'r3', 3);
    expect(removed).toEqual(['r2', 'r1', 'stray']);
    const release = (id: string) => droplet.release(id);
    expect(shell.removals()).toEqual([
      { paths: [release('r2'), release('r1'), release('stray'), `${droplet.releasesDir}/.partial-r6`, `${droplet.releasesDir}/.upload-r6.tar`], asRunner: false },
      { paths: [droplet.log('r2'), droplet.log('r1'), droplet.log('stray')], asRunner: true },
    ]);
    expect(onHost()).toEqual(['r3', 'r4', 'r5']);
    expect(logs()).toEqual(['r3.log', 'r4.log', 'r5.log']);
  });

  it('keeps only the live release with a limit of one, and ignores records of releases not on this host', async () => {
    const ops = host(['r2', 'r3']);
    const removed = await pruneReleases(ops, droplet, records('r3', 'r9-elsewhere', 'r2', 'r1-gone'), 'r3', 1);
    expect(removed).toEqual(['r2']);
    expect(shell.removals()[0]!.paths).toEqual([droplet.release('r2')]);
    expect(onHost()).toEqual(['r3']);
  });

  it('removes an entry that is not a release id as a leftover, and does not fail on it', async () => {
    const ops = host(['r1', 'r1.bak', 'notes and stuff']);
    expect(await pruneReleases(ops, droplet, records('r1'), 'r1', 5)).toEqual([]);
    // In the order the host lists them.
    expect(shell.removals()).toEqual([{ paths: [`${droplet.releasesDir}/notes and stuff`, `${droplet.releasesDir}/r1.bak`], asRunner: false }]);
    expect(onHost()).toEqual(['r1']);
  });

  it('removes nothing (and runs no removal) when everything fits', async () => {
    const ops = host(['r1', 'r2']);
    expect(await pruneReleases(ops, droplet, records('r2', 'r1'), 'r2', 5)).toEqual([]);
    expect(shell.removals()).toEqual([]);
    expect(onHost()).toEqual(['r1', 'r2']);
  });

  it('removes nothing when the releases directory is missing', async () => {
    const ops = host(null);
    expect(await pruneReleases(ops, droplet, records('r1'), 'r1', 5)).toEqual([]);
    expect(shell.removals()).toEqual([]);
  });
});
