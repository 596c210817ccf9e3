/**
 * Run by browser-net.test.ts inside its own network namespace (see netns.ts), never on the host's network.
 * Serves hostile pages from an allowed site on 127.0.0.1 and records, per scenario, every packet that reached a
 * listener on a private, metadata or off-box address, every DNS question, and v0's transmit counter. Prints one
 * JSON line.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, ChromiumFetcher } from '../../src/browser/index.js';
import { NS } from './netns.js';

const CHROMIUM = process.env.HARMONIA_CHROMIUM ?? '/usr/bin/chromium';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// /proc/net/dev is per network namespace (the host's /sys is not): transmit packets are the 10th number.
const txPackets = () => {
  const line = readFileSync('/proc/net/dev', 'utf8')
    .split('\n')
    .find((l) => l.trim().startsWith('v0:'));
  return Number(line?.split(':')[1]?.trim().split(/\s+/)[9] ?? Number.NaN);
};
/** UDP datagrams sent by anything in this namespace (IPv4 and IPv6), from the per-namespace SNMP counters. */
const udpOut = () => {
  const snmp = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  const names = snmp[0]!.split(/\s+/);
  const values = snmp[1]!.split(/\s+/);
  const v4 = Number(values[names.indexOf('OutDatagrams')]);
  const v6line = readFileSync('/proc/net/snmp6', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Udp6OutDatagrams'));
  return v4 + Number(v6line?.trim().split(/\s+/)[1] ?? 0);
};

// --- listeners on addresses the browser must never reach -------------------------------------------------------
const hits: string[] = [];
const servers: (Server | Socket)[] = [];
function http(host: string, port: number): Promise<void> {
  const s = createServer((req, res) => {
    hits.push(`tcp ${host}:${port} ${req.url}`);
    res.end('<html><body>SECRET-INTERNAL</body></html>');
  });
  servers.push(s);
  return new Promise((r) => s.listen(port, host, () => r()));
}
function udp(host: string, port: number): Promise<void> {
  const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  s.on('message', () => hits.push(`udp ${host}:${port}`));
  servers.push(s);
  return new Promise((r) => s.bind(port, host, () => r()));
}
const dnsNames: string[] = [];
function dns(): Promise<void> {
  // Answers every A question with the private address (a rebinding name server), and records the name.
  const s = createSocket('udp4');
  s.on('message', (msg, rinfo) => {
    let i = 12;
    const labels: string[] = [];
    while (i < msg.length && msg[i]! > 0) {
      labels.push(msg.subarray(i + 1, i + 1 + msg[i]!).toString());
      i += msg[i]! + 1;
    }
    const qtype = msg.readUInt16BE(i + 1);
    dnsNames.push(labels.join('.'));
    const question = msg.subarray(12, i + 5);
    const header = Buffer.from(msg.subarray(0, 12));
    header.writeUInt16BE(0x8180, 2);
    header.writeUInt16BE(qtype === 1 ? 1 : 0, 6);
    header.writeUInt16BE(0, 8);
    header.writeUInt16BE(0, 10);
    const answer =
      qtype === 1
        ? Buffer.concat([
            Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]),
            Buffer.from(NS.privateV4.split('.').map(Number)),
          ])
        : Buffer.alloc(0);
    s.send(Buffer.concat([header, question, answer]), rinfo.port, rinfo.address);
  });
  servers.push(s);
  return new Promise((r) => s.bind(53, NS.dns, () => r()));
}

await http(NS.privateV4, 80);
await http(NS.metadata, 80);
await http(NS.privateV6, 80).catch(() => {});
for (let p = 3478; p < 3500; p++) await udp(NS.privateV4, p);
await udp(NS.metadata, 3478);
await udp(NS.privateV4, 4433);
await dns();

// --- the allowed site: one hostile page per scenario -----------------------------------------------------------
const page = (body: string, head = '') =>
  `<!doctype html><html><head><meta charset="utf-8"><title>t</title>${head}</head><body>${body}</body></html>`;
