import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dropletEntry, MANIFEST_LIMIT_BYTES } from '../../src/verify/droplet-launch.js';

/** A read that blocked on a FIFO or never ended on /dev/zero fails the test by timeout instead. */
const PROMPT = { timeout: 5_000 };

let workdir: string;
beforeEach(() => {
  workdir = realpathSync(mkdtempSync(path.join(tmpdir(), 'droplet-entry-')));
});
afterEach(() => {
  rmSync(workdir, { recursive: true, force: true });
});

const manifest = (content: string) => writeFileSync(path.join(workdir, 'package.json'), content);

describe('dropletEntry', () => {
  it('takes main when it stays inside the workspace, else the conventional entry', async () => {
    expect(await dropletEntry(workdir)).toEqual({ entry: 'src/server.js' });
    manifest('{"main":"./lib/index.js"}');
    expect(await dropletEntry(workdir)).toEqual({ entry: 'lib/index.js' });
    manifest('not json');
    expect(await dropletEntry(workdir)).toEqual({ entry: 'src/server.js' });
    manifest('null');
    expect(await dropletEntry(workdir)).toEqual({ entry: 'src/server.js' });
    manifest('{"main":"../../etc/passwd"}');
    expect(await dropletEntry(workdir)).toEqual({ refused: 'package.json main "../../etc/passwd" leaves the workspace' });
  });

  it('refuses a package.json that is a FIFO', PROMPT, async () => {
    execFileSync('mkfifo', [path.join(workdir, 'package.json')]);
    expect(await dropletEntry(workdir)).toEqual({ refused: 'package.json is a FIFO, not a regular file; refused to read it' });
  });

  it('refuses a package.json linked to /dev/zero without reading it', PROMPT, async () => {
    symlinkSync('/dev/zero', path.join(workdir, 'package.json'));
    const rssBefore = process.memoryUsage().rss;
    expect(await dropletEntry(workdir)).toEqual({ refused: 'package.json is a symbolic link; refused to read it' });
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses a package.json over the limit', PROMPT, async () => {
    const fd = openSync(path.join(workdir, 'package.json'), 'w');
    ftruncateSync(fd, 2 * 1024 * 1024 * 1024);
    closeSync(fd);
    expect(await dropletEntry(workdir)).toEqual({ refused: `package.json is larger than ${MANIFEST_LIMIT_BYTES} bytes; refused to read it` });
  });
});
