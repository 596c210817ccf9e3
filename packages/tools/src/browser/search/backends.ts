/**
 * Search backends: one small interface, one class per service, each built from the service's documented JSON.
 * Keys come from options or the environment; a missing key fails at construction with a message saying where
 * to put it. Backend endpoints are chosen by the operator, so they are not subject to the page address guard
 * (a self-hosted SearXNG usually lives on a private address).
 */
import type { PageContents, SearchHit } from '../text.js';

export interface SearchBackend {
  /** Backend name (`searxng`, `brave`, `exa`, `youcom`, `local`). */
  readonly name: string;
  /** What the namespace's `sources=` line says (`web` for web search: the text the model was trained on). */
  readonly source: string;
  search(query: string, topn: number, signal: AbortSignal): Promise<SearchHit[]>;
  /** A backend may serve pages itself (the local collection); `undefined` means "fetch it from the web". */
  page?(url: string): PageContents | undefined;
}

/** A search backend failed or is misconfigured; shown as ``Error during search for `…`: …``. */
export class BackendError extends Error {
  override name = 'BackendError';
}

type Env = Record<string, string | undefined>;

export interface BackendCommon {
  /** Override the API base URL (tests point this at a local fake). */
  baseUrl?: string;
  apiKey?: string;
  /** Defaults to `process.env`. */
  env?: Env;
  userAgent?: string;
}

async function getJson(
  backend: string,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; signal: AbortSignal },
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: {
        accept: 'application/json',
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      signal: init.signal,
    });
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new BackendError(`${backend} request failed: ${cause ?? (e as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) throw new BackendError(`${backend} error ${res.status}: ${text.slice(0, 500)}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new BackendError(`${backend} returned something that is not JSON: ${text.slice(0, 200)}`);
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();
const trimBase = (s: string) => s.replace(/\/+$/, '');

function hits(list: unknown[], snippet: (r: Record<string, unknown>) => string, topn: number): SearchHit[] {
  const out: SearchHit[] = [];
  for (const item of list) {
    const r = obj(item);
    const url = str(r.url);
    if (!url) continue;
    out.push({ title: oneLine(str(r.title)) || url, url, snippet: oneLine(snippet(r)) });
    if (out.length >= topn) break;
  }
  return out;
}

// ---- SearXNG: GET {base}/search?q=…&format=json → { results: [{ url, title, content }] } ----
export interface SearxngOptions extends BackendCommon {}

export class SearxngBackend implements SearchBackend {
  readonly name = 'searxng';
  readonly source = 'web';
  private readonly base: string;
  private readonly apiKey?: string;

  constructor(opts: SearxngOptions = {}) {
    const env = opts.env ?? process.env;
    const base = opts.baseUrl ?? env.SEARXNG_URL;
    if (!base) {
      throw new BackendError(
        'SearXNG URL not provided. Set SEARXNG_URL (e.g. http://localhost:8080) or pass searxng.baseUrl; the instance must have the json format enabled (search.formats in settings.yml).',
      );
    }
    this.base = trimBase(base);
    this.apiKey = opts.apiKey ?? env.SEARXNG_API_KEY;
  }

  async search(query: string, topn: number, signal: AbortSignal): Promise<SearchHit[]> {
    const url = `${this.base}/search?${new URLSearchParams({ q: query, format: 'json' })}`;
    const headers: Record<string, string> = this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
    const data = obj(await getJson('SearXNG', url, { headers, signal }));
    return hits(arr(data.results), (r) => str(r.content), topn);
  }
}

// ---- Brave: GET /res/v1/web/search?q=…&count=N, X-Subscription-Token → { web: { results: [{ title, url, description }] } } ----
export class BraveBackend implements SearchBackend {
  readonly name = 'brave';
  readonly source = 'web';
  private readonly base: string;
  private readonly key: string;

  constructor(opts: BackendCommon = {}) {
    const env = opts.env ?? process.env;
    const key = opts.apiKey ?? env.BRAVE_SEARCH_API_KEY ?? env.BRAVE_API_KEY;
    if (!key) {
      throw new BackendError(
        'Brave Search API key not provided. Set BRAVE_SEARCH_API_KEY or pass brave.apiKey (get one at https://brave.com/search/api/).',
      );
    }
    this.key = key;
    this.base = trimBase(opts.baseUrl ?? 'https://api.search.brave.com');
  }

  async search(query: string, topn: number, signal: AbortSignal): Promise<SearchHit[]> {
    const count = String(Math.min(Math.max(topn, 1), 20));
    const url = `${this.base}/res/v1/web/search?${new URLSearchParams({ q: query, count })}`;
    const data = obj(await getJson('Brave', url, { headers: { 'x-subscription-token': this.key }, signal }));
    return hits(arr(obj(data.web).results), (r) => str(r.description).replace(/<\/?strong>/g, ''), topn);
  }
}

// ---- Exa: POST /search { query, numResults, contents: { summary: true } }, x-api-key → { results: [{ title, url, summary }] } ----
export class ExaBackend implements SearchBackend {
  readonly name = 'exa';
  readonly source = 'web';
  private readonly base: string;
  private readonly key: string;

  constructor(opts: BackendCommon = {}) {
    const env = opts.env ?? process.env;
    const key = opts.apiKey ?? env.EXA_API_KEY;
    if (!key) throw new BackendError('Exa API key not provided. Set EXA_API_KEY or pass exa.apiKey.');
    this.key = key;
    this.base = trimBase(opts.baseUrl ?? 'https://api.exa.ai');
  }

  async search(query: string, topn: number, signal: AbortSignal): Promise<SearchHit[]> {
    const data = obj(
      await getJson('Exa', `${this.base}/search`, {
        method: 'POST',
        headers: { 'x-api-key': this.key },
        body: { query, numResults: topn, contents: { summary: true } },
        signal,
      }),
    );
    return hits(arr(data.results), (r) => str(r.summary) || str(r.text).slice(0, 300), topn);
  }
}

// ---- You.com: GET /v1/search?query=…&count=N, X-API-Key → { results: { web: [{ title, url, snippets[] }], news: [{ title, url, description }] } } ----
export class YouComBackend implements SearchBackend {
  readonly name = 'youcom';
  readonly source = 'web';
  private readonly base: string;
  private readonly key: string;

  constructor(opts: BackendCommon = {}) {
    const env = opts.env ?? process.env;
    const key = opts.apiKey ?? env.YDC_API_KEY;
    if (!key) {
      throw new BackendError(
        'You.com API key not provided. Set YDC_API_KEY or pass youcom.apiKey (get one at https://you.com/platform).',
      );
    }
    this.key = key;
    this.base = trimBase(opts.baseUrl ?? 'https://api.ydc-index.io');
  }

  async search(query: string, topn: number, signal: AbortSignal): Promise<SearchHit[]> {
    const url = `${this.base}/v1/search?${new URLSearchParams({ query, count: String(topn) })}`;
    const data = obj(await getJson('You.com', url, { headers: { 'x-api-key': this.key }, signal }));
    const results = obj(data.results);
    const web = hits(arr(results.web), (r) => arr(r.snippets).map(str).join(' ') || str(r.description), topn);
    const news = hits(arr(results.news), (r) => str(r.description), topn);
    return [...web, ...news].slice(0, topn);
  }
}