const rtc = (servers: string, opts = '') => `
<p id="r">start</p>
<script>
(async () => {
  const out = document.getElementById('r');
  ${opts}
  const PC = (typeof pick === 'function' ? pick() : undefined) || window.RTCPeerConnection || window.webkitRTCPeerConnection;
  out.textContent = 'pc=' + typeof PC;
  if (typeof PC !== 'function') return;
  try {
    const pc = new PC({ iceServers: ${servers}, iceCandidatePoolSize: 2 });
    pc.createDataChannel('x');
    await pc.setLocalDescription(await pc.createOffer());
    out.textContent += ' offered';
  } catch (e) { out.textContent += ' threw ' + e.name; }
})();
</script>`;
const P = NS.privateV4;
const pages: Record<string, string> = {
  '/ok': page('<h1>Allowed target</h1><p>Landing text.</p>'),
  '/webrtc-stun-private': page(rtc(`[{ urls: 'stun:${P}:3478' }]`)),
  '/webrtc-stun-metadata': page(rtc(`[{ urls: 'stun:${NS.metadata}:3478' }]`)),
  '/webrtc-turn-udp': page(rtc(`[{ urls: 'turn:${P}:3479?transport=udp', username: 'u', credential: 'p' }]`)),
  '/webrtc-turn-tcp': page(rtc(`[{ urls: 'turn:${P}:3480?transport=tcp', username: 'u', credential: 'p' }]`)),
  '/webrtc-offbox': page(rtc(`[{ urls: 'stun:${NS.offBox}:3481' }]`)),
  '/webrtc-host-candidates': page(rtc('[]')),
  '/webrtc-iframe': page(
    rtc(
      `[{ urls: 'stun:${P}:3482' }]`,
      `const f = document.createElement('iframe'); document.body.appendChild(f);
       window.pick = () => f.contentWindow.RTCPeerConnection;`,
    ),
  ),
  '/webrtc-saved-ctor': page(
    rtc(
      `[{ urls: 'stun:${P}:3483' }]`,
      `window.pick = () => Object.getPrototypeOf(window).RTCPeerConnection ||
         (window.RTCPeerConnection && window.RTCPeerConnection.prototype && window.RTCPeerConnection.prototype.constructor);`,
    ),
  ),
  '/webtransport': page(`<p id="r">start</p><script>
    try { const t = new WebTransport('https://${P}:4433/x'); t.ready.catch(() => {}); document.getElementById('r').textContent = 'wt=made'; }
    catch (e) { document.getElementById('r').textContent = 'wt=' + e.name; }</script>`),
  '/fetch-private': page(`<p id="r">start</p><script>
    fetch('http://${P}/fetch').then(r => r.text()).then(t => document.getElementById('r').textContent = t, e => document.getElementById('r').textContent = 'blocked');
  </script>`),
  '/subresources-metadata': page(
    `<img src="http://${NS.metadata}/img"><script src="http://${NS.metadata}/script.js"></script>
     <iframe src="http://${NS.metadata}/latest/meta-data/"></iframe><link rel="stylesheet" href="http://${P}/css">`,
  ),
  '/preconnect-prefetch': page(
    '<p>prefetch</p>',
    `<link rel="preconnect" href="http://${NS.offBox}/"><link rel="dns-prefetch" href="//prefetch-only.test">
     <link rel="preconnect" href="http://preconnect-only.test/"><link rel="prefetch" href="http://${P}/prefetch">
     <script type="speculationrules">{"prerender":[{"source":"list","urls":["http://${P}/prerender"]}]}</script>`,
  ),
  '/beacon': page(`<script>navigator.sendBeacon('http://${P}/beacon', 'x');
    new Image().src = 'http://${NS.metadata}/pixel';</script><a ping="http://${P}/ping" href="/ok" id="a">x</a>
    <script>document.getElementById('a').click()</script>`),
  '/service-worker': page(`<p id="r">start</p><script>
    navigator.serviceWorker ? navigator.serviceWorker.register('/sw.js').then(() => r.textContent = 'sw=registered', e => r.textContent = 'sw=' + e.name) : (r.textContent = 'sw=none');
    var r = document.getElementById('r');</script>`),
  '/sw.js': `fetch('http://${P}/from-sw')`,
  '/js-nav-private': page(
    `<p>leaving</p><script>setTimeout(() => { location.href = 'http://${P}/js-nav'; }, 0)</script>`,
  ),
  '/js-nav-allowed': page(`<p>leaving</p><script>setTimeout(() => { location.href = '/ok'; }, 0)</script>`),
  '/meta-refresh-mapped': page(
    '<p>leaving</p>',
    `<meta http-equiv="refresh" content="0;url=http://[::ffff:${P}]/meta">`,
  ),
  '/meta-refresh-allowed': page('<p>leaving</p>', '<meta http-equiv="refresh" content="0;url=/ok">'),
  '/js-nav-rebind': page(
    `<p>leaving</p><script>setTimeout(() => { location.href = 'http://rebind.test/js'; }, 0)</script>`,
  ),
  '/form-post-metadata': page(
    `<form method="post" action="http://${NS.metadata}/latest/api/token" id="f"><input name="a" value="b"></form>
     <script>document.getElementById('f').submit()</script>`,
  ),
};
const redirects: Record<string, string> = {
  '/redirect-v4compat': `http://[::${NS.metadata}]/latest/meta-data/`,
  '/redirect-6to4': 'http://[2002:a9fe:a9fe::1]/latest/meta-data/',
  '/redirect-nat64': 'http://[64:ff9b::a9fe:a9fe]/latest/meta-data/',
  '/redirect-teredo': 'http://[2001:0:4136:e378:8000:63bf:f5b1:fefa]/',
  '/redirect-private-v6': `http://[${NS.privateV6}]/`,
  '/redirect-decimal': 'http://2852039166/latest/meta-data/',
};
const site = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0]!;
  const to = redirects[path];
  if (to) {
    res.writeHead(302, { location: to });
    res.end();
    return;
  }
  const body = pages[path];
  if (body === undefined) {
    res.writeHead(404);
    res.end();
    return;
  }
  res.writeHead(200, {
    'content-type': path.endsWith('.js') ? 'text/javascript' : 'text/html',
  });
  res.end(body);
});
await new Promise<void>((r) => site.listen(0, '127.0.0.1', () => r()));
const base = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;

