import type { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { afterEach, describe, expect, it } from 'vitest';
import { isLoopbackHost, refusedKind } from '../../src/notify/address-ranges.js';
import { guardedPost, attemptOf, type PostOutcome } from '../../src/notify/guarded-post.js';
import { TargetGuard, TargetRefusedError } from '../../src/notify/target-guard.js';
import { startReceiver, type Receiver } from '../support/notify-receiver.js';

/** A resolver with fixed answers that counts its calls, in dns.lookup's shape (as net calls it). */
function fixedResolver(answers: Record<string, string[]>) {
  const calls: string[] = [];
  const resolve = ((hostname: string, options: unknown, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => {
    calls.push(hostname);
    expect(options).toMatchObject({ all: true });
    const addresses = answers[hostname];
    if (!addresses) {
      callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
      return;
    }
    callback(null, addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  }) as unknown as typeof dnsLookup;
  return { resolve, calls };
}

async function post(guard: TargetGuard, url: string): Promise<PostOutcome> {
  return guardedPost(guard, url, { headers: { 'content-type': 'application/json' }, body: '{"ping":true}', timeoutMs: 5_000, signal: new AbortController().signal });
}

describe('refusedKind', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.10', 'private'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['169.254.10.20', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fd00:ec2::254', 'metadata'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback (IPv4-mapped)'],
    ['::ffff:7f00:1', 'loopback (IPv4-mapped)'],
    ['::ffff:10.0.0.1', 'private (IPv4-mapped)'],
    ['::ffff:169.254.169.254', 'metadata (IPv4-mapped)'],
    ['64:ff9b::a9fe:a9fe', 'metadata (NAT64)'],
    ['2002:7f00:1::', 'loopback (6to4)'],
    ['::127.0.0.1', 'reserved'],
    ['2001:0:4136:e378::1', 'reserved'],
    ['not-an-ip', 'not an IP address'],
    // The 6to4 relay anycast, bare and inside 6to4.
    ['192.88.99.1', 'reserved'],
    ['2002:c058:6301::1', 'reserved (6to4)'],
    // SIIT's IPv4-translated form carries its IPv4 address like the mapped one.
    ['::ffff:0:127.0.0.1', 'loopback (IPv4-translated)'],
    ['::ffff:0:a00:1', 'private (IPv4-translated)'],
    ['::ffff:0:169.254.169.254', 'metadata (IPv4-translated)'],
    // Inside 2000::/3 but special-purpose: IETF protocol assignments, documentation (2001:db8::/32 was refused already).
    ['2001:2::1', 'reserved'],
    ['2001:10::1', 'reserved'],
    ['2001:20::1', 'reserved'],
    ['2001:1ff::1', 'reserved'],
    ['3fff::1', 'reserved'],
    ['3fff:fff:ffff::1', 'reserved'],
    // Outside global unicast: SRv6 SIDs, unassigned space.
    ['5f00::1', 'reserved'],
    ['1::', 'reserved'],
    ['4000::1', 'reserved'],
    ['e000::1', 'reserved'],
  ])('refuses %s as %s', (address, kind) => {
    expect(refusedKind(address)).toBe(kind);
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '192.88.100.1',
    '2606:4700::1111',
    '2001:200::1',
    '3fff:1000::1',
    '::ffff:8.8.8.8',
    '::ffff:0:8.8.8.8',
    '2002:808:808::1',
  ])(
    'lets the public address %s through',
    (address) => {
      expect(refusedKind(address)).toBeNull();
    },
  );
});

