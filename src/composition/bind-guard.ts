/**
 * The locked door at start-up: an executor reachable from the network without API_TOKEN
 * lets anyone who reaches the port submit builds, that is run code on this host. Such a
 * start is refused unless ALLOW_INSECURE_BIND=true, which is then announced loudly.
 */
import { BlockList, isIP } from 'node:net';
import type { Config } from './config.js';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** 127.0.0.0/8, ::1 (and IPv4-mapped 127.x) and `localhost`; 0.0.0.0 and :: are every interface, not loopback. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.trim().replace(/^\[(.*)\]$/, '$1');
  if (bare.toLowerCase() === 'localhost') return true;
  const family = isIP(bare);
  if (family === 0) return false;
  return LOOPBACK.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

export type BindCheck =
  | { verdict: 'safe' }
  | { verdict: 'refused'; line: string }
  | { verdict: 'insecure'; warning: string };

type BindSettings = Pick<Config, 'HOST' | 'PORT' | 'API_TOKEN' | 'ALLOW_INSECURE_BIND'>;

/** Whether the configured bind may start: the refusal is one line that says how to fix it. */
export function checkBind(config: BindSettings): BindCheck {
  if (config.API_TOKEN || isLoopbackHost(config.HOST)) return { verdict: 'safe' };
  if (config.ALLOW_INSECURE_BIND) {
    return {
      verdict: 'insecure',
      warning: `INSECURE: listening on ${config.HOST}:${config.PORT} without API_TOKEN (ALLOW_INSECURE_BIND=true): anyone who can reach this port can submit builds and run code on this host.`,
    };
  }
  return {
    verdict: 'refused',
    line: `Refusing to start: HOST=${config.HOST} is reachable beyond this machine and API_TOKEN is not set, so anyone who can reach port ${config.PORT} could run code on this host. Set API_TOKEN, or HOST=127.0.0.1, or ALLOW_INSECURE_BIND=true to accept the risk.`,
  };
}
