/**
 * Settings that would send a credential in clear: said once at start. Plain http to this
 * machine never leaves it; to anywhere else, a bearer token would travel unencrypted.
 */
import { isLoopbackHost } from '../notify/address-ranges.js';
import type { Config } from './config.js';

function plainHttpOffLoopback(url: string | undefined): boolean {
  if (!url) return false;
  const { protocol, hostname } = new URL(url);
  return protocol === 'http:' && !isLoopbackHost(hostname);
}

const hasCredentials = (url: string) => {
  const { username, password } = new URL(url);
  return username !== '' || password !== '';
};

/** One line per setting that sends a token over plain http off this machine. */
export function plaintextCredentialWarnings(config: Config): string[] {
  const warnings: string[] = [];
  const registry = config.REGISTRY_URL;
  if (registry && plainHttpOffLoopback(registry) && (config.REGISTRY_TOKEN || hasCredentials(registry))) {
    warnings.push('REGISTRY_URL is plain http to another host: REGISTRY_TOKEN travels unencrypted (use https)');
  }
  if (plainHttpOffLoopback(config.GITHUB_API_URL) && config.GITHUB_TOKEN) {
    warnings.push('GITHUB_API_URL is plain http to another host: GITHUB_TOKEN travels unencrypted (use https)');
  }
  return warnings;
}
