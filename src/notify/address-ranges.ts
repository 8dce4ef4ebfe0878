/**
 * Which IP addresses a notification may not reach: everything that is not a public
 * unicast address. Pure; `target-guard.ts` applies it to literals and to DNS answers.
 * IPv6 forms that carry an IPv4 address (mapped, SIIT-translated, NAT64, 6to4) are judged
 * by that address, so `::ffff:127.0.0.1` or `64:ff9b::a00:1` cannot stand in for a refused
 * IPv4 one; any other IPv6 address must be global unicast (an allowlist, not a blocklist).
 */
import { isIP } from 'node:net';

interface Range {
  bytes: Uint8Array;
  bits: number;
  kind: string;
}

function ipv4Bytes(address: string): Uint8Array {
  return Uint8Array.from(address.split('.').map(Number));
}

/** 16 bytes of an IPv6 address (`::`, an IPv4 tail and a `%zone` allowed). */
function ipv6Bytes(address: string): Uint8Array {
  let text = address.split('%')[0]!;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = ipv4Bytes(tail[1]!);
    text = `${text.slice(0, -tail[1]!.length)}${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest ? rest.split(':') : [];
  const groups =
    rest === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - restGroups.length).fill('0'), ...restGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    const value = parseInt(group, 16);
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 0xff;
  });
  return bytes;
}

function range(cidr: string, kind: string): Range {
  const [address, bits] = cidr.split('/') as [string, string];
  return { bytes: isIP(address) === 4 ? ipv4Bytes(address) : ipv6Bytes(address), bits: Number(bits), kind };
}

function inRange(bytes: Uint8Array, { bytes: prefix, bits }: Range): boolean {
  if (bytes.length !== prefix.length) return false;
  for (let bit = 0; bit < bits; bit += 8) {
    const take = Math.min(8, bits - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    if ((bytes[bit / 8]! & mask) !== (prefix[bit / 8]! & mask)) return false;
  }
  return true;
}

// First match wins: the metadata addresses sit inside link-local and ULA ranges.
const IPV4_REFUSED: Range[] = [
  range('169.254.169.254/32', 'metadata'),
  range('100.100.100.200/32', 'metadata'),
  range('0.0.0.0/8', 'unspecified'),
  range('127.0.0.0/8', 'loopback'),
  range('10.0.0.0/8', 'private'),
  range('172.16.0.0/12', 'private'),
  range('192.168.0.0/16', 'private'),
  range('100.64.0.0/10', 'shared (CGNAT)'),
  range('169.254.0.0/16', 'link-local'),
  range('192.0.0.0/24', 'reserved'),
  range('192.0.2.0/24', 'reserved'),
  // The deprecated 6to4 relay anycast: whoever is nearest answers it.
  range('192.88.99.0/24', 'reserved'),
  range('198.18.0.0/15', 'reserved'),
  range('198.51.100.0/24', 'reserved'),
  range('203.0.113.0/24', 'reserved'),
  range('224.0.0.0/4', 'multicast'),
  range('240.0.0.0/4', 'reserved'),
];

/**
 * IPv6 is an allowlist: only global unicast (2000::/3) passes, minus the special-purpose
 * blocks inside it. The named ranges outside it only give a refusal a clearer word.
 */
const IPV6_GLOBAL_UNICAST = range('2000::/3', 'global unicast');

const IPV6_REFUSED: Range[] = [
  range('fd00:ec2::254/128', 'metadata'),
  range('::/128', 'unspecified'),
  range('::1/128', 'loopback'),
  // Local-use NAT64 translates to private space.
  range('64:ff9b:1::/48', 'private'),
  range('fc00::/7', 'private'),
  range('fe80::/10', 'link-local'),
  range('fec0::/10', 'link-local'),
  range('ff00::/8', 'multicast'),
  // Inside 2000::/3: IETF protocol assignments (Teredo hides its IPv4 address XOR-ed,
  // ORCHID, benchmarking, AMT…), refused whole; and the documentation prefixes.
  range('2001::/23', 'reserved'),
  range('2001:db8::/32', 'reserved'),
  range('3fff::/20', 'reserved'),
];

/** IPv6 prefixes that carry an IPv4 address, and where it sits (byte offset). */
const IPV4_CARRIERS: Array<{ range: Range; offset: number }> = [
  { range: range('::ffff:0:0/96', 'IPv4-mapped'), offset: 12 },
  // SIIT's IPv4-translated form, ::ffff:0:a.b.c.d.
  { range: range('::ffff:0:0:0/96', 'IPv4-translated'), offset: 12 },
  { range: range('64:ff9b::/96', 'NAT64'), offset: 12 },
  { range: range('2002::/16', '6to4'), offset: 2 },
];

/** The IPv4 address an IPv6 one stands for, if it is such a form. */
function embeddedIpv4(bytes: Uint8Array): { bytes: Uint8Array; form: string } | null {
  const carrier = IPV4_CARRIERS.find((candidate) => inRange(bytes, candidate.range));
  return carrier ? { bytes: bytes.slice(carrier.offset, carrier.offset + 4), form: carrier.range.kind } : null;
}

const kindIn = (bytes: Uint8Array, ranges: Range[]): string | null => ranges.find((r) => inRange(bytes, r))?.kind ?? null;

function ipv6Kind(bytes: Uint8Array): string | null {
  const named = kindIn(bytes, IPV6_REFUSED);
  if (named !== null) return named;
  // Everything outside global unicast: IPv4-compatible ::/96, discard 100::/64, 5f00::/16 (SRv6), unassigned space.
  return inRange(bytes, IPV6_GLOBAL_UNICAST) ? null : 'reserved';
}

/**
 * Why an address may not be a notification target (`loopback`, `private`, `metadata`…),
 * or null for a public unicast address. Anything that is not an IP address is refused.
 */
export function refusedKind(address: string): string | null {
  const family = isIP(address);
  if (family === 4) return kindIn(ipv4Bytes(address), IPV4_REFUSED);
  if (family !== 6) return 'not an IP address';
  const bytes = ipv6Bytes(address);
  const embedded = embeddedIpv4(bytes);
  if (embedded) {
    const kind = kindIn(embedded.bytes, IPV4_REFUSED);
    return kind === null ? null : `${kind} (${embedded.form})`;
  }
  return ipv6Kind(bytes);
}

const IPV4_LOOPBACK = range('127.0.0.0/8', 'loopback');
const IPV6_LOOPBACK = range('::1/128', 'loopback');
const IPV4_MAPPED = IPV4_CARRIERS[0]!.range;

/**
 * A host that is this machine: `localhost`, 127/8, ::1 or ::ffff:127.x (brackets allowed).
 * Only literals and the reserved name; any other name could resolve anywhere.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (name === 'localhost') return true;
  const family = isIP(name);
  if (family === 4) return inRange(ipv4Bytes(name), IPV4_LOOPBACK);
  if (family !== 6) return false;
  const bytes = ipv6Bytes(name);
  return inRange(bytes, IPV6_LOOPBACK) || (inRange(bytes, IPV4_MAPPED) && inRange(bytes.slice(12), IPV4_LOOPBACK));
}
