/**
 * Attacks on the browser tool. Network attacks run in a network namespace the test makes itself (netns.ts): hostile
 * pages on an allowed 127.0.0.1 site try to reach private, metadata and off-box addresses by every route Chromium
 * has (WebRTC, WebTransport, prefetch, beacons, service workers, script and meta-refresh navigations, redirects to
 * IPv6 forms that embed IPv4). Each scenario counts listener hits, DNS questions, UDP datagrams and packets sent
 * off-box. The rest (allow-list parsing, address classification, compression bombs) runs on loopback.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PassThrough, Writable } from 'node:stream';
import { brotliCompressSync, constants, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../cli/src/command.js';
import { toolBrowserCommand } from '../../../cli/src/commands/tool-browser.js';
import {
  AddressGuard,
  AllowListError,
  ChromiumFetcher,
  embeddedIPv4,
  isSpecialAddress,
  parseAllowHosts,
} from '../../src/browser/index.js';
import { netnsAvailable, runInNamespace } from './netns.js';

interface Observed {
  text?: string;
  error?: string;
  hits: string[];
  dns: string[];
  tx: number;
  udp: number;
}
interface HarnessOutput {
  controlTx: number;
  controlUdp: number;
  allDns: string[];
  results: Record<string, Observed>;
}

const REFUSED = /is a private or special-purpose address; it is refused unless allowed/;

describe('browser attacks inside a network namespace of their own', () => {
  const hasNetns = netnsAvailable();
  let out: HarnessOutput;
  beforeAll(async () => {
    if (!hasNetns) return;
    out = await runInNamespace<HarnessOutput>(
      'packages/tools/test/attacks/browser-netns-harness.ts',
      170_000,
    );
  }, 180_000);

  it.skipIf(!hasNetns)('the counters see a packet sent off-box (positive control)', () => {
    expect(out.controlTx).toBeGreaterThan(0);
    expect(out.controlUdp).toBe(1);
  });

  const silent = (name: string) => {
    const r = out.results[name]!;
    expect(r, name).toBeDefined();
    expect(r.hits, `${name}: listener hits`).toEqual([]);
    expect(r.tx, `${name}: packets sent off-box`).toBe(0);
    expect(r.udp, `${name}: UDP datagrams`).toBe(0);
    return r;
  };

  it.skipIf(!hasNetns).each([
    ['webrtc-stun-private', 'STUN to a private address'],
    ['webrtc-stun-metadata', 'STUN to the metadata address'],
    ['webrtc-turn-udp', 'TURN over UDP to a private address'],
    ['webrtc-turn-tcp', 'TURN over TCP to a private address'],
    ['webrtc-offbox', 'STUN to an off-box address'],
    ['webrtc-host-candidates', 'host candidates (local IPs, mDNS)'],
    ['webrtc-iframe', 'a fresh RTCPeerConnection taken from a new iframe'],
    ['webrtc-saved-ctor', 'RTCPeerConnection dug out of the prototype chain'],
  ])('attack: WebRTC %s (%s) sends nothing', (name) => {
    const r = silent(name);
    expect(r.text).toContain('pc=undefined');
  });

  it.skipIf(!hasNetns)(
    'attack: WebRTC with the launch flags alone (no page script, no routing) sends no UDP',
    () => {
      const r = out.results['flags-only-webrtc']!;
      expect(r.hits).toEqual([]);
      expect(r.udp).toBe(0);
      expect(r.text).toBe('no candidates');
    },
  );

  it.skipIf(!hasNetns)('attack: WebTransport (QUIC) to a private address sends nothing', () => {
    expect(silent('webtransport').text).not.toContain('wt=made');
  });

  it.skipIf(!hasNetns).each([
    ['fetch-private', 'fetch() to a private address'],
    ['subresources-metadata', 'img, script, iframe and stylesheet on the metadata address'],
    ['preconnect-prefetch', 'preconnect, dns-prefetch, prefetch and prerender'],
    ['beacon', 'sendBeacon, a pixel and <a ping>'],
    ['service-worker', 'a service worker fetching a private address'],
  ])('attack: %s (%s) reaches nothing', (name) => {
    const r = silent(name);
    expect(r.dns).toEqual([]);
    expect(r.text ?? '').not.toContain('SECRET-INTERNAL');
    expect(r.text ?? '').not.toContain('sw=registered');
  });

  it.skipIf(!hasNetns)(
    'attack: Chromium resolves no name itself (prefetch hints, background features)',
    () => {
      expect(out.allDns.filter((n) => n !== 'rebind.test')).toEqual([]);
      const idle = out.results['idle-background']!;
      expect([idle.tx, idle.udp, idle.dns.length]).toEqual([0, 0, 0]);
    },
  );

  it.skipIf(!hasNetns).each([
    ['js-nav-private', 'script navigation to a private address'],
    ['meta-refresh-mapped', 'meta refresh to an IPv4-mapped private address'],
    ['js-nav-rebind', 'script navigation to a name that resolves to a private address'],
    ['form-post-metadata', 'auto-submitted form to the metadata token endpoint'],
    ['redirect-v4compat', 'redirect to IPv4-compatible [::169.254.169.254]'],
    ['redirect-6to4', 'redirect to 6to4 2002:a9fe:a9fe::1'],
    ['redirect-nat64', 'redirect to NAT64 64:ff9b::a9fe:a9fe'],
    ['redirect-teredo', 'redirect to a Teredo address'],
    ['redirect-private-v6', 'redirect to a unique-local IPv6 address'],
    ['redirect-decimal', 'redirect to http://2852039166/ (169.254.169.254)'],
    ['rebind-name', 'a name whose DNS answer is private'],
  ])('attack: %s (%s) is refused by the guard', (name) => {
    const r = silent(name);
    expect(r.error).toMatch(REFUSED);
  });

  it.skipIf(!hasNetns).each([['js-nav-allowed'], ['meta-refresh-allowed'], ['beacon']])(
    'a page that navigates by itself (%s) is followed to an allowed page',
    (name) => {
      expect(out.results[name]!.text).toContain('Landing text.');
    },
  );
});

describe('allow-list parsing', () => {
  it.each([
    '127.0.0.1/',
    '::1/',
    '[::1]/',
    '10.0.0.0/99',
    '10.0.0.0/abc',
    '::/129',
    '/8',
    '10.0.0.0/-1',
    '10.0.0.0/8/8',
    'http://127.0.0.1',
    '127.0.0.1:8080',
    '',
    '*.example.com',
    '1.2.3',
  ])("attack: allow-list entry '%s' is refused instead of widening the list", (entry) => {
    expect(() => parseAllowHosts([entry])).toThrow(AllowListError);
  });

  it('accepts names, addresses and CIDR ranges, and allows only what they cover', async () => {
    const { names, list } = parseAllowHosts([
      'intranet.example',
      '127.0.0.1',
      '[::1]',
      '10.1.0.0/16',
      'fd00::/8',
    ]);
    expect([...names]).toEqual(['intranet.example']);
    expect(list.check('10.1.200.3', 'ipv4')).toBe(true);
    expect(list.check('10.2.0.1', 'ipv4')).toBe(false);
    expect(list.check('::1', 'ipv6')).toBe(true);
    const guard = new AddressGuard({ allowHosts: ['127.0.0.1'] });
    await expect(guard.check(new URL('http://10.0.0.1/'))).rejects.toThrow(REFUSED);
  });

  async function cli(...args: string[]): Promise<number> {
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    return toolBrowserCommand.run(args, { stdout: sink, stderr: sink, stdin: new PassThrough() });
  }
  it.each([['127.0.0.1/'], ['::1/'], ['10.0.0.0/99'], ['10.0.0.0/abc']])(
    'attack: `tool browser open --allow-host %s` is a usage error (exit 2), not an open door',
    async (entry) => {
      const err = await cli('open', '--id', 'http://127.0.0.2:9/', '--allow-host', entry).catch((e) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(/^--allow-host: bad allowed host/);
      expect((err as Error).message).not.toContain('\n');
    },
  );
});

describe('IPv6 forms that embed IPv4 are checked as that IPv4', () => {
  it.each([
    ['::169.254.169.254', '169.254.169.254'],
    ['::a9fe:a9fe', '169.254.169.254'],
    ['::127.0.0.1', '127.0.0.1'],
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['::ffff:0:10.0.0.1', '10.0.0.1'],
    ['64:ff9b::169.254.169.254', '169.254.169.254'],
    ['2002:a9fe:a9fe::1', '169.254.169.254'],
    ['2002:7f00:1::', '127.0.0.1'],
    ['2002:c0a8:0101:1::5', '192.168.1.1'],
    ['2001:0:5db8:d822:0:0:f5ff:fffe', '10.0.0.1'],
  ])('attack: %s is refused as %s', (v6, v4) => {
    expect(embeddedIPv4(v6)).toContain(v4);
    expect(isSpecialAddress(v6)).toBe(true);
  });

  it.each([
    ['2002:5db8:d822::1'],
    ['2606:4700:4700::1111'],
    ['::ffff:93.184.216.34'],
    ['64:ff9b::5db8:d822'],
  ])('%s embeds a public address and stays allowed', (v6) => {
    expect(isSpecialAddress(v6)).toBe(false);
  });
});

describe('compression bombs', () => {
  const MiB = 1024 * 1024;
  let bodies: Record<string, { enc: string; body: Buffer; type: string }> = {};
  let server: Server;
  let base: string;
  let fetcher: ChromiumFetcher;
  beforeAll(async () => {
    const zeros = Buffer.alloc(200 * MiB);
    const page = Buffer.from('<html><body><p>ok</p><script src="/bomb.js"></script></body></html>');
    const gz = gzipSync(zeros, { level: 9 });
    const br = brotliCompressSync(zeros, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } });
    bodies = {
      '/gzip': { enc: 'gzip', body: gz, type: 'text/html' },
      '/deflate': { enc: 'deflate', body: deflateSync(zeros, { level: 9 }), type: 'text/html' },
      '/br': { enc: 'br', body: br, type: 'text/plain' },
      '/double': { enc: 'gzip, gzip', body: gzipSync(gz), type: 'text/html' },
      '/bomb.js': { enc: 'gzip', body: gz, type: 'text/javascript' },
      '/page': { enc: 'identity', body: page, type: 'text/html' },
    };
    server = createServer((req, res) => {
      const b = bodies[req.url ?? '']!;
      res.writeHead(200, { 'content-type': b.type, 'content-encoding': b.enc });
      res.end(b.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fetcher = new ChromiumFetcher({ allowHosts: ['127.0.0.1'], maxResponseBytes: 5 * MiB, prewarm: false });
    await fetcher.fetch('warm', `${base}/page`, new AbortController().signal);
  }, 60_000);
  afterAll(async () => {
    await fetcher?.dispose();
    server?.close();
  });

  it.each([
    ['/gzip', 'gzip, 200 MiB from ~200 KB'],
    ['/deflate', 'deflate, 200 MiB'],
    ['/br', 'brotli, 200 MiB'],
    ['/double', 'gzip inside gzip'],
  ])('attack: %s (%s) stops at the decoded budget without blocking the event loop', async (path) => {
    const before = process.memoryUsage().rss;
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const err = await fetcher.fetch(path, base + path, new AbortController().signal).catch((e: Error) => e);
    delay.disable();
    expect((err as Error).message).toBe(`the page is larger than the limit of ${5 * MiB} bytes`);
    // Inflating 200 MiB on the event loop blocks it for seconds; streamed decoding never for long.
    expect(delay.max / 1e6).toBeLessThan(1000);
    expect(process.memoryUsage().rss - before).toBeLessThan(150 * MiB);
  });

  it('attack: a bomb as a sub-resource is dropped and the page still reads', async () => {
    const p = await fetcher.fetch('sub', `${base}/page`, new AbortController().signal);
    expect(p.text).toContain('ok');
  });
});
