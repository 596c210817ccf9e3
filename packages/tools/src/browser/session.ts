/**
 * One conversation's browsing state and the three functions the model calls, with the reference's semantics:
 * every successful call pushes a page (a scroll too), the cursor is the page's index in the stack, and errors
 * come back as the reference's texts.
 */

import type { PageContents, SearchHit } from './text.js';
import { searchResultsPage } from './text.js';
import { findInPage, InvalidLocationError, renderView, type TextTokenizer } from './view.js';

/** An error the model caused and can fix; its message is the tool message text. */
export class BrowserUsageError extends Error {
  override name = 'BrowserUsageError';
}

export interface SessionDeps {
  search(query: string, topn: number, signal: AbortSignal): Promise<SearchHit[]>;
  fetch(url: string, signal: AbortSignal): Promise<PageContents>;
  tokenizer: TextTokenizer;
  /** Most results a search may ask for (default 20, the reference's `max_search_results`). */
  maxSearchResults?: number;
}

export interface SearchArgs {
  query: string;
  topn?: number;
  source?: string;
}
export interface OpenArgs {
  id?: number | string;
  cursor?: number;
  loc?: number;
  num_lines?: number;
  view_source?: boolean;
  source?: string;
}
export interface FindArgs {
  pattern: string;
  cursor?: number;
}

export interface ViewResult {
  text: string;
  cursor: number;
  page: PageContents;
  start: number;
  end: number;
}

/** Serializable state (for `--state FILE`): pages once each, the stack and cache as indices. */
export interface SessionState {
  version: 1;
  pages: Array<
    Omit<PageContents, 'snippets'> & { snippets?: Record<string, { page: number; lineIdx: number }> }
  >;
  stack: number[];
  cache: Record<string, number>;
}

const truncate = (s: string) => (s.length > 1024 ? s.slice(0, 1024) : s);

export class BrowserSession {
  /** The page stack; a cursor is an index into it. Pages are held by object, not by URL (see `search`). */
  readonly stack: PageContents[] = [];
  /** Pages by URL, for following a link to a page opened before. */
  readonly cache = new Map<string, PageContents>();

  constructor(private readonly deps: SessionDeps) {}

  get currentCursor(): number {
    return this.stack.length - 1;
  }

  /** The page at `cursor` (`-1`: the newest). */
  pageAt(cursor = -1): PageContents {
    if (this.stack.length === 0) throw new BrowserUsageError('No pages to access!');
    if (cursor === -1 || cursor === this.currentCursor) return this.stack[this.currentCursor]!;
    const page = Number.isInteger(cursor) && cursor >= 0 ? this.stack[cursor] : undefined;
    if (!page) {
      throw new BrowserUsageError(
        `Cursor \`${cursor}\` is out of range. Available cursor indices: [0 - ${this.currentCursor}].`,
      );
    }
    return page;
  }

  private show(page: PageContents, loc: number, numLines: number): ViewResult {
    this.stack.push(page);
    const cursor = this.currentCursor;
    try {
      const v = renderView(page, cursor, Math.max(loc, 0), numLines, this.deps.tokenizer);
      return { text: v.text, cursor, page, start: v.start, end: v.end };
    } catch (e) {
      this.stack.pop();
      if (e instanceof InvalidLocationError) throw new BrowserUsageError(e.message);
      throw e;
    }
  }

  async search(args: SearchArgs, signal: AbortSignal): Promise<ViewResult> {
    const max = this.deps.maxSearchResults ?? 20;
    // The reference ignores the model's `topn` and always asks for 20; we honour it (capped), since a model
    // that asks for 3 results wants a short page.
    const topn = Math.min(Math.max(Math.trunc(Number(args.topn ?? 10)) || 10, 1), max);
    let hits: SearchHit[];
    try {
      hits = await this.deps.search(args.query, topn, signal);
    } catch (e) {
      throw new BrowserUsageError(`Error during search for \`${args.query}\`: ${(e as Error).message}`);
    }
    // The reference keeps pages by URL and every search page has URL "", so an old search cursor shows the
    // newest results; here each search page is its own object on the stack, so old cursors stay right.
    return this.show(searchResultsPage(args.query, hits), 0, -1);
  }

