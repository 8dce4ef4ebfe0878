import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileChange } from '../../src/domain/files.js';
import { StepError, UnsafePathError } from '../../src/domain/errors.js';
import { assertFileLimits, MAX_FILE_BYTES, MAX_FILES_PER_CHANGE, resolveSafePath } from '../../src/repo/paths.js';

let base: string;
let root: string;
let outside: string;

beforeEach(() => {
  base = mkdtempSync(path.join(tmpdir(), 'paths-test-'));
  root = path.join(base, 'repo');
  outside = path.join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
});

afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

function rejection(untrusted: string): UnsafePathError {
  try {
    resolveSafePath(root, untrusted);
  } catch (error) {
    expect(error).toBeInstanceOf(UnsafePathError);
    return error as UnsafePathError;
  }
  throw new Error(`expected "${untrusted}" to be refused`);
}

describe('resolveSafePath refuses', () => {
  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['a\0b', 'control'],
    ['a\nb', 'control'],
    ['a\u007fb', 'control'],
    ['/etc/passwd', 'absolute'],
    ['C:\\x', 'drive'],
    ['C:/x', 'drive'],
    ['c:x', 'drive'],
    ['\\\\server\\share\\x', 'UNC'],
    ['\\x', 'absolute'],
    ['../../x', 'escapes'],
    ['..', 'escapes'],
    ['a/../../x', 'escapes'],
    ['a\\..\\..\\x', 'escapes'],
    ['./../x', 'escapes'],
    ['.git/hooks/pre-commit', '.git'],
    ['.GIT/config', '.git'],
    ['src/.git/config', '.git'],
    ['.git', '.git'],
    ['.git./config', '.git'],
    ['.git /config', '.git'],
    ['git~1/config', '.git'],
    ['.g\u200cit/config', '.git'],
    ['.git/../x', '.git'],
    ['.', 'root'],
    ['a/..', 'root'],
    [`${'a'.repeat(256)}/x`, 'longer than 255'],
    [`${'abcdefgh/'.repeat(114)}x`, 'longer than 1024'],
  ])('%j (%s)', (untrusted, reason) => {
    const error = rejection(untrusted);
    expect(error.code).toBe('UNSAFE_PATH');
    expect(error.message.toLowerCase()).toContain(
      { empty: 'empty', control: 'control', absolute: 'absolute', drive: 'drive', UNC: 'unc', escapes: 'escapes', '.git': '.git', root: 'root' }[reason] ??
        reason,
    );
  });

  it('a multi-byte segment over 255 bytes even when under 255 characters', () => {
    expect(rejection(`${'é'.repeat(128)}.txt`).message).toContain('255 bytes');
  });

  it('a symlink inside the root that points outside it', () => {
    symlinkSync(outside, path.join(root, 'escape'));
    expect(rejection('escape/file.txt').message).toContain('outside');
    expect(rejection('escape').message).toContain('outside');
  });

  it('a symlinked file pointing outside the root', () => {
    symlinkSync(path.join(outside, 'passwd'), path.join(root, 'link.txt'));
    expect(rejection('link.txt').message).toMatch(/dangling|outside/);
  });

  it('a nested symlink escape deeper in the path', () => {
    mkdirSync(path.join(root, 'a', 'b'), { recursive: true });
    symlinkSync('../../../outside', path.join(root, 'a', 'b', 'c'));
    expect(rejection('a/b/c/d/e.txt').message).toContain('outside');
  });

  it('a symlink inside the root that points into .git', () => {
    mkdirSync(path.join(root, '.git', 'hooks'), { recursive: true });
    symlinkSync('.git', path.join(root, 'innocent'));
    expect(rejection('innocent/hooks/pre-commit').message).toContain('.git');
  });
});

describe('resolveSafePath accepts', () => {
  it.each([
    ['src/app.js', 'src/app.js'],
    ['./docs/SPEC.md', 'docs/SPEC.md'],
    ['a/./b', 'a/b'],
    ['a//b', 'a/b'],
    ['a\\b.txt', 'a/b.txt'],
    ['a/../b', 'b'],
    ['.gitignore', '.gitignore'],
    ['.gitattributes', '.gitattributes'],
    ['.github/workflows/ci.yml', '.github/workflows/ci.yml'],
    ['src/git/x.ts', 'src/git/x.ts'],
    ['~/notes.md', '~/notes.md'],
  ])('%j as %j', (untrusted, relative) => {
    const safe = resolveSafePath(root, untrusted);
    expect(safe.relative).toBe(relative);
    expect(safe.absolute).toBe(path.join(root, ...relative.split('/')));
  });

  it('a symlink that stays inside the root', () => {
    mkdirSync(path.join(root, 'real'));
    symlinkSync('real', path.join(root, 'alias'));
    expect(resolveSafePath(root, 'alias/x.txt').relative).toBe('alias/x.txt');
  });

  it('paths under a root that does not exist yet', () => {
    expect(resolveSafePath(path.join(base, 'not-yet'), 'src/a.ts').absolute).toBe(path.join(base, 'not-yet', 'src', 'a.ts'));
  });

  it('a path of exactly 255-byte segments within 1024 bytes', () => {
    const segment = 'b'.repeat(255);
    expect(resolveSafePath(root, `${segment}/${segment}`).relative).toBe(`${segment}/${segment}`);
  });
});

describe('assertFileLimits', () => {
  const write = (file: string, content = 'x'): FileChange => ({ kind: 'write', path: file, content });

  it('accepts the limits exactly', () => {
    const many = Array.from({ length: MAX_FILES_PER_CHANGE }, (_, i) => write(`f${i}.txt`));
    expect(() => assertFileLimits(many)).not.toThrow();
    expect(() => assertFileLimits([write('big.bin', 'a'.repeat(MAX_FILE_BYTES))])).not.toThrow();
  });

  it('refuses more than 500 files', () => {
    const many = Array.from({ length: MAX_FILES_PER_CHANGE + 1 }, (_, i): FileChange => ({ kind: 'delete', path: `f${i}` }));
    expect(() => assertFileLimits(many)).toThrow(expect.objectContaining({ code: 'FILE_LIMIT', details: expect.objectContaining({ files: 501 }) }));
  });

  it('refuses a file over 1 MiB counted in bytes', () => {
    let caught: unknown;
    try {
      assertFileLimits([write('ok.txt'), write('big.txt', 'é'.repeat(MAX_FILE_BYTES / 2 + 1))]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StepError);
    expect(caught).toMatchObject({ code: 'FILE_LIMIT', details: { path: 'big.txt', limit: MAX_FILE_BYTES } });
  });
});
