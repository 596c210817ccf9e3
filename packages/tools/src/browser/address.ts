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
  ['192.88.99.0', 24], // 6to4 relay
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
  ['fc00::', 7], // unique local (also AWS's fd00:ec2::254 metadata)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** The IPv4 address embedded in an IPv4-mapped, IPv4-compatible or NAT64 IPv6 address, if any. */
function embeddedIPv4(v6: string): string | undefined {
  const m = /^(?:::ffff:(?:0:)?|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(v6);
  if (m) return m[1];
  const h = /^(?:::ffff:(?:0:)?|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(v6);
  if (!h) return undefined;
  const hi = Number.parseInt(h[1]!, 16);
  const lo = Number.parseInt(h[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** True for addresses the public web never needs: private, loopback, link-local, metadata, multicast... */
export function isSpecialAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIPv4(address.toLowerCase());
    if (v4 !== undefined) return blocked.check(v4, 'ipv4');
    return blocked.check(address, 'ipv6');
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

function allowList(entries: readonly string[]): { names: Set<string>; list: BlockList } {
  const names = new Set<string>();
  const list = new BlockList();
  for (const raw of entries) {
    const e = raw
      .trim()
      .toLowerCase()
      .replace(/^\[|\]$/g, '');
    const [net, bits] = e.split('/');
    const fam = isIP(net ?? '');
    if (fam !== 0 && bits !== undefined) list.addSubnet(net!, Number(bits), fam === 6 ? 'ipv6' : 'ipv4');
    else if (fam !== 0) list.addAddress(net!, fam === 6 ? 'ipv6' : 'ipv4');
    else names.add(e);
  }
  return { names, list };
}

/** Checks URLs against the policy and returns the address to connect to. */
export class AddressGuard {
  private readonly resolver: Resolver;
  private readonly allow: { names: Set<string>; list: BlockList };

  constructor(policy: AddressPolicy = {}) {
    this.resolver = policy.resolver ?? systemResolver;
    this.allow = allowList(policy.allowHosts ?? []);
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
