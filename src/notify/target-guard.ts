/**
 * The one guard for outbound notification targets (webhook, Slack). A target must be
 * http(s) without credentials, and every address it is reached at must be public unless
 * NOTIFY_ALLOW_PRIVATE is set (`address-ranges.ts` says what is not).
 *
 * Where it is enforced, so that no path slips past:
 * - IP-literal hosts are checked in `checkUrl`: Node connects to a literal without
 *   calling any lookup.
 * - Host names are checked at connect time by the agents' `lookup`: the addresses the
 *   guard approves are the very ones the socket connects to, so a DNS answer that
 *   changes between a check and the connection (rebinding) cannot get through. Every
 *   address of the answer must pass, not just the first, since the socket may try any
 *   (autoSelectFamily). Agents keep no connections alive: each attempt resolves anew.
 * - Redirects are never followed: the requests are plain node:http(s), which does not.
 */
import { lookup as dnsLookup } from 'node:dns';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { InputError } from '../domain/errors.js';
import { refusedKind } from './address-ranges.js';

export const TARGET_REFUSED = 'NOTIFY_TARGET_REFUSED';

/** A target a notification may not reach. The message says why; it never holds the URL. */
export class TargetRefusedError extends InputError {
  constructor(reason: string) {
    super(`target refused: ${reason}`, {}, TARGET_REFUSED);
  }
}

export interface TargetGuardOptions {
  /** NOTIFY_ALLOW_PRIVATE: loopback, private, link-local and metadata addresses are allowed. */
  allowPrivate: boolean;
  /** The resolver behind the connect-time check (dns.lookup); tests hand in fixed answers. */
  resolve?: typeof dnsLookup;
}

/** The host to connect to: URL.hostname without the brackets of an IPv6 literal. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

export class TargetGuard {
  private readonly allowPrivate: boolean;
  private readonly resolve: typeof dnsLookup;
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;

  constructor(options: TargetGuardOptions) {
    this.allowPrivate = options.allowPrivate;
    this.resolve = options.resolve ?? dnsLookup;
    // Agent options reach net/tls.connect and take precedence over a request's own.
    this.httpAgent = new HttpAgent({ keepAlive: false, lookup: this.lookup });
    this.httpsAgent = new HttpsAgent({ keepAlive: false, lookup: this.lookup });
  }

  /** What the URL alone tells: scheme, credentials, an IP-literal host. Throws TargetRefusedError. */
  checkUrl(target: string | URL): URL {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new TargetRefusedError('not a valid URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TargetRefusedError(`the scheme ${url.protocol.slice(0, 16)} is not http or https`);
    }
    if (url.username !== '' || url.password !== '') throw new TargetRefusedError('the URL holds credentials');
    const host = hostOf(url);
    if (isIP(host) !== 0) this.checkAddress(host);
    return url;
  }

  /** The agent every request to `url` must use: its lookup is the connect-time check. */
  agentFor(url: URL): HttpAgent {
    return url.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
  }

  /** Throws TargetRefusedError unless the address is public (or private ones are allowed). */
  checkAddress(address: string): void {
    if (this.allowPrivate && isIP(address) !== 0) return;
    const kind = refusedKind(address);
    if (kind !== null) {
      throw new TargetRefusedError(`${address} is a ${kind} address (NOTIFY_ALLOW_PRIVATE=true allows it)`);
    }
  }

  /** net's lookup contract, both forms: one address, or all of them (`options.all`). */
  private readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      try {
        if (addresses.length === 0) throw new TargetRefusedError(`${hostname} has no address`);
        for (const { address } of addresses) this.checkAddress(address);
      } catch (refusal) {
        return callback(refusal as Error, '');
      }
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