// --- a positive control: the counters see a packet sent off-box ------------------------------------------------
const tx0 = txPackets();
const udp0 = udpOut();
const probe = createSocket('udp4');
await new Promise<void>((r) => probe.send('x', 9, NS.offBox, () => r()));
probe.close();
await sleep(300);
const controlTx = txPackets() - tx0;
const controlUdp = udpOut() - udp0;
// Let the link go quiet (anything the kernel still sends for the control or the link itself) before the
// scenarios start counting: the transmit counter must hold still for a full second, at most 6 s.
for (let last = txPackets(), still = 0, waited = 0; still < 1000 && waited < 6000; waited += 100) {
  await sleep(100);
  const now = txPackets();
  still = now === last ? still + 100 : 0;
  last = now;
}

// --- scenarios -------------------------------------------------------------------------------------------------
interface Observed {
  text?: string;
  error?: string;
  hits: string[];
  dns: string[];
  tx: number;
  /** UDP datagrams sent in the namespace during the scenario, DNS answers of our own responder excluded. */
  udp: number;
}
const results: Record<string, Observed> = {};
const fetcher = new ChromiumFetcher({ allowHosts: ['127.0.0.1'], navigationTimeoutMs: 5000 });
await fetcher.fetch('warm', `${base}/ok`, new AbortController().signal);
await sleep(500);

async function scenario(name: string, url: string, wait = 300): Promise<void> {
  const h = hits.length;
  const d = dnsNames.length;
  const tx = txPackets();
  const u = udpOut();
  const out: Observed = { hits: [], dns: [], tx: 0, udp: 0 };
  const t0 = Date.now();
  try {
    const p = await fetcher.fetch(name, url, AbortSignal.timeout(15_000));
    out.text = p.text;
  } catch (e) {
    out.error = (e as Error).message;
  }
  await sleep(wait);
  out.hits = hits.slice(h);
  out.dns = dnsNames.slice(d);
  out.tx = txPackets() - tx;
  // Node's own resolver (the guard) asks our responder, which answers: two datagrams per question.
  out.udp = udpOut() - u - 2 * out.dns.length;
  results[name] = { ...out, ms: Date.now() - t0 } as Observed;
  await fetcher.disposeConversation(name);
}

for (const path of Object.keys(pages)) {
  if (path === '/ok' || path === '/sw.js') continue;
  await scenario(path.slice(1), base + path, /nav|refresh|form/.test(path) ? 0 : 300);
}
for (const path of Object.keys(redirects)) await scenario(path.slice(1), base + path, 0);
await scenario('rebind-name', 'http://rebind.test/', 0);

// Idle background traffic of the browser itself (component updates, safe browsing, variations...).
{
  const tx = txPackets();
  const d = dnsNames.length;
  const u = udpOut();
  await sleep(2000);
  results['idle-background'] = { hits: [], dns: dnsNames.slice(d), tx: txPackets() - tx, udp: udpOut() - u };
}

// The launch flags alone (no page script removal, no request routing): WebRTC must still send no UDP.
{
  const h = hits.length;
  const tx = txPackets();
  const u = udpOut();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_FLAGS] });
  const ctx = await browser.newContext();
  const pg = await ctx.newPage();
  await pg.setContent(pages['/webrtc-stun-private']!.replace('3478', '3490'));
  await pg.evaluate(
    `(async () => { const pc = new RTCPeerConnection({ iceServers: [{ urls: 'stun:${P}:3491' }, { urls: 'stun:${NS.offBox}:3492' }] }); pc.createDataChannel('y'); await pc.setLocalDescription(await pc.createOffer()); })()`,
  );
  await sleep(1500);
  const text = await pg.evaluate(
    `(async () => { const pc = new RTCPeerConnection(); pc.createDataChannel('z'); await pc.setLocalDescription(await pc.createOffer()); await new Promise(r => setTimeout(r, 500)); return (pc.localDescription.sdp.match(/a=candidate.*/g) || []).join('|') || 'no candidates'; })()`,
  );
  await browser.close();
  results['flags-only-webrtc'] = {
    text: String(text),
    hits: hits.slice(h),
    dns: [],
    tx: txPackets() - tx,
    udp: udpOut() - u,
  };
}

await fetcher.dispose();
for (const s of servers) s.close();
site.close();
process.stdout.write(`${JSON.stringify({ controlTx, controlUdp, allDns: dnsNames, results })}\n`);
process.exit(0);