describe('isLoopbackHost', () => {
  it.each(['localhost', 'LOCALHOST', '127.0.0.1', '127.8.9.10', '::1', '[::1]', '::ffff:127.0.0.1'])('takes %s for this machine', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each(['mail.example', 'localhost.example', '10.0.0.1', '0.0.0.0', '::', '2002:7f00:1::', '::ffff:0:127.0.0.1', ''])('does not take %s for this machine', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('TargetGuard.checkUrl', () => {
  const strict = new TargetGuard({ allowPrivate: false });
  const open = new TargetGuard({ allowPrivate: true });

  it.each([
    ['http://127.0.0.1:9/hook', 'loopback'],
    ['http://2130706433/hook', 'loopback'],
    ['http://0x7f.1/hook', 'loopback'],
    ['http://10.0.0.8/hook', 'private'],
    ['http://169.254.169.254/latest/meta-data/', 'metadata'],
    ['http://[::1]:8080/hook', 'loopback'],
    ['http://[::ffff:127.0.0.1]/hook', 'loopback (IPv4-mapped)'],
    ['http://[fd00:ec2::254]/', 'metadata'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://[::ffff:0:7f00:1]/hook', 'loopback (IPv4-translated)'],
    ['http://[5f00::1]/hook', 'reserved'],
  ])('refuses the IP literal in %s (%s) before any connection', (url, kind) => {
    expect(() => strict.checkUrl(url)).toThrow(new TargetRefusedError(`${refusedAddress(url)} is a ${kind} address (NOTIFY_ALLOW_PRIVATE=true allows it)`));
  });

  it('accepts IP literals and host names when private targets are allowed, and public ones always', () => {
    expect(open.checkUrl('http://127.0.0.1:9/hook').hostname).toBe('127.0.0.1');
    expect(open.checkUrl('http://[::1]/hook').hostname).toBe('[::1]');
    expect(strict.checkUrl('https://hooks.slack.com/services/T0/B0/x').hostname).toBe('hooks.slack.com');
    expect(strict.checkUrl('https://93.184.216.34/hook').hostname).toBe('93.184.216.34');
  });

  it.each([
    ['ftp://example.com/hook', 'the scheme ftp: is not http or https'],
    ['file:///etc/passwd', 'the scheme file: is not http or https'],
    ['javascript:alert(1)', 'the scheme javascript: is not http or https'],
    ['http://user:secret@example.com/hook', 'the URL holds credentials'],
    ['https://token@example.com/hook', 'the URL holds credentials'],
    ['not a url', 'not a valid URL'],
  ])('refuses %s even when private targets are allowed', (url, reason) => {
    expect(() => open.checkUrl(url)).toThrow(`target refused: ${reason}`);
    expect(() => strict.checkUrl(url)).toThrow(`target refused: ${reason}`);
  });

  it('never names the URL (or its credentials) in a refusal', () => {
    let caught: unknown;
    try {
      strict.checkUrl('http://admin:hunter2-secret@10.0.0.1/path-token-abc');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TargetRefusedError);
    expect((caught as Error).message).not.toMatch(/hunter2|path-token|admin/);
  });
});

/** The address a refusal names: URL.hostname as normalised, without brackets. */
function refusedAddress(url: string): string {
  return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
}

describe('guardedPost through the guard', () => {
  let receiver: Receiver;
  afterEach(async () => {
    await receiver?.close();
  });

  it('refuses a loopback literal without NOTIFY_ALLOW_PRIVATE and sends nothing', async () => {
    receiver = await startReceiver();
    const outcome = await post(new TargetGuard({ allowPrivate: false }), `${receiver.origin}/hook`);
    expect(outcome).toEqual({ kind: 'refused', reason: 'target refused: 127.0.0.1 is a loopback address (NOTIFY_ALLOW_PRIVATE=true allows it)' });
    expect(attemptOf(outcome).outcome).toBe('rejected');
    expect(receiver.received).toHaveLength(0);
  });

  it('refuses `localhost`, a name that resolves to 127.0.0.1, at connect time', async () => {
    receiver = await startReceiver();
    const outcome = await post(new TargetGuard({ allowPrivate: false }), `http://localhost:${receiver.port}/hook`);
    expect(outcome.kind).toBe('refused');
    expect((outcome as { reason: string }).reason).toMatch(/^target refused: (127\.0\.0\.1|::1) is a loopback address/);
    expect(receiver.received).toHaveLength(0);
  });

  it('checks https targets at connect time too (the https agent has the same lookup)', async () => {
    const { resolve, calls } = fixedResolver({ 'hooks.fleet.test': ['192.168.0.20'] });
    const outcome = await post(new TargetGuard({ allowPrivate: false, resolve }), 'https://hooks.fleet.test/hook');
    expect(outcome).toEqual({ kind: 'refused', reason: 'target refused: 192.168.0.20 is a private address (NOTIFY_ALLOW_PRIVATE=true allows it)' });
    expect(calls).toEqual(['hooks.fleet.test']);
  });

  it('delivers to loopback (literal and `localhost`) with NOTIFY_ALLOW_PRIVATE', async () => {
    receiver = await startReceiver();
    const guard = new TargetGuard({ allowPrivate: true });
    expect(await post(guard, `${receiver.origin}/hook`)).toEqual({ kind: 'response', status: 200, body: 'ok' });
    // `localhost` may resolve to ::1 first; the receiver listens on 127.0.0.1 only, so ask for IPv4 by name.
    const { resolve } = fixedResolver({ localhost: ['127.0.0.1'] });
    expect(await post(new TargetGuard({ allowPrivate: true, resolve }), `http://localhost:${receiver.port}/hook`)).toMatchObject({ status: 200 });
    expect(receiver.received.map((request) => [request.method, request.url, request.body])).toEqual([
      ['POST', '/hook', '{"ping":true}'],
      ['POST', '/hook', '{"ping":true}'],
    ]);
  });

  it('connects to the address its own lookup approved, resolving anew for every attempt', async () => {
    receiver = await startReceiver();
    const { resolve, calls } = fixedResolver({ 'hooks.fleet.test': ['127.0.0.1'] });
    const guard = new TargetGuard({ allowPrivate: true, resolve });
    await post(guard, `http://hooks.fleet.test:${receiver.port}/a`);
    await post(guard, `http://hooks.fleet.test:${receiver.port}/b`);
    expect(calls).toEqual(['hooks.fleet.test', 'hooks.fleet.test']);
    expect(receiver.received.map((request) => [request.url, request.headers.host])).toEqual([
      ['/a', `hooks.fleet.test:${receiver.port}`],
      ['/b', `hooks.fleet.test:${receiver.port}`],
    ]);
  });

  it.each([
    [['10.0.0.7'], 'target refused: 10.0.0.7 is a private address'],
    [['169.254.169.254'], 'target refused: 169.254.169.254 is a metadata address'],
    [['::ffff:127.0.0.1'], 'target refused: ::ffff:127.0.0.1 is a loopback (IPv4-mapped) address'],
    // One bad address in the answer is enough: the socket may try any of them.
    [['93.184.216.34', '127.0.0.1'], 'target refused: 127.0.0.1 is a loopback address'],
  ])('refuses a host name answering %j', async (addresses, reason) => {
    receiver = await startReceiver();
    const { resolve } = fixedResolver({ 'hooks.fleet.test': addresses });
    const outcome = await post(new TargetGuard({ allowPrivate: false, resolve }), `http://hooks.fleet.test:${receiver.port}/hook`);
    expect(outcome.kind).toBe('refused');
    expect((outcome as { reason: string }).reason).toContain(reason);
    expect(receiver.received).toHaveLength(0);
  });

  it('turns a name that does not resolve into a network error (worth a retry)', async () => {
    const { resolve } = fixedResolver({});
    const outcome = await post(new TargetGuard({ allowPrivate: false, resolve }), 'http://nowhere.fleet.test/hook');
    expect(outcome).toEqual({ kind: 'network', reason: 'ENOTFOUND' });
    expect(attemptOf(outcome)).toEqual({ outcome: 'retry', detail: 'network error: ENOTFOUND' });
  });

  it('keeps remote text in a detail to one printable, bounded line', () => {
    const forged = 'socket hang up\n{"level":30,"msg":"delivered"}\u001b[2K\r\u202eevil\u0000';
    const detail = attemptOf({ kind: 'network', reason: forged + 'y'.repeat(2_000) }).detail;
    expect(detail).toMatch(/^network error: socket hang up \{"level":30,"msg":"delivered"\} \[2K evil y+…$/);
    // eslint-disable-next-line no-control-regex -- control characters are what must be absent
    expect(detail).not.toMatch(/[\u0000-\u001f\u007f\u202e]/);
    expect(detail.length).toBeLessThanOrEqual(300);
    expect(attemptOf({ kind: 'refused', reason: 'target refused:\tx\u007f' })).toEqual({ outcome: 'rejected', detail: 'target refused: x' });
  });

  it('does not follow a redirect, not even to an allowed target', async () => {
    const target = await startReceiver();
    receiver = await startReceiver([{ status: 307, headers: { location: `${target.origin}/elsewhere` } }]);
    try {
      const outcome = await post(new TargetGuard({ allowPrivate: true }), `${receiver.origin}/hook`);
      expect(outcome).toMatchObject({ kind: 'response', status: 307 });
      expect(attemptOf(outcome)).toEqual({ outcome: 'rejected', detail: 'HTTP 307: redirects are not followed' });
      expect(receiver.received).toHaveLength(1);
      expect(target.received).toHaveLength(0);
    } finally {
      await target.close();
    }
  });

  it('refuses credentials in the URL before connecting, even with private targets allowed', async () => {
    receiver = await startReceiver();
    const outcome = await post(new TargetGuard({ allowPrivate: true }), `http://user:pass-word@127.0.0.1:${receiver.port}/hook`);
    expect(outcome).toEqual({ kind: 'refused', reason: 'target refused: the URL holds credentials' });
    expect(receiver.received).toHaveLength(0);
  });
});
