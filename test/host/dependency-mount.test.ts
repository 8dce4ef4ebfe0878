/**
 * A dependency store entry inside bubblewrap: it appears as the workspace's
 * `node_modules`, readable, and read-only, even though the store lives under the data
 * directory the sandbox hides.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BubblewrapSandbox } from '../../src/sandbox/bubblewrap.js';

let root: string;
let entry: string;
let workspace: string;

beforeAll(() => {
  root = mkdtempSync('/var/tmp/dependency-mount-');
  entry = join(root, 'data/dependencies/abc/node_modules');
  workspace = join(root, 'data/repos/1-droplet');
  mkdirSync(join(entry, 'left-pad'), { recursive: true });
  writeFileSync(join(entry, 'left-pad/index.js'), 'module.exports = (s) => " " + s;\n');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(join(root, 'data/sandbox-home'), { recursive: true });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a dependency store entry in bwrap', () => {
  const sandbox = () =>
    new BubblewrapSandbox({ baseEnv: { PATH: process.env.PATH }, homeDir: join(root, 'data/sandbox-home'), npmCacheDir: join(root, 'npm'), hiddenPaths: [join(root, 'data')], killGraceMs: 500 });

  it('is the workspace node_modules, readable by node and refusing every write', async () => {
    const script = [
      'node -e "console.log(require(\'left-pad\')(\'x\'))"',
      'echo tampered > node_modules/left-pad/index.js',
      'rm -rf node_modules/left-pad',
      'mkdir node_modules/planted',
      'ls ../../dependencies 2>&1 | head -1',
      'echo done',
    ].join('; ');
    const result = await sandbox().run({ command: 'sh', args: ['-c', script], cwd: workspace, timeoutMs: 30_000, dependencies: entry });
    expect(result.exitCode).toBe(0);
    expect(result.output.split('\n')[0]).toBe(' x');
    expect(result.output.match(/Read-only file system/g)?.length).toBeGreaterThanOrEqual(3);
    // The rest of the data directory stays hidden: only the entry itself is bound in.
    expect(result.output).not.toContain('abc');
    expect(result.output).toContain('done');
    expect(readFileSync(join(entry, 'left-pad/index.js'), 'utf8')).toBe('module.exports = (s) => " " + s;\n');
  });
});
