/**
 * Fetching pages with Playwright driving Chromium. One browser process is shared by every conversation; each
 * conversation gets its own browser context (cookies, storage) and one tab, closed when the conversation ends.
 *
 * Chromium never touches the network itself: every request it makes is intercepted, its host resolved and
 * checked by the `AddressGuard`, and then fetched by Node from exactly the checked address and handed back to
 * Chromium (`route.fulfill`). Redirects go back to Chromium as redirects, so each hop comes through here and
 * is checked again before any connection. Images, media and fonts are not fetched at all (the model reads
 * text; `alt` texts stay in the DOM). WebSockets are refused.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpRequest, STATUS_CODES as STATUS_TEXT } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Page,
  type Request,
  type Route,
} from 'playwright-core';
import { AddressGuard, type AddressPolicy, BlockedAddressError, type ResolvedAddress } from './address.js';
import { pdfToText } from './pdf.js';
import { htmlToPage, type PageContents, textToPage } from './text.js';

export interface FetcherLimits {
  /** Largest body of any single response, in bytes (default 5 MiB). */
  maxResponseBytes?: number;
  /** Most bytes fetched for one page with all its resources (default 20 MiB). */
  maxTotalBytes?: number;
  /** Time for the page to load (default 15 s). */
  navigationTimeoutMs?: number;
  /** After `load`, how long to wait at most for the page's own requests (XHR, fetch) to finish (default 1 s). */
  settleMs?: number;
}

export interface ChromiumFetcherOptions extends AddressPolicy, FetcherLimits {
  /** Chromium binary (default `$HARMONIA_CHROMIUM` or Debian's `/usr/bin/chromium`). */
  executablePath?: string;
  /**
   * Attach to a Chromium running elsewhere instead of launching one (default `$HARMONIA_BROWSER_ENDPOINT`):
   * a Playwright browser server (`ws://…`, from `launchServer`) or a DevTools endpoint (`http://…:9222`). Start
   * it with `CHROMIUM_FLAGS`: the flags that keep Chromium from opening sockets of its own are the remote's job.
   * Every page request still goes through this process's address policy (routing is per context).
   */
  endpoint?: string;
  /** Extra Chromium flags. */
  args?: readonly string[];
  userAgent?: string;
  /** Keep one conversation context ready ahead of time (default true): a new conversation then costs ~0 ms. */
  prewarm?: boolean;
}

/** A page could not be fetched; the message goes to the model as ``Error fetching URL `…`: …``. */
export class FetchError extends Error {
  override name = 'FetchError';
}

/**
 * Chromium must open no socket of its own. Every request it makes is intercepted (route), so what is left is
 * traffic the network stack or a feature starts by itself; each is closed here:
 * - TCP of any kind (preconnect, prefetch, pings, beacons that slip past routing, DoH): a dead proxy on
 *   127.0.0.1:9 for every host, loopback included (`<-loopback>`), and no host name resolves (no DNS, no prefetch).
 * - UDP: WebRTC may only use proxied transports (`disable_non_proxied_udp`: no host, STUN or TURN-over-UDP
 *   candidates, no mDNS); QUIC and HTTP/3 (and WebTransport over them) are off; Playwright disables the media
 *   router (DIAL/SSDP discovery).
 * - Background features: background networking (variations, GCM, safe browsing and component updates),
 *   component updates, sync, extensions and component extensions, domain reliability, hyperlink pings, crash
 *   uploads. Service workers are blocked per context.
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-component-extensions-with-background-pages',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-domain-reliability',
  '--disable-breakpad',
  '--no-pings',
  '--mute-audio',
  '--webrtc-ip-handling-policy=disable_non_proxied_udp',
  '--host-resolver-rules=MAP * ~NOTFOUND',
  '--proxy-server=http://127.0.0.1:9',
  '--proxy-bypass-list=<-loopback>',
];

/**
 * Runs before any page script in every frame: the APIs that open connections the request interception cannot see
 * (peer-to-peer UDP, QUIC) are gone. The launch flags already keep their packets in; this keeps pages from trying.
 */
