/**
 * Citations in the model's final answer: `【3†L9-L11】` becomes ` ([example.com](https://example.com/a)) ` for
 * display, with an annotation saying which characters cite which page. While streaming, a citation cut in half
 * by a delta is held back until it closes.
 */
import type { PageContents } from './text.js';
import { hostOf } from './text.js';

export interface UrlCitation {
  type: 'url_citation';
  /** Where the link is in the rewritten text. */
  start_index: number;
  end_index: number;
  title: string;
  url: string;
  /** The page's own title and the cited lines, e.g. `L9-L11`. */
  page_title: string;
  lines: string;
  cursor: number;
}

const CITATION = /【(\d+)†([^†】]+)(?:†[^†】]+)?】/g;

/** Resolves a cursor to the page the model saw there (`BrowserSession.stack[cursor]`). */
export type CursorPages = (cursor: number) => PageContents | undefined;

/** The URL a citation of `page` should point to: find-results pages cite the page they searched. */
function citedPage(page: PageContents): PageContents {
  if (page.kind === 'find') {
    const first = Object.values(page.snippets ?? {})[0];
    if (first) return first.page;
  }
  return page;
}

/**
 * Rewrites citations to markdown links. Citations of unknown cursors, and of search-results pages (they have
 * no URL), are left as they are.
 */
export function normalizeCitations(
  text: string,
  pages: CursorPages | readonly PageContents[],
): { text: string; citations: UrlCitation[] } {
  const lookup: CursorPages = typeof pages === 'function' ? pages : (c) => pages[c];
  const citations: UrlCitation[] = [];
  let out = '';
  let last = 0;
  for (const m of text.matchAll(CITATION)) {
    const cursor = Number(m[1]);
    const found = lookup(cursor);
    const page = found ? citedPage(found) : undefined;
    if (!page?.url || !/^https?:/i.test(page.url)) continue;
    const domain = hostOf(page.url);
    const link = ` ([${domain}](${page.url})) `;
    out += text.slice(last, m.index);
    citations.push({
      type: 'url_citation',
      start_index: out.length,
      end_index: out.length + link.length,
      title: domain,
      url: page.url,
      page_title: page.title,
      lines: m[2]!,
      cursor,
    });
    out += link;
    last = m.index! + m[0].length;
  }
  return { text: out + text.slice(last), citations };
}

/** A trailing `【…` that could still become a citation. */
const PARTIAL = /【\d*(?:†[^†】]*){0,2}$/;
/** Longer than this, a dangling `【` is just text. */
const MAX_HELD = 120;

/**
 * Streams final text with citations rewritten: `push` returns what can be shown now, holding back a citation
 * that has started but not closed; `end` returns the rest.
 */
export class CitationStream {
  private pending = '';
  private offset = 0;
  readonly citations: UrlCitation[] = [];

  constructor(private readonly pages: CursorPages | readonly PageContents[]) {}

  push(delta: string): string {
    this.pending += delta;
    const m = PARTIAL.exec(this.pending);
    const held = m && this.pending.length - m.index <= MAX_HELD ? this.pending.slice(m.index) : '';
    const ready = this.pending.slice(0, this.pending.length - held.length);
    this.pending = held;
    return this.emit(ready);
  }

  end(): string {
    const rest = this.pending;
    this.pending = '';
    return this.emit(rest);
  }

  private emit(s: string): string {
    if (!s) return '';
    const { text, citations } = normalizeCitations(s, this.pages);
    for (const c of citations) {
      this.citations.push({
        ...c,
        start_index: c.start_index + this.offset,
        end_index: c.end_index + this.offset,
      });
    }
    this.offset += text.length;
    return text;
  }
}
