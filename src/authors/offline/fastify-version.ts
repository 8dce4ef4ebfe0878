/** The exact versions installed next to the executor of the packages generated droplets pin. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * What a generated droplet depends on: Fastify, and Fastify's own schema compiler, which
 * the droplet shares between its app instances (its tests build one per test).
 */
export const DROPLET_PACKAGES = ['fastify', '@fastify/ajv-compiler'] as const;
export type DropletDependencies = Record<(typeof DROPLET_PACKAGES)[number], string>;

const cached = new Map<string, string>();

/**
 * Pinning the executor's own versions means `npm install --prefer-offline` in a droplet
 * is served from the npm cache the executor was installed from, with no network.
 */
export function installedVersion(name: string): string {
  const known = cached.get(name);
  if (known) return known;
  const manifestPath = createRequire(import.meta.url).resolve(`${name}/package.json`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version?: unknown };
  if (typeof manifest.version !== 'string' || !/^\d+\.\d+\.\d+/.test(manifest.version)) {
    throw new Error(`Cannot read the installed ${name} version from ${manifestPath}.`);
  }
  cached.set(name, manifest.version);
  return manifest.version;
}

export function installedFastifyVersion(): string {
  return installedVersion('fastify');
}

export function installedDropletDependencies(): DropletDependencies {
  return { fastify: installedVersion('fastify'), '@fastify/ajv-compiler': installedVersion('@fastify/ajv-compiler') };
}