const REMOVE_SOCKET_APIS = `(() => {
  for (const name of ['RTCPeerConnection', 'webkitRTCPeerConnection', 'RTCDataChannel', 'RTCIceCandidate',
    'RTCSessionDescription', 'RTCRtpSender', 'RTCRtpReceiver', 'RTCRtpTransceiver', 'RTCIceTransport',
    'RTCDtlsTransport', 'RTCSctpTransport', 'RTCCertificate', 'WebTransport']) {
    try { Object.defineProperty(globalThis, name, { value: undefined, writable: false, configurable: false }); } catch {}
  }
  for (const name of ['mediaDevices', 'serviceWorker']) {
    try { Object.defineProperty(navigator, name, { value: undefined, configurable: false }); } catch {}
  }
})();`;

// Runs in the page: drops what a reader would not see (display:none, visibility:hidden), then returns the DOM.
const EXTRACT_DOM = `(() => {
  const hidden = [];
  for (const el of document.body ? document.body.querySelectorAll('*') : []) {
    if (typeof el.checkVisibility === 'function' && !el.checkVisibility({ visibilityProperty: true })) {
      const tag = el.tagName;
      if (tag !== 'BR' && tag !== 'WBR' && tag !== 'OPTION') hidden.push(el);
    }
  }
  for (const el of hidden) el.remove();
  return { html: document.documentElement.outerHTML, base: document.baseURI, title: document.title };
})()`;

interface CallState {
  page: Page;
  signal: AbortSignal;
  bytes: number;
  inflight: number;
  /** Why the main document failed (blocked, too big, ...). */
  error?: string;
  /** A main document that is not HTML (PDF, plain text): read by us, not rendered. */
  captured?: { url: string; contentType: string; body: Buffer; status: number };
  status?: number;
  /** Where the main document redirected to (followed by `load` as a new, checked navigation). */
  redirect?: string;
  finalUrl?: string;
  /** Main-document requests seen, and how many of them had committed at the last main-frame commit. */
  navigations: number;
  committed: number;
}

interface Fetched {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  tooBig?: boolean;
}

const MAX_REDIRECTS = 10;

interface Conversation {
  context: BrowserContext;
  page?: Page;
  call?: CallState;
  /** Calls of one conversation run one at a time. */
  queue: Promise<unknown>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'content-encoding',
  'upgrade',
  'proxy-connection',
  'te',
  'trailer',
  'host',
  'accept-encoding',
]);

const SKIPPED_RESOURCES = new Set(['image', 'media', 'font']);

function isMainDocument(request: Request, page: Page): boolean {
  try {
    return request.isNavigationRequest() && request.frame() === page.mainFrame();
  } catch {
    return false;
  }
}

/**
 * Answers a main-document request with an empty page. Used instead of aborting it (an aborted navigation
 * leaves Chromium committing an error page that would interrupt the next navigation of the tab).
 */
function blank(route: Route): Promise<void> {
  return route.fulfill({ status: 200, contentType: 'text/html', body: '' });
}

/**
 * The decoded body stream for a `content-encoding` list (applied in order, so decoded last to first). Decoding runs
 * in zlib's thread pool, chunk by chunk, so the caller can count decoded bytes and stop a compression bomb at its
 * budget instead of inflating it whole on the event loop. Unknown codings pass the bytes through untouched.
 */
function decoded(res: Readable, encoding: string | undefined): { body: Readable; decoders: Readable[] } {
  const decoders: Readable[] = [];
  let body = res;
  const codings = (encoding ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter(Boolean)
    .reverse();
  for (const coding of codings) {
    const d =
      coding === 'gzip' || coding === 'x-gzip'
        ? createGunzip()
        : coding === 'deflate'
          ? createInflate()
          : coding === 'br'
            ? createBrotliDecompress()
            : undefined;
    if (!d) continue;
    body.pipe(d);
    body.on('error', (e) => d.destroy(e));
    body = d;
    decoders.push(d);
  }
  return { body, decoders };
}

function responseHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP_BY_HOP.has(k)) continue;
    out[k] = Array.isArray(v) ? v.join(k === 'set-cookie' ? '\n' : ', ') : v;
  }
  return out;
}

export class ChromiumFetcher {
  private browser?: Promise<Browser>;
  private spare?: Promise<Conversation>;
  private readonly prewarm: boolean;
  private readonly conversations = new Map<string, Promise<Conversation>>();
  private readonly guard: AddressGuard;
  private readonly limits: Required<FetcherLimits>;

