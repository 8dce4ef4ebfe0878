/**
 * The supervisor program runs every droplet on a host, so what the host ends up running
 * must be exactly this executor's program: an upload that arrives altered is refused and
 * removed; an honest one is installed once per version. The local copy it is uploaded from
 * lives in a fresh private directory (a fixed name in /tmp could be planted beforehand).
 * Over a real LocalShell with a temp dir as the host's base; the altered upload is a
 * HostShell of the test's own, since a real transfer does not change bytes on demand.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StepError } from '../../src/domain/errors.js';
import { HostOps } from '../../src/deploy/fleet/host-ops.js';
import { HostLayout } from '../../src/deploy/fleet/layout.js';
import { SUPERVISOR_SOURCE, SupervisorClient } from '../../src/deploy/fleet/supervisor.js';
import { LocalShell } from '../../src/deploy/shell/local-shell.js';
import type { ExecOptions, ExecResult, HostShell, HostUser } from '../../src/deploy/shell/types.js';

interface Upload {
  localPath: string;
  remotePath: string;
  /** The local directory's and file's modes, seen while the upload happens. */
  dirMode: number;
  fileMode: number;
}

/** The real local host, with every upload recorded; `tamper` makes the bytes arrive changed. */
class RecordingShell implements HostShell {
  readonly label = 'local';
  readonly address = '127.0.0.1';
  readonly uploads: Upload[] = [];
  private readonly local = new LocalShell();

  constructor(private readonly tamper = false) {}

  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    return this.local.exec(argv, options);
  }

  async upload(localPath: string, remotePath: string, options?: { signal?: AbortSignal }): Promise<void> {
    this.uploads.push({ localPath, remotePath, dirMode: statSync(dirname(localPath)).mode & 0o777, fileMode: statSync(localPath).mode & 0o777 });
    if (!this.tamper) return this.local.upload(localPath, remotePath, options);
    writeFileSync(remotePath, `${readFileSync(localPath, 'utf8')}\n;process.env.PLANTED = 'by the wire';\n`);
  }

  runner(): Promise<HostUser> {
    return this.local.runner();
  }

  close(): Promise<void> {
    return this.local.close();
  }
}

let base: string;
let layout: HostLayout;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'supervisor-install-'));
  layout = new HostLayout(base);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const installed = () => (existsSync(layout.executorDir) ? readdirSync(layout.executorDir).filter((name) => name.startsWith('supervisor-')) : []);

describe('SupervisorClient.install', () => {
  it('refuses an upload that arrived altered (DEPLOY_SUPERVISOR_FAILED) and leaves no supervisor on the host', async () => {
    const shell = new RecordingShell(true);
    const failure = await SupervisorClient.install(new HostOps(shell), layout, process.execPath).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StepError);
    expect((failure as StepError).code).toBe('DEPLOY_SUPERVISOR_FAILED');
    expect(shell.uploads).toHaveLength(1);
    expect(installed()).toEqual([]);
  });

  it('installs an honest upload once, as this executor’s exact program, readable by all; a second install uploads nothing', async () => {
    const shell = new RecordingShell();
    const ops = new HostOps(shell);
    await SupervisorClient.install(ops, layout, process.execPath);
    const [program, ...others] = installed();
    expect(others).toEqual([]);
    expect(program).toMatch(/^supervisor-[0-9a-f]{12}\.mjs$/);
    const path = join(layout.executorDir, program!);
    expect(readFileSync(path)).toEqual(readFileSync(SUPERVISOR_SOURCE));
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(shell.uploads).toHaveLength(1);

    await SupervisorClient.install(ops, layout, process.execPath);
    expect(shell.uploads).toHaveLength(1);
    expect(installed()).toEqual([program]);
  });

  it('uploads from a file in a fresh private directory under the temp dir, not at a guessable name in it, and removes that directory', async () => {
    const shell = new RecordingShell();
    await SupervisorClient.install(new HostOps(shell), layout, process.execPath);
    const [upload] = shell.uploads;
    const dir = dirname(upload!.localPath);
    expect(realpathSync(dirname(dir))).toBe(realpathSync(tmpdir()));
    expect(dir).not.toBe(tmpdir());
    expect(upload!.dirMode).toBe(0o700);
    expect(upload!.fileMode).toBe(0o600);
    expect(existsSync(dir)).toBe(false);
  });
});
