import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, ftruncateSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readForScan, readRegularFile, removeSpecialFiles, writeNoFollow } from '../../src/support/files.js';

const MiB = 1024 * 1024;
/** A read that blocked on a FIFO would hold a threadpool thread; the test fails by timeout instead. */
const PROMPT = { timeout: 5_000 };

let base: string;
let root: string;
const servers: Server[] = [];

beforeEach(() => {
  base = realpathSync(mkdtempSync(path.join(tmpdir(), 'safe-read-')));
  root = path.join(base, 'repo');
  mkdirSync(root);
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((done) => server.close(done))));
  rmSync(base, { recursive: true, force: true });
});

function fifo(file: string): void {
  execFileSync('mkfifo', [file]);
}

/** A sparse file: huge on paper, no disk used. */
function sparse(file: string, bytes: number): void {
  const fd = openSync(file, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
}

describe('readRegularFile', () => {
  it('reads a regular file and reports a missing one as missing', async () => {
    writeFileSync(path.join(root, 'a.js'), 'hello');
    const read = await readRegularFile(path.join(root, 'a.js'), { maxBytes: MiB, within: root });
    expect(read).toEqual({ status: 'read', content: Buffer.from('hello'), truncated: false });
    expect(await readRegularFile(path.join(root, 'nope.js'), { maxBytes: MiB })).toEqual({ status: 'missing' });
    expect(await readRegularFile(path.join(root, 'a.js', 'below'), { maxBytes: MiB })).toEqual({ status: 'missing' });
  });

  it('refuses a FIFO without blocking', PROMPT, async () => {
    fifo(path.join(root, 'server.js'));
    expect(await readRegularFile(path.join(root, 'server.js'), { maxBytes: MiB })).toEqual({
      status: 'refused',
      reason: 'not-regular',
      why: 'is a FIFO, not a regular file',
    });
  });

  it('refuses a link to /dev/zero and a link to a regular file outside', PROMPT, async () => {
    symlinkSync('/dev/zero', path.join(root, 'package.json'));
    writeFileSync(path.join(base, 'secret.txt'), 'host secret');
    symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'secret.txt'));
    for (const name of ['package.json', 'secret.txt']) {
      expect(await readRegularFile(path.join(root, name), { maxBytes: MiB })).toEqual({ status: 'refused', reason: 'symlink', why: 'is a symbolic link' });
    }
  });

  it('refuses a directory and a socket', PROMPT, async () => {
    mkdirSync(path.join(root, 'dir.js'));
    const server = createServer();
    servers.push(server);
    await new Promise<void>((done) => server.listen(path.join(root, 'sock.js'), done));
    expect(await readRegularFile(path.join(root, 'dir.js'), { maxBytes: MiB })).toMatchObject({ status: 'refused', why: 'is a directory, not a regular file' });
    expect(await readRegularFile(path.join(root, 'sock.js'), { maxBytes: MiB })).toMatchObject({ status: 'refused', why: 'is a socket, not a regular file' });
  });

  it('refuses a file over the cap, or returns its first bytes when asked to truncate, with bounded memory', PROMPT, async () => {
    writeFileSync(path.join(root, 'exact.js'), 'x'.repeat(1024));
    writeFileSync(path.join(root, 'over.js'), 'x'.repeat(1025));
    expect(await readRegularFile(path.join(root, 'exact.js'), { maxBytes: 1024 })).toMatchObject({ status: 'read', truncated: false });
    expect(await readRegularFile(path.join(root, 'over.js'), { maxBytes: 1024 })).toEqual({ status: 'refused', reason: 'too-large', why: 'is larger than 1024 bytes' });

    const huge = path.join(root, 'huge.js');
    sparse(huge, 4 * 1024 * MiB);
    const rssBefore = process.memoryUsage().rss;
    const truncated = await readRegularFile(huge, { maxBytes: 8 * MiB, overLimit: 'truncate' });
    const refused = await readRegularFile(huge, { maxBytes: MiB });
    const growth = process.memoryUsage().rss - rssBefore;
    expect(truncated.status === 'read' && truncated.content.length).toBe(8 * MiB);
    expect(truncated).toMatchObject({ truncated: true });
    expect(refused).toMatchObject({ status: 'refused', reason: 'too-large' });
    expect(growth).toBeLessThan(256 * MiB);
  });

  it('refuses a file that a linked parent directory puts outside `within`', async () => {
    mkdirSync(path.join(base, 'outside'));
    writeFileSync(path.join(base, 'outside', 'id_rsa'), 'host key');
    symlinkSync(path.join(base, 'outside'), path.join(root, 'src'));
    expect(await readRegularFile(path.join(root, 'src', 'id_rsa'), { maxBytes: MiB, within: root })).toEqual({
      status: 'refused',
      reason: 'outside',
      why: 'resolves to a file outside the repository',
    });
    // Control: without `within` the same path does reach the file.
    expect(await readRegularFile(path.join(root, 'src', 'id_rsa'), { maxBytes: MiB })).toMatchObject({ status: 'read' });
  });
});

describe('readForScan', () => {
  it('returns text for a regular file and null for a FIFO or a link', PROMPT, async () => {
    writeFileSync(path.join(root, 'a.js'), 'const a = 1;\n');
    fifo(path.join(root, 'pipe.js'));
    symlinkSync('/dev/zero', path.join(root, 'zero.js'));
    expect(await readForScan(path.join(root, 'a.js'))).toBe('const a = 1;\n');
    expect(await readForScan(path.join(root, 'pipe.js'))).toBeNull();
    expect(await readForScan(path.join(root, 'zero.js'))).toBeNull();
  });
});

describe('writeNoFollow', () => {
  it('replaces a planted FIFO or link instead of writing through it', PROMPT, async () => {
    fifo(path.join(root, 'server.js'));
    writeFileSync(path.join(base, 'target.txt'), 'untouched');
    symlinkSync(path.join(base, 'target.txt'), path.join(root, 'linked.js'));
    await writeNoFollow(path.join(root, 'server.js'), 'server\n');
    await writeNoFollow(path.join(root, 'linked.js'), 'linked\n');
    expect(readFileSync(path.join(root, 'server.js'), 'utf8')).toBe('server\n');
    expect(readFileSync(path.join(root, 'linked.js'), 'utf8')).toBe('linked\n');
    expect(readFileSync(path.join(base, 'target.txt'), 'utf8')).toBe('untouched');
  });
});

describe('removeSpecialFiles', () => {
  it('removes FIFOs and sockets at any depth, keeps files, directories, links and skipped entries', PROMPT, async () => {
    mkdirSync(path.join(root, 'src', 'deep'), { recursive: true });
    mkdirSync(path.join(root, 'node_modules'));
    writeFileSync(path.join(root, 'src', 'a.js'), 'a');
    fifo(path.join(root, 'top.fifo'));
    fifo(path.join(root, 'src', 'deep', 'inner.fifo'));
    fifo(path.join(root, 'node_modules', 'kept.fifo'));
    const server = createServer();
    servers.push(server);
    await new Promise<void>((done) => server.listen(path.join(root, 'src', 'sock'), done));
    symlinkSync('/dev/zero', path.join(root, 'src', 'zero'));
    const removed = await removeSpecialFiles(root, new Set(['node_modules']));
    expect(removed.sort()).toEqual(['src/deep/inner.fifo', 'src/sock', 'top.fifo']);
    expect(execFileSync('find', ['.', '-mindepth', '1'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean).sort()).toEqual([
      './node_modules',
      './node_modules/kept.fifo',
      './src',
      './src/a.js',
      './src/deep',
      './src/zero',
    ]);
  });
});