  constructor(private readonly options: ChromiumFetcherOptions = {}) {
    this.guard = new AddressGuard(options);
    this.prewarm = options.prewarm ?? true;
    this.limits = {
      maxResponseBytes: options.maxResponseBytes ?? 5 * 1024 * 1024,
      maxTotalBytes: options.maxTotalBytes ?? 20 * 1024 * 1024,
      navigationTimeoutMs: options.navigationTimeoutMs ?? 15_000,
      settleMs: options.settleMs ?? 1_000,
    };
  }

  /** The shared browser, launched on first use (and again if it died). */
  browserInstance(): Promise<Browser> {
    if (!this.browser) {
      const endpoint = this.options.endpoint ?? (process.env.HARMONIA_BROWSER_ENDPOINT || undefined);
      const executablePath =
        this.options.executablePath ?? process.env.HARMONIA_CHROMIUM ?? '/usr/bin/chromium';
      const launching = (
        endpoint
          ? /^wss?:\/\//.test(endpoint)
            ? chromium.connect(endpoint)
            : chromium.connectOverCDP(endpoint)
          : chromium.launch({ executablePath, args: [...CHROMIUM_FLAGS, ...(this.options.args ?? [])] })
      ).catch((e: unknown) => {
        this.browser = undefined;
        const why = (e as Error).message.split('\n')[0];
        throw new FetchError(
          endpoint
            ? `could not attach to the Chromium at ${endpoint} (${why}); start it (e.g. Playwright's launchServer, or chromium --remote-debugging-port) or unset HARMONIA_BROWSER_ENDPOINT`
            : `could not start Chromium at ${executablePath} (${why}); install it (apt-get install chromium) or set executablePath / HARMONIA_CHROMIUM`,
        );
      });
      launching
        .then((b) =>
          b.on('disconnected', () => {
            this.browser = undefined;
            this.spare = undefined;
          }),
        )
        .catch(() => {});
      this.browser = launching;
    }
    return this.browser;
  }

  /** Creates (or returns) the conversation's context. Exposed so callers can warm it up. */
  conversation(id: string): Promise<Conversation> {
    let conv = this.conversations.get(id);
    if (!conv) {
      conv = this.spare ?? this.newConversation();
      this.spare = undefined;
      conv.catch(() => this.conversations.delete(id));
      this.conversations.set(id, conv);
    }
    return conv;
  }

  private async newConversation(): Promise<Conversation> {
    const browser = await this.browserInstance();
    const context = await browser.newContext({
      acceptDownloads: false,
      serviceWorkers: 'block',
      permissions: [],
      userAgent: this.options.userAgent,
      javaScriptEnabled: true,
    });
    await context.addInitScript({ content: REMOVE_SOCKET_APIS });
    const conv: Conversation = { context, queue: Promise.resolve() };
    await context.route('**/*', (route, request) => this.handle(conv, route, request));
    await context.routeWebSocket(/.*/, (ws) => ws.close({ code: 1008, reason: 'WebSockets are blocked' }));
    await this.tab(conv);
    return conv;
  }

  /**
   * Keeps one context (with its routing and tab) made ahead of time, so a new conversation starts at once.
   * It is made after a call finishes, never during one, to keep the two cores for the page being read.
   */
  private refillSpare(): void {
    if (this.spare || !this.prewarm || !this.browser) return;
    const spare = this.newConversation();
    spare.catch(() => {
      if (this.spare === spare) this.spare = undefined;
    });
    this.spare = spare;
  }

  private async tab(conv: Conversation): Promise<Page> {
    if (conv.page && !conv.page.isClosed()) return conv.page;
    const page = await conv.context.newPage();
    page.on('dialog', (d) => void d.dismiss().catch(() => {}));
    page.on('popup', (p) => void p.close().catch(() => {}));
    page.on('download', (d) => void d.cancel().catch(() => {}));
    page.on('framenavigated', (frame) => {
      const call = conv.call;
      if (call?.page === page && frame === page.mainFrame()) call.committed = call.navigations;
    });
    conv.page = page;
    return page;
  }

