/**
 * Which addresses the browser may connect to. Every request (the page, each redirect hop, each sub-resource)
 * is resolved here first; private, loopback, link-local, metadata and other special-purpose addresses are
 * refused unless the host or address is on the allow-list. The checked address is the one we then connect to,
 * so a second DNS answer cannot swap it (no DNS rebinding).
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to its addresses. Inject one in tests to check the block without any network. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) => {
  const all = await lookup(hostname, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT (also Alibaba's metadata 100.100.100.200)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata 169.254.169.254
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.31.196.0', 24], // AS112
  ['192.52.193.0', 24], // AMT
  ['192.88.99.0', 24], // 6to4 relay
  ['192.175.48.0', 24], // AS112 direct delegation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
  ['5f00::', 16], // SRv6 SIDs
  ['fc00::', 7], // unique local (also AWS's fd00:ec2::254 metadata)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** The 16 bytes of an IPv6 address (any textual form, dotted-quad tail included), or undefined. */
function ipv6Bytes(text: string): Uint8Array | undefined {
  if (isIP(text) !== 6) return undefined;
  let s = text.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const groups: number[] = [];
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  groups.push(...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right);
  if (groups.length !== 8) return undefined;
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 255;
  });
  return bytes;
}

const v4 = (b: Uint8Array, at: number, invert = false) =>
  [0, 1, 2, 3].map((i) => (invert ? ~b[at + i]! & 255 : b[at + i]!)).join('.');
const zeros = (b: Uint8Array, from: number, to: number) => b.subarray(from, to).every((x) => x === 0);

/**
 * The IPv4 addresses an IPv6 address carries, which a gateway, relay or the host's own stack may turn into IPv4
 * traffic to them: IPv4-mapped (::ffff:0:0/96), IPv4-translated (::ffff:0:0:0/96), IPv4-compatible (::/96),
 * NAT64 (64:ff9b::/96), 6to4 (2002::/16) and Teredo (2001::/32: server and client).
 */
export function embeddedIPv4(address: string): string[] {
  const b = ipv6Bytes(address);
  if (!b) return [];
  const w = (i: number) => (b[i]! << 8) | b[i + 1]!;
  if (zeros(b, 0, 10) && w(10) === 0xffff) return [v4(b, 12)];
  if (zeros(b, 0, 8) && w(8) === 0xffff && w(10) === 0) return [v4(b, 12)];
  if (zeros(b, 0, 12)) return [v4(b, 12)]; // IPv4-compatible; also :: (0.0.0.0) and ::1 (0.0.0.1)
  if (w(0) === 0x64 && w(2) === 0xff9b && zeros(b, 4, 12)) return [v4(b, 12)];
  if (w(0) === 0x2002) return [v4(b, 2)];
  if (w(0) === 0x2001 && w(2) === 0) return [v4(b, 4), v4(b, 12, true)];
  return [];
}

/** True for addresses the public web never needs: private, loopback, link-local, metadata, multicast... */
export function isSpecialAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    // An address that embeds IPv4 is as special as the worst IPv4 it embeds.
    if (embeddedIPv4(address).some((a) => blocked.check(a, 'ipv4'))) return true;
    return blocked.check(address.replace(/%.*$/, ''), 'ipv6');
  }
  return true; // not an address at all: refuse
}

const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data']);

/** Refusal of a URL or address; its message says how to allow it. */
export class BlockedAddressError extends Error {
  override name = 'BlockedAddressError';
}

export interface AddressPolicy {
  resolver?: Resolver;
  /**
   * Hosts and addresses that may be opened even though they are private: host names (`intranet.example`),
   * addresses (`127.0.0.1`, `::1`) or CIDR ranges (`10.1.0.0/16`).
   */
  allowHosts?: readonly string[];
}

/** A bad `allowHosts` / `--allow-host` entry; the message names the entry and the accepted forms. */
export class AllowListError extends Error {
  override name = 'AllowListError';
}

const HOST_NAME =
  /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/;

/**
 * Parses allow-list entries strictly: a host name, an address (`127.0.0.1`, `::1`, `[::1]`) or a CIDR range whose
 * prefix is a whole number within the family's width (`10.1.0.0/16`). Anything else (`127.0.0.1/`, `/99`, `/abc`,
 * a URL) throws `AllowListError` instead of being read as something broader.
 */
export function parseAllowHosts(entries: readonly string[]): { names: Set<string>; list: BlockList } {
  const names = new Set<string>();
  const list = new BlockList();
  const forms = 'use a host name, an address (127.0.0.1, ::1) or a CIDR range (10.1.0.0/16)';
  for (const raw of entries) {
    const e = raw.trim().toLowerCase();
    const slash = e.indexOf('/');
    const addrPart = (slash >= 0 ? e.slice(0, slash) : e).replace(/^\[(.*)\]$/, '$1');
    const fam = isIP(addrPart);
    if (slash >= 0) {
      const bits = e.slice(slash + 1);
      const width = fam === 6 ? 128 : 32;
      if (fam === 0)
        throw new AllowListError(`bad allowed host '${raw}': '${addrPart}' is not an address; ${forms}`);
      if (!/^\d{1,3}$/.test(bits) || Number(bits) > width) {
        throw new AllowListError(
          `bad allowed host '${raw}': the prefix length must be a whole number from 0 to ${width}; ${forms}`,
        );
      }
      list.addSubnet(addrPart, Number(bits), fam === 6 ? 'ipv6' : 'ipv4');
    } else if (fam !== 0) {
      list.addAddress(addrPart, fam === 6 ? 'ipv6' : 'ipv4');
    } else if (HOST_NAME.test(e) && !/^[\d.]+$/.test(e)) {
      names.add(e.replace(/\.$/, ''));
    } else {
      throw new AllowListError(`bad allowed host '${raw}': ${forms}`);
    }
  }
  return { names, list };
}

/** Checks URLs against the policy and returns the address to connect to. */
export class AddressGuard {
  private readonly resolver: Resolver;
  private readonly allow: { names: Set<string>; list: BlockList };

  constructor(policy: AddressPolicy = {}) {
    this.resolver = policy.resolver ?? systemResolver;
    this.allow = parseAllowHosts(policy.allowHosts ?? []);
  }

  private allowed(address: string): boolean {
    const fam = isIP(address);
    return fam !== 0 && this.allow.list.check(address, fam === 6 ? 'ipv6' : 'ipv4');
  }

  /** Resolves and checks `url`; throws `BlockedAddressError` when it may not be opened. */
  async check(url: URL): Promise<ResolvedAddress> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new BlockedAddressError(`only http and https URLs can be opened, not ${url.protocol}`);
    }
    const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
    const byName = this.allow.names.has(host);
    const literal = isIP(host);
    if (!byName && METADATA_NAMES.has(host)) {
      throw new BlockedAddressError(`${host} is a cloud metadata address and is refused`);
    }
    const addrs: ResolvedAddress[] =
      literal !== 0 ? [{ address: host, family: literal === 6 ? 6 : 4 }] : await this.resolver(host);
    if (addrs.length === 0) throw new BlockedAddressError(`${host} did not resolve to any address`);
    if (!byName) {
      for (const a of addrs) {
        if (isSpecialAddress(a.address) && !this.allowed(a.address)) {
          const what = literal !== 0 ? host : `${host} resolves to ${a.address}, which`;
          throw new BlockedAddressError(
            `${what} is a private or special-purpose address; it is refused unless allowed (allowHosts / --allow-host)`,
          );
        }
      }
    }
    return addrs[0]!;
  }
}