  private async fetchPage(url: string, signal: AbortSignal): Promise<PageContents> {
    try {
      const page = await this.deps.fetch(url, signal);
      this.cache.set(page.url, page);
      if (page.url !== url) this.cache.set(url, page);
      return page;
    } catch (e) {
      throw new BrowserUsageError(
        `Error fetching URL \`${truncate(url)}\`: ${truncate((e as Error).message)}`,
      );
    }
  }

  async open(args: OpenArgs, signal: AbortSignal): Promise<ViewResult> {
    let { id = -1, loc = -1 } = args;
    const cursor = args.cursor ?? -1;
    const numLines = args.num_lines ?? -1;
    // Models sometimes quote a link id ("3"); the reference would try to fetch the URL "3".
    if (typeof id === 'string' && /^\s*-?\d+\s*$/.test(id)) id = Number(id);
    let page: PageContents;
    if (typeof id === 'string') {
      // A URL opened directly is a refresh: never from the cache.
      let url = id.trim().replace(/^view-source:/i, '');
      if (!/^[a-z][a-z0-9+.-]*:/i.test(url) && /^[^\s/]+\.[^\s/]+/.test(url)) url = `https://${url}`;
      page = await this.fetchPage(url, signal);
    } else if (id >= 0) {
      const from = this.pageAt(cursor);
      const url = from.urls[String(id)];
      if (url === undefined) throw new BrowserUsageError(`Invalid link id \`${id}\`.`);
      const snippet = from.snippets?.[String(id)];
      if (snippet) {
        // A find result: jump to the match (a few lines of context above it, as the reference does).
        if (loc < 0) loc = snippet.lineIdx > 4 ? snippet.lineIdx - 4 : snippet.lineIdx;
        page = snippet.page;
      } else {
        page = this.cache.get(url) ?? (await this.fetchPage(url, signal));
      }
    } else if (args.view_source) {
      // No raw-source view (the reference has none either): reload the current page.
      page = await this.fetchPage(this.pageAt(cursor).url, signal);
    } else {
      page = this.pageAt(cursor); // scroll
    }
    return this.show(page, loc, numLines);
  }

  find(args: FindArgs): ViewResult {
    const page = this.pageAt(args.cursor ?? -1);
    if (page.snippets)
      throw new BrowserUsageError('Cannot run `find` on search results page or find results page');
    return this.show(findInPage(page, String(args.pattern)), 0, -1);
  }

  toState(): SessionState {
    const pages: PageContents[] = [];
    const index = new Map<PageContents, number>();
    const add = (p: PageContents): number => {
      let i = index.get(p);
      if (i === undefined) {
        i = pages.length;
        index.set(p, i);
        pages.push(p);
        for (const s of Object.values(p.snippets ?? {})) add(s.page);
      }
      return i;
    };
    const stack = this.stack.map(add);
    const cache: Record<string, number> = {};
    for (const [url, p] of this.cache) cache[url] = add(p);
    return {
      version: 1,
      pages: pages.map((p) => ({
        ...p,
        snippets: p.snippets
          ? Object.fromEntries(
              Object.entries(p.snippets).map(([k, s]) => [
                k,
                { page: index.get(s.page)!, lineIdx: s.lineIdx },
              ]),
            )
          : undefined,
      })),
      stack,
      cache,
    };
  }

  static fromState(state: SessionState, deps: SessionDeps): BrowserSession {
    if (state?.version !== 1 || !Array.isArray(state.pages) || !Array.isArray(state.stack)) {
      throw new Error('not a browser state file (expected {"version":1,"pages":[...],"stack":[...]})');
    }
    const pages: PageContents[] = state.pages.map((p) => ({ ...p, snippets: undefined }));
    state.pages.forEach((p, i) => {
      if (p.snippets) {
        pages[i]!.snippets = Object.fromEntries(
          Object.entries(p.snippets).map(([k, s]) => [k, { page: pages[s.page]!, lineIdx: s.lineIdx }]),
        );
      }
    });
    const session = new BrowserSession(deps);
    for (const i of state.stack) session.stack.push(pages[i]!);
    for (const [url, i] of Object.entries(state.cache ?? {})) session.cache.set(url, pages[i]!);
    return session;
  }
}