  /** Fetches and renders `url` in the conversation's context. */
  fetch(conversationId: string, url: string, signal: AbortSignal): Promise<PageContents> {
    const run = async () => {
      // Refuse before a browser or context is even started.
      try {
        await this.guard.check(new URL(url));
      } catch (e) {
        throw new FetchError(e instanceof TypeError ? 'not a valid URL' : (e as Error).message);
      }
      let conv = await this.conversation(conversationId);
      if (!conv.context.browser()?.isConnected()) {
        // Chromium went away (crash, OOM kill): start this conversation over in a new browser.
        this.conversations.delete(conversationId);
        conv = await this.conversation(conversationId);
      }
      const result = conv.queue.then(() => this.load(conv, url, signal));
      conv.queue = result.catch(() => {});
      return result.finally(() => this.refillSpare());
    };
    return run();
  }

  private async load(conv: Conversation, url: string, signal: AbortSignal): Promise<PageContents> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new FetchError('not a valid URL');
    }
    const page = await this.tab(conv);
    const state: CallState = { page, signal, bytes: 0, inflight: 0, navigations: 0, committed: 0 };
    conv.call = state;
    const onAbort = () => void page.close().catch(() => {});
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      // Each redirect hop of the page is a navigation of its own, so each is checked before any connection. A page
      // that navigates by itself after loading (script, meta refresh) is followed too: its requests come through
      // the same interception and guard, and its redirects come back here as hops.
      let selfNavigations = 0;
      for (let hop = 0; ; hop++) {
        if (hop > 0) {
          try {
            await this.guard.check(target);
          } catch (e) {
            throw new FetchError((e as Error).message);
          }
        }
        this.resetDocument(state, target);
        await this.navigate(page, target, state);
        for (;;) {
          await this.loaded(page, state);
          if (state.error) throw new FetchError(state.error);
          if (state.redirect !== undefined) break;
          const status = state.status ?? 200;
          if (status >= 400)
            throw new FetchError(`HTTP ${status}${STATUS_TEXT[status] ? ` ${STATUS_TEXT[status]}` : ''}`);
          if (state.captured) return await this.nonHtml(state.captured);
          await this.settle(state);
          const seen = state.navigations;
          const dom = await this.readDom(page, state);
          const settled = state.error === undefined && state.redirect === undefined && !state.captured;
          if (dom && state.navigations === seen && settled) {
            return htmlToPage(dom.html, { url: page.url(), baseUrl: dom.base, title: dom.title });
          }
          if (++selfNavigations > MAX_REDIRECTS) {
            throw new FetchError(`the page navigated by itself more than ${MAX_REDIRECTS} times`);
          }
        }
        if (hop >= MAX_REDIRECTS) throw new FetchError(`more than ${MAX_REDIRECTS} redirects`);
        try {
          target = new URL(state.redirect, state.finalUrl ?? target);
        } catch {
          throw new FetchError(`bad redirect location: ${state.redirect}`);
        }
      }
    } catch (e) {
      // After a failure the tab may still be loading or showing an error page: start the next call afresh.
      if (conv.page === page) conv.page = undefined;
      void page.close().catch(() => {});
      throw e;
    } finally {
      signal.removeEventListener('abort', onAbort);
      conv.call = undefined;
    }
  }

  private resetDocument(state: CallState, target: URL): void {
    state.redirect = undefined;
    state.error = undefined;
    state.captured = undefined;
    state.status = undefined;
    state.finalUrl = target.href;
  }

  /** The rendered DOM, or undefined when the page navigated away while it was being read. */
  private async readDom(
    page: Page,
    state: CallState,
  ): Promise<{ html: string; base: string; title: string } | undefined> {
    try {
      return (await page.evaluate(EXTRACT_DOM)) as { html: string; base: string; title: string };
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0] ?? String(e);
      if (state.signal.aborted) throw new FetchError('the call was cancelled or ran out of time');
      if (/context was destroyed|navigat/i.test(msg)) return undefined;
      throw new FetchError(msg.replace(/^page\.evaluate: /, ''));
    }
  }

  /**
   * Waits until the newest main-document navigation has committed and its document has loaded (or the call
   * learned that it failed, redirected or is not HTML), within the navigation timeout.
   */
  private async loaded(page: Page, state: CallState): Promise<void> {
    const deadline = Date.now() + this.limits.navigationTimeoutMs;
    const late = () => new FetchError(`the page did not load within ${this.limits.navigationTimeoutMs} ms`);
    const decided = () => state.error !== undefined || state.redirect !== undefined || !!state.captured;
    while (state.committed < state.navigations && !decided()) {
      if (state.signal.aborted) throw new FetchError('the call was cancelled or ran out of time');
      if (Date.now() > deadline) throw late();
      await new Promise((r) => setTimeout(r, 10));
    }
    if (decided()) return;
    try {
      await page.waitForLoadState('load', { timeout: Math.max(1, deadline - Date.now()) });
    } catch (e) {
      if (state.signal.aborted) throw new FetchError('the call was cancelled or ran out of time');
      if (/Timeout .* exceeded/.test((e as Error).message)) throw late();
      // The document went away while loading (a newer navigation): the read loop looks again.
    }
  }

  private async navigate(page: Page, target: URL, state: CallState): Promise<void> {
    try {
      // Only to the commit: the read loop then waits for the load of whatever document is current, so a page that
      // navigates again before or after its load (script, meta refresh) is followed rather than failed.
      await page.goto(target.href, { waitUntil: 'commit', timeout: this.limits.navigationTimeoutMs });
    } catch (e) {
      if (state.error) return;
      if (state.signal.aborted) throw new FetchError('the call was cancelled or ran out of time');
      const msg = (e as Error).message.split('\n')[0] ?? String(e);
      if (/interrupted by another navigation|navigation to .* is interrupted/i.test(msg)) return;
      if (/Timeout .* exceeded/.test(msg)) {
        throw new FetchError(`the page did not load within ${this.limits.navigationTimeoutMs} ms`);
      }
      if (/Download is starting/.test(msg))
        throw new FetchError('the URL is a download; downloads are blocked');
      throw new FetchError(msg.replace(/^page\.goto: /, ''));
    }
  }

  /** Waits (up to `settleMs`) until the page's own requests are done, so JS-rendered content is in. */
  private async settle(state: CallState): Promise<void> {
    const deadline = Date.now() + this.limits.settleMs;
    let quiet = 0;
    while (Date.now() < deadline && quiet < 2) {
      quiet = state.inflight === 0 ? quiet + 1 : 0;
      if (quiet < 2) await new Promise((r) => setTimeout(r, 15));
    }
  }

  private async nonHtml(c: NonNullable<CallState['captured']>): Promise<PageContents> {
    if (/application\/pdf/i.test(c.contentType) || c.body.subarray(0, 5).toString('latin1') === '%PDF-') {
      try {
        const pdf = await pdfToText(c.body);
        return textToPage(pdf.text, { url: c.url, title: pdf.title, kind: 'pdf' });
      } catch (e) {
        throw new FetchError(`could not read the PDF: ${(e as Error).message}`);
      }
    }
    return textToPage(c.body.toString('utf8'), { url: c.url, kind: 'text' });
  }

  /** The interception: check, fetch from the checked address, hand back to Chromium. */
  private async handle(conv: Conversation, route: Route, request: Request): Promise<void> {
    const state = conv.call;
    if (!state || state.signal.aborted) return route.abort('aborted').catch(() => {});
    let ours = false;
    try {
      ours = request.frame().page() === state.page;
    } catch {
      ours = false;
    }
    if (!ours) return route.abort('blockedbyclient').catch(() => {}); // popups, workers
    const main = isMainDocument(request, state.page);
    if (main) state.navigations++;
    if (!main && SKIPPED_RESOURCES.has(request.resourceType())) {
      return route.abort('blockedbyclient').catch(() => {});
    }
    state.inflight++;
    try {
      let url = new URL(request.url());
      let method = request.method();
      let body = request.postDataBuffer();
      const reqHeaders = await request.allHeaders();
      let res: Fetched | undefined;
      // Sub-resource redirects are followed here, each hop checked; the page's own go back through `load`.
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        let address: ResolvedAddress;
        try {
          address = await this.guard.check(url);
        } catch (e) {
          if (main)
            state.error = e instanceof BlockedAddressError ? e.message : `could not resolve ${url.hostname}`;
          return await (main ? blank(route) : route.abort('addressunreachable'));
        }
        res = await this.send(url, method, reqHeaders, body, address, state);
        const location = res.headers.location;
        if (res.tooBig || !(res.status >= 300 && res.status < 400 && location)) break;
        if (main) {
          state.redirect = location;
          return await blank(route);
        }
        url = new URL(location, url);
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
          method = 'GET';
          body = null;
        }
      }
      if (!res || res.tooBig) {
        if (main) state.error = `the page is larger than the limit of ${this.limits.maxResponseBytes} bytes`;
        return await (main ? blank(route) : route.abort('blockedbyclient'));
      }
      const headers = responseHeaders(res.headers);
      const contentType = headers['content-type'] ?? '';
      if (main) {
        state.status = res.status;
        state.finalUrl = url.href;
        if (!/html|xml/i.test(contentType)) {
          if (/attachment/i.test(headers['content-disposition'] ?? '') && !/pdf|text\//i.test(contentType)) {
            state.error = 'the URL is a download; downloads are blocked';
            return await blank(route);
          }
          state.captured = { url: url.href, contentType, body: res.body, status: res.status };
          return await blank(route);
        }
      }
      delete headers['content-disposition'];
      delete headers.location;
      return await route.fulfill({ status: res.status, headers, body: res.body });
    } catch (e) {
      if (main && !state.error) state.error = (e as Error).message;
      return (main ? blank(route) : route.abort('failed')).catch(() => {});
    } finally {
      state.inflight--;
    }
  }

  /** One HTTP exchange with the checked address, the body capped at the limits. */
  private send(
    url: URL,
    method: string,
    reqHeaders: Record<string, string>,
    body: Buffer | null,
    address: ResolvedAddress,
    state: CallState,
  ): Promise<Fetched> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(reqHeaders)) {
        if (!k.startsWith(':') && !HOP_BY_HOP.has(k)) headers[k] = v;
      }
      headers['accept-encoding'] = 'gzip, deflate, br';
      // Connect to the address we checked, whatever DNS says now.
      const pinned: LookupFunction = (_host, opts, cb) => {
        if ((opts as { all?: boolean }).all) {
          (cb as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [address]);
        } else cb(null, address.address, address.family);
      };
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
        url,
        { method, headers, lookup: pinned, signal: state.signal },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          const { body: stream, decoders } = decoded(res, res.headers['content-encoding']);
          const stop = () => {
            for (const d of decoders) d.destroy();
            res.destroy();
            req.destroy();
          };
          // Both limits count decoded bytes: a small compressed body cannot grow past them.
          stream.on('data', (c: Buffer) => {
            size += c.length;
            state.bytes += c.length;
            if (size > this.limits.maxResponseBytes || state.bytes > this.limits.maxTotalBytes) {
              stop();
              resolve({ status: 0, headers: {}, body: Buffer.alloc(0), tooBig: true });
              return;
            }
            chunks.push(c);
          });
          stream.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          stream.on('error', (e) => {
            stop();
            reject(
              new Error(`could not decode the response (${res.headers['content-encoding']}): ${e.message}`),
            );
          });
          res.on('error', reject);
        },
      );
      const timer = setTimeout(
        () => req.destroy(new Error(`no response within ${this.limits.navigationTimeoutMs} ms`)),
        this.limits.navigationTimeoutMs,
      );
      req.on('close', () => clearTimeout(timer));
      req.on('error', reject);
      req.end(body ?? undefined);
    });
  }

  /** Closes the conversation's context (its cookies, storage and tab). */
  async disposeConversation(id: string): Promise<void> {
    const conv = this.conversations.get(id);
    this.conversations.delete(id);
    if (!conv) return;
    try {
      await (await conv).context.close();
    } catch {
      // already gone with the browser
    }
  }

  /** Closes every context and the shared browser. */
  async dispose(): Promise<void> {
    const ids = [...this.conversations.keys()];
    await Promise.all(ids.map((id) => this.disposeConversation(id)));
    const spare = this.spare;
    this.spare = undefined;
    await (await spare?.catch(() => undefined))?.context.close().catch(() => {});
    const b = this.browser;
    this.browser = undefined;
    if (b) await (await b.catch(() => undefined))?.close();
  }
}
