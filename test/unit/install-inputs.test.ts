/** What a droplet may hand npm install: registry packages and nothing that makes npm run a program. */
import { describe, expect, it } from 'vitest';
import { installInputProblems, isRegistrySpec } from '../../src/verify/install-inputs.js';

describe('registry specs', () => {
  it.each(['^5.2.0', '1.2.3', '>=1 <2', '~0.4', 'latest', '*', '', '1.x || 2.x', 'npm:fastify@^5', 'npm:@scope/pkg@1.0.0'])('accepts %j', (spec) => {
    expect(isRegistrySpec(spec)).toBe(true);
  });

  it.each([
    'git+file:///tmp/evil',
    'git+https://github.com/a/b.git',
    'git://github.com/a/b',
    'github:user/repo',
    'user/repo',
    'file:../x',
    'link:../x',
    './local',
    '/abs/path',
    '~/x',
    'https://example.com/pkg.tgz',
    'npm:x@git+file:///tmp/y',
  ])('refuses %j', (spec) => {
    expect(isRegistrySpec(spec)).toBe(false);
  });
});

describe('install inputs', () => {
  const files = (contents: Record<string, string>) => ({
    read: async (path: string) => contents[path] ?? null,
    present: async (path: string) => path in contents,
  });
  const problems = (contents: Record<string, string>) => {
    const { read, present } = files(contents);
    return installInputProblems(read, present);
  };

  it('passes a manifest of registry versions and a registry lockfile', async () => {
    const lock = { packages: { '': {}, 'node_modules/fastify': { resolved: 'https://registry.npmjs.org/fastify/-/fastify-5.2.0.tgz' } } };
    expect(await problems({ 'package.json': JSON.stringify({ dependencies: { fastify: '^5.2.0' } }), 'package-lock.json': JSON.stringify(lock) })).toEqual([]);
  });

  it('names every way a project could make npm run something', async () => {
    const lock = { packages: { 'node_modules/a': { resolved: 'git+ssh://git@github.com/a/a.git#abc' }, 'node_modules/b': { link: true } } };
    const found = await problems({
      '.npmrc': 'git=/tmp/evil.sh\n',
      '.yarnrc.yml': '',
      'package.json': JSON.stringify({ dependencies: { dep: 'git+file:///work/x' }, devDependencies: { other: 'file:../other' } }),
      'package-lock.json': JSON.stringify(lock),
    });
    expect(found).toEqual([
      '.npmrc configures the package manager (the executor\'s settings apply; remove it)',
      '.yarnrc.yml configures the package manager (the executor\'s settings apply; remove it)',
      'dependencies.dep is "git+file:///work/x", not a registry version',
      'devDependencies.other is "file:../other", not a registry version',
      'package-lock.json resolves node_modules/a to git+ssh://git@github.com/a/a.git#abc',
      'package-lock.json links node_modules/b to a local folder',
    ]);
  });
});

describe('install inputs the safe reader refuses, and overrides (security review)', () => {
  it('counts a refused lockfile or manifest as a problem, never as absent: npm would follow the link', async () => {
    const read = async (path: string) => (path === 'package-lock.json' ? { refused: 'is a symbolic link, not a regular file' } : JSON.stringify({ dependencies: {} }));
    expect(await installInputProblems(read, async () => false)).toEqual(['package-lock.json is a symbolic link, not a regular file']);
  });

  it('refuses overrides that are not registry versions, at any depth, and accepts $name references', async () => {
    const manifest = { dependencies: { fastify: '5.2.0' }, overrides: { fastify: { 'find-my-way': 'git+https://evil.example/x.git' }, pino: '$fastify', ajv: '8.17.1' } };
    const read = async (path: string) => (path === 'package.json' ? JSON.stringify(manifest) : null);
    expect(await installInputProblems(read, async () => false)).toEqual(['package.json overrides.fastify.find-my-way is "git+https://evil.example/x.git", not a registry version']);
  });
});
