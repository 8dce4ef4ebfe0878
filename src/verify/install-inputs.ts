/**
 * What a droplet may hand `npm install`, the one sandboxed command with network. With
 * `--ignore-scripts` no package runs code there, but npm itself runs programs the
 * project names: a project `.npmrc` can set `git=` (or `node-options`, `script-shell`)
 * and a `git+…` dependency makes npm run that program, online. So the project gets no
 * npm or yarn settings of its own, and every dependency comes from the registry.
 */
import type { ContractCheck } from '../domain/verification.js';

export const INSTALL_INPUTS_CHECK = 'dependencies come from the registry only';

/** Project files that configure npm (or another package manager) from inside the droplet. */
export const PACKAGE_MANAGER_SETTINGS = ['.npmrc', '.yarnrc', '.yarnrc.yml', '.pnpmfile.cjs', 'pnpm-workspace.yaml'] as const;

const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'] as const;

/**
 * A registry version, range or tag (`^5.2.0`, `>=1 <2`, `latest`), or a registry alias
 * (`npm:name@^1`). Not git, a URL, a path, a tarball or `user/repo`.
 */
export function isRegistrySpec(spec: string): boolean {
  const alias = /^npm:((?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*)(?:@(.*))?$/i.exec(spec);
  const range = alias ? (alias[2] ?? '') : spec;
  return /^[\w.^~<>=| *+-]*$/.test(range) && !/^[.~]?\//.test(range);
}

/** Lockfile entries must resolve to a registry tarball over HTTPS, never git, a file or a link. */
function lockfileProblems(lock: unknown): string[] {
  const packages = (lock as { packages?: Record<string, { resolved?: unknown; link?: unknown }> } | null)?.packages ?? {};
  const problems: string[] = [];
  for (const [name, entry] of Object.entries(packages)) {
    if (name === '') continue;
    if (entry.link === true) problems.push(`package-lock.json links ${name} to a local folder`);
    else if (typeof entry.resolved === 'string' && !/^https:\/\/[^/]+\/.+\.tgz$/.test(entry.resolved)) {
      problems.push(`package-lock.json resolves ${name} to ${entry.resolved.slice(0, 80)}`);
    }
  }
  return problems;
}

/** A file the safe reader would not read (a link, a FIFO, too large): npm would, so it is a problem, never "absent". */
export interface RefusedFile {
  refused: string;
}

/** `overrides` replace what the tree resolves to: every value must be a registry version too (or npm's `$name` reference). */
function overrideProblems(overrides: unknown, where = 'overrides'): string[] {
  if (overrides === undefined) return [];
  if (typeof overrides === 'string') return overrides.startsWith('$') || isRegistrySpec(overrides) ? [] : [`package.json ${where} is ${JSON.stringify(overrides)}, not a registry version`];
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) return [`package.json ${where} is not an object`];
  return Object.entries(overrides).flatMap(([name, value]) => overrideProblems(value, `${where}.${name}`));
}

/**
 * The problems with what the droplet gives npm, or none. `read` returns a file's text,
 * null when it is absent, or why the safe reader refused it.
 */
export async function installInputProblems(read: (path: string) => Promise<string | null | RefusedFile>, present: (path: string) => Promise<boolean>): Promise<string[]> {
  const problems: string[] = [];
  for (const file of PACKAGE_MANAGER_SETTINGS) {
    if (await present(file)) problems.push(`${file} configures the package manager (the executor's settings apply; remove it)`);
  }
  const readText = async (file: string): Promise<string | null> => {
    const text = await read(file);
    if (text === null || typeof text === 'string') return text;
    problems.push(`${file} ${text.refused}`);
    return null;
  };
  const manifest = await readText('package.json');
  let pkg: Record<string, unknown> = {};
  try {
    pkg = manifest === null ? {} : (JSON.parse(manifest) as Record<string, unknown>);
  } catch {
    problems.push('package.json is not valid JSON');
  }
  for (const field of DEPENDENCY_FIELDS) {
    const deps = pkg[field];
    if (deps === undefined) continue;
    if (typeof deps !== 'object' || deps === null || Array.isArray(deps)) {
      problems.push(`package.json ${field} is not an object`);
      continue;
    }
    for (const [name, spec] of Object.entries(deps)) {
      if (typeof spec !== 'string' || !isRegistrySpec(spec)) problems.push(`${field}.${name} is ${JSON.stringify(spec)}, not a registry version`);
    }
  }
  problems.push(...overrideProblems(pkg.overrides));
  const lock = await readText('package-lock.json');
  if (lock !== null) {
    try {
      problems.push(...lockfileProblems(JSON.parse(lock)));
    } catch {
      problems.push('package-lock.json is not valid JSON');
    }
  }
  return problems;
}

export function installInputsCheck(problems: readonly string[]): ContractCheck {
  return {
    name: INSTALL_INPUTS_CHECK,
    passed: problems.length === 0,
    expected: 'no npm/yarn settings in the project; every dependency a registry version',
    got: problems.length === 0 ? 'registry versions only' : problems.slice(0, 5).join('; '),
  };
}
