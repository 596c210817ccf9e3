/**
 * The `browser` tool namespace: `browser.search`, `browser.open`, `browser.find` as gpt-oss was trained on them,
 * backed by a shared Chromium (one context per conversation) and a pluggable search backend.
 */
import {
  browserNamespace,
  decode,
  encodeText,
  type ToolContext,
  type ToolNamespace,
  type ToolNamespaceConfig,
  type ToolOutput,
} from '@harmonia/core';
import { type CursorPages, normalizeCitations, type UrlCitation } from './citations.js';
import { ChromiumFetcher, type ChromiumFetcherOptions } from './fetcher.js';
import {
  type BackendCommon,
  BackendError,
  BraveBackend,
  ExaBackend,
  type SearchBackend,
  SearxngBackend,
  YouComBackend,
} from './search/backends.js';
import { type LocalBackendOptions, LocalSearchBackend } from './search/local.js';
import { BrowserSession, BrowserUsageError, type SessionState, type ViewResult } from './session.js';
import type { PageContents } from './text.js';
import type { TextTokenizer } from './view.js';

export const SEARCH_BACKENDS = ['searxng', 'brave', 'exa', 'youcom', 'local'] as const;
export type SearchBackendName = (typeof SEARCH_BACKENDS)[number];

export interface BrowserToolOptions extends ChromiumFetcherOptions {
  /**
   * The search backend: an instance, or a name. Default: `$HARMONIA_SEARCH_BACKEND`, else `searxng`
   * (configured from `$SEARXNG_URL`). A named backend is built at once, so a missing key fails here.
   */
  searchBackend?: SearchBackend | SearchBackendName;
  searxng?: BackendCommon;
  brave?: BackendCommon;
  exa?: BackendCommon;
  youcom?: BackendCommon;
  local?: LocalBackendOptions;
  /** Time for one whole call, search or fetch included (default 30 s). */
  callTimeoutMs?: number;
  /** Most search results a call may ask for (default 20). */
  maxSearchResults?: number;
  /** The tokenizer that cuts the default view; default: Harmony's (o200k) from `@harmonia/core`. */
  tokenizer?: TextTokenizer;
  /** Share one Chromium between several tools (the tool then does not close it on `dispose`). */
  fetcher?: ChromiumFetcher;
}

/** Builds a named backend from options and the environment. */
export function createSearchBackend(name: string, opts: BrowserToolOptions = {}): SearchBackend {
  switch (name) {
    case 'searxng':
      return new SearxngBackend(opts.searxng);
    case 'brave':
      return new BraveBackend(opts.brave);
    case 'exa':
      return new ExaBackend(opts.exa);
    case 'youcom':
    case 'you':
      return new YouComBackend(opts.youcom);
    case 'local':
      if (!opts.local)
        throw new BackendError('the local search backend needs documents (options.local.documents)');
      return new LocalSearchBackend(opts.local);
    default:
      throw new BackendError(`unknown search backend '${name}' (known: ${SEARCH_BACKENDS.join(', ')})`);
  }
}

const coreTokenizer: TextTokenizer = { encode: encodeText, decode };

const WEB_SOURCES_LINE = 'sources=web (default: web)';

export interface BrowserTool extends ToolNamespace {
  /** The conversation's browsing state (created on first use). */
  session(conversationId: string): BrowserSession;
  /** Replaces a conversation's state (e.g. loaded from a file). */
  restore(conversationId: string, state: SessionState): void;
  /** Rewrites `【cursor†Lx-Ly】` citations in final text to links, using the conversation's page stack. */
  citations(conversationId: string, text: string): { text: string; citations: UrlCitation[] };
  /** Cursor → page lookup for `CitationStream`. */
  pages(conversationId: string): CursorPages;
  readonly fetcher: ChromiumFetcher;
  disposeConversation(conversationId: string): Promise<void>;
  dispose(): Promise<void>;
}

function jsonError(message: string): ToolOutput {
  // Spaced like Python's json.dumps, as the reference returns it.
  return { text: `{"error": ${JSON.stringify(message)}}`, meta: { error: true } };
}

type Args = Record<string, unknown>;

function parseArgs(raw: string): Args | undefined {
  if (raw.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(raw);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Args) : undefined;
  } catch {
    return undefined;
  }
}

const optNumber = (v: unknown): number | undefined => {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? Math.trunc(n) : Number.NaN;
};

