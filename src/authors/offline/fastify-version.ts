/** The exact Fastify version installed next to the executor, which generated droplets pin. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

let cached: string | undefined;

/**
 * Pinning the executor's own version means `npm install --prefer-offline` in a droplet
 * is served from the npm cache the executor was installed from, with no network.
 */
export function installedFastifyVersion(): string {
  if (cached) return cached;
  const manifestPath = createRequire(import.meta.url).resolve('fastify/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version?: unknown };
  if (typeof manifest.version !== 'string' || !/^\d+\.\d+\.\d+/.test(manifest.version)) {
    throw new Error(`Cannot read the installed Fastify version from ${manifestPath}.`);
  }
  cached = manifest.version;
  return cached;
}
