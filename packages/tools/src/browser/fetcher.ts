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
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
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

const REQUIRED_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--mute-audio',
  // Chromium itself never needs DNS or a direct connection: every request is fulfilled by us. Anything that
  // slips past interception (a protocol Playwright cannot route) finds no resolver and a dead proxy.
  '--host-resolver-rules=MAP * ~NOTFOUND',
  '--proxy-server=http://127.0.0.1:9',
  '--proxy-bypass-list=<-loopback>',
];

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

function decodeBody(body: Buffer, encoding: string | undefined): Buffer {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(body);
    case 'deflate':
      return inflateSync(body);
    case 'br':
      return brotliDecompressSync(body);
    default:
      return body;
  }
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
      const executablePath =
        this.options.executablePath ?? process.env.HARMONIA_CHROMIUM ?? '/usr/bin/chromium';
      const launching = chromium
        .launch({ executablePath, args: [...REQUIRED_FLAGS, ...(this.options.args ?? [])] })
        .catch((e: unknown) => {
          this.browser = undefined;
          throw new FetchError(
            `could not start Chromium at ${executablePath} (${(e as Error).message.split('\n')[0]}); install it (apt-get install chromium) or set executablePath / HARMONIA_CHROMIUM`,
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
    const state: CallState = { page, signal, bytes: 0, inflight: 0 };
    conv.call = state;
    const onAbort = () => void page.close().catch(() => {});
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      // Each redirect hop of the page is a navigation of its own, so each is checked before any connection.
      for (let hop = 0; ; hop++) {
        if (hop > 0) {
          try {
            await this.guard.check(target);
          } catch (e) {
            throw new FetchError((e as Error).message);
          }
        }
        state.redirect = undefined;
        state.error = undefined;
        state.captured = undefined;
        state.status = undefined;
        state.finalUrl = target.href;
        await this.navigate(page, target, state);
        if (state.error) throw new FetchError(state.error);
        if (state.redirect === undefined) break;
        if (hop >= MAX_REDIRECTS) throw new FetchError(`more than ${MAX_REDIRECTS} redirects`);
        try {
          target = new URL(state.redirect, target);
        } catch {
          throw new FetchError(`bad redirect location: ${state.redirect}`);
        }
      }
      const status = state.status ?? 200;
      if (status >= 400)
        throw new FetchError(`HTTP ${status}${STATUS_TEXT[status] ? ` ${STATUS_TEXT[status]}` : ''}`);
      if (state.captured) return await this.nonHtml(state.captured);
      await this.settle(state);
      const dom = (await page.evaluate(EXTRACT_DOM)) as { html: string; base: string; title: string };
      return htmlToPage(dom.html, { url: page.url(), baseUrl: dom.base, title: dom.title });
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

  private async navigate(page: Page, target: URL, state: CallState): Promise<void> {
    try {
      await page.goto(target.href, { waitUntil: 'load', timeout: this.limits.navigationTimeoutMs });
    } catch (e) {
      if (state.error) return;
      if (state.signal.aborted) throw new FetchError('the call was cancelled or ran out of time');
      const msg = (e as Error).message.split('\n')[0] ?? String(e);
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
          res.on('data', (c: Buffer) => {
            size += c.length;
            state.bytes += c.length;
            if (size > this.limits.maxResponseBytes || state.bytes > this.limits.maxTotalBytes) {
              res.destroy();
              req.destroy();
              resolve({ status: 0, headers: {}, body: Buffer.alloc(0), tooBig: true });
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => {
            try {
              resolve({
                status: res.statusCode ?? 502,
                headers: res.headers,
                body: decodeBody(Buffer.concat(chunks), res.headers['content-encoding']),
              });
            } catch (e) {
              reject(e);
            }
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