export function createBrowserTool(options: BrowserToolOptions = {}): BrowserTool {
  const fetcher = options.fetcher ?? new ChromiumFetcher(options);
  const ownsFetcher = !options.fetcher;
  const tokenizer = options.tokenizer ?? coreTokenizer;
  const callTimeoutMs = options.callTimeoutMs ?? 30_000;

  let backend: SearchBackend | undefined;
  const named = options.searchBackend ?? process.env.HARMONIA_SEARCH_BACKEND;
  if (typeof named === 'object') backend = named;
  else if (typeof options.searchBackend === 'string')
    backend = createSearchBackend(options.searchBackend, options);
  const getBackend = (): SearchBackend => {
    backend ??= createSearchBackend(typeof named === 'string' ? named : 'searxng', options);
    return backend;
  };

  const sessions = new Map<string, BrowserSession>();
  const deps = (conversationId: string) => ({
    tokenizer,
    maxSearchResults: options.maxSearchResults,
    search: (q: string, topn: number, signal: AbortSignal) => getBackend().search(q, topn, signal),
    fetch: async (url: string, signal: AbortSignal): Promise<PageContents> => {
      const local = backend?.page?.(url);
      return local ?? fetcher.fetch(conversationId, url, signal);
    },
  });
  const session = (id: string): BrowserSession => {
    let s = sessions.get(id);
    if (!s) {
      s = new BrowserSession(deps(id));
      sessions.set(id, s);
    }
    return s;
  };

  const run = async (fn: string, args: Args, s: BrowserSession, signal: AbortSignal): Promise<ViewResult> => {
    switch (fn) {
      case 'search': {
        if (typeof args.query !== 'string') throw new BrowserUsageError('search needs `query` (a string).');
        return s.search({ query: args.query, topn: optNumber(args.topn) }, signal);
      }
      case 'open': {
        const id = args.id === undefined || args.id === null ? -1 : args.id;
        if (typeof id !== 'number' && typeof id !== 'string') {
          throw new BrowserUsageError('open: `id` must be a link id (number) or a URL (string).');
        }
        const nums = {
          cursor: optNumber(args.cursor),
          loc: optNumber(args.loc),
          num_lines: optNumber(args.num_lines),
        };
        for (const [k, v] of Object.entries(nums)) {
          if (Number.isNaN(v)) throw new BrowserUsageError(`open: \`${k}\` must be a number.`);
        }
        return s.open({ id, ...nums, view_source: args.view_source === true }, signal);
      }
      case 'find': {
        if (typeof args.pattern !== 'string') throw new BrowserUsageError('find needs `pattern` (a string).');
        const cursor = optNumber(args.cursor);
        if (Number.isNaN(cursor)) throw new BrowserUsageError('find: `cursor` must be a number.');
        return s.find({ pattern: args.pattern, cursor });
      }
      default:
        throw new Error(`unreachable: ${fn}`);
    }
  };

  const tool: BrowserTool = {
    name: 'browser',
    placement: 'system',
    // Pages are written by strangers: the runtime frames each answer as quoted data.
    untrusted: true,
    callTimeoutMs: callTimeoutMs + 5_000,
    fetcher,
    config(): ToolNamespaceConfig {
      const ns = browserNamespace();
      const source = backend?.source ?? 'web';
      if (source === 'web' || !ns.description) return ns;
      return { ...ns, description: ns.description.replace(WEB_SOURCES_LINE, `sources=${source}`) };
    },
    async call(fn: string | undefined, raw: string, ctx: ToolContext): Promise<ToolOutput> {
      const args = parseArgs(raw);
      if (!args) return jsonError('Invalid function arguments');
      if (fn !== 'search' && fn !== 'open' && fn !== 'find')
        return jsonError(`Unknown function: ${fn ?? ''}`);
      const s = session(ctx.conversationId);
      const timeout = AbortSignal.timeout(callTimeoutMs);
      const signal = AbortSignal.any([ctx.signal, timeout]);
      const t0 = performance.now();
      let onAbort = () => {};
      const deadline = new Promise<never>((_, reject) => {
        onAbort = () =>
          reject(
            new BrowserUsageError(
              timeout.aborted
                ? `The call took longer than ${callTimeoutMs} ms and was stopped.`
                : 'The call was cancelled.',
            ),
          );
      });
      deadline.catch(() => {});
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      try {
        const v = await Promise.race([run(fn, args, s, signal), deadline]);
        return {
          text: v.text,
          meta: {
            cursor: v.cursor,
            url: v.page.url,
            title: v.page.title,
            kind: v.page.kind,
            lines: [v.start, v.end - 1],
            ms: Math.round(performance.now() - t0),
          },
        };
      } catch (e) {
        if (e instanceof BrowserUsageError) return { text: e.message, meta: { error: true } };
        throw e;
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },
    session,
    restore(conversationId, state) {
      sessions.set(conversationId, BrowserSession.fromState(state, deps(conversationId)));
    },
    citations(conversationId, text) {
      return normalizeCitations(text, sessions.get(conversationId)?.stack ?? []);
    },
    pages(conversationId) {
      return (c) => sessions.get(conversationId)?.stack[c];
    },
    async disposeConversation(conversationId) {
      sessions.delete(conversationId);
      await fetcher.disposeConversation(conversationId);
    },
    async dispose() {
      sessions.clear();
      if (ownsFetcher) await fetcher.dispose();
    },
  };
  return tool;
}
