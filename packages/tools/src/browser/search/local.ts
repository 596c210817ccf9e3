/**
 * A search backend over a document collection the user provides, so a bot can "browse" its own docs with no
 * network at all: `search` ranks the documents with BM25 over their text, and `open` on a result is served
 * from the collection.
 */
import { extname, relative, sep } from 'node:path';
import { DocumentFileError, listDocumentFiles, readDocumentText } from '@harmonia/core';
import { htmlToPage, type PageContents, type SearchHit, textToPage } from '../text.js';
import type { SearchBackend } from './backends.js';

export interface LocalDocument {
  /** The URL the model sees and cites (e.g. the page's public address). */
  url: string;
  title?: string;
  /** Plain or markdown text... */
  text?: string;
  /** ...or HTML. */
  html?: string;
}

export interface LocalBackendOptions {
  documents: readonly LocalDocument[];
  /** The namespace's `sources=` value (default `docs`). */
  source?: string;
}

const EXTENSIONS = new Set(['.md', '.txt', '.html', '.htm']);

const tokenize = (s: string) => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

interface Indexed {
  doc: LocalDocument;
  page: PageContents;
  plain: string;
  tf: Map<string, number>;
  length: number;
}

export class LocalSearchBackend implements SearchBackend {
  readonly name = 'local';
  readonly source: string;
  private readonly docs: Indexed[] = [];
  /** Documents left out, with the reason (unreadable file, link, FIFO, markup that cannot be converted). */
  readonly skipped: { url: string; reason: string }[] = [];
  private readonly df = new Map<string, number>();
  private readonly avgLength: number;

  constructor(opts: LocalBackendOptions) {
    this.source = opts.source ?? 'docs';
    for (const doc of opts.documents) {
      let page: PageContents;
      try {
        page = doc.html
          ? htmlToPage(doc.html, { url: doc.url, title: doc.title })
          : textToPage(doc.text ?? '', { url: doc.url, title: doc.title, kind: 'text' });
      } catch (e) {
        // One bad document never takes the whole collection down.
        this.skipped.push({ url: doc.url, reason: (e as Error).message });
        continue;
      }
      const plain = page.text.replace(/【\d+†([^†】]+)(?:†[^†】]+)?】/g, '$1');
      const tf = new Map<string, number>();
      const words = tokenize(`${page.title} ${plain}`);
      for (const w of words) tf.set(w, (tf.get(w) ?? 0) + 1);
      this.docs.push({ doc, page: { ...page, kind: 'text' as const }, plain, tf, length: words.length });
    }
    for (const d of this.docs) for (const w of d.tf.keys()) this.df.set(w, (this.df.get(w) ?? 0) + 1);
    this.avgLength = this.docs.reduce((n, d) => n + d.length, 0) / Math.max(this.docs.length, 1);
  }

  /**
   * Loads `.md`, `.txt` and `.html` files under `dir`; each gets the URL `baseUrl` + its relative path. Files that
   * cannot be used (links, FIFOs, too big, binary) are listed in `skipped` and never fail the whole collection.
   */
  static async fromDirectory(
    dir: string,
    opts: { baseUrl?: string; source?: string; maxFileBytes?: number } = {},
  ): Promise<LocalSearchBackend> {
    // `.invalid` is reserved (RFC 2606): such URLs can never reach the network by accident.
    const base = (opts.baseUrl ?? 'https://docs.invalid/').replace(/\/?$/, '/');
    const documents: LocalDocument[] = [];
    const skipped: { url: string; reason: string }[] = [];
    // The same file rules as every document indexer: regular files inside `dir` only, no links, no FIFOs.
    const files = await listDocumentFiles(dir, (name) => EXTENSIONS.has(extname(name).toLowerCase()));
    for (const p of files) {
      const url = base + relative(dir, p).split(sep).map(encodeURIComponent).join('/');
      let body: string;
      try {
        body = await readDocumentText(p, { root: dir, maxBytes: opts.maxFileBytes, name: relative(dir, p) });
      } catch (e) {
        if (!(e instanceof DocumentFileError)) throw e;
        skipped.push({ url, reason: e.message });
        continue;
      }
      const isHtml = extname(p).toLowerCase().startsWith('.htm');
      const title = isHtml
        ? undefined
        : /^#\s+(.+)$/m.exec(body)?.[1]?.trim() || relative(dir, p).split(sep).pop();
      documents.push(isHtml ? { url, html: body } : { url, title, text: body });
    }
    documents.sort((a, b) => a.url.localeCompare(b.url));
    const backend = new LocalSearchBackend({ documents, source: opts.source });
    backend.skipped.unshift(...skipped);
    return backend;
  }

  async search(query: string, topn: number): Promise<SearchHit[]> {
    const terms = [...new Set(tokenize(query))];
    const n = this.docs.length;
    const scored = this.docs
      .map((d) => {
        let score = 0;
        for (const t of terms) {
          const f = d.tf.get(t) ?? 0;
          if (f === 0) continue;
          const df = this.df.get(t) ?? 0;
          const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
          score += (idf * f * 2.2) / (f + 1.2 * (0.25 + (0.75 * d.length) / this.avgLength));
        }
        return { d, score };
      })
      .filter((s) => s.score > 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, topn);
    return scored.map(({ d }) => ({
      title: d.page.title,
      url: d.doc.url,
      snippet: bestPassage(d.plain, terms),
    }));
  }

  page(url: string): PageContents | undefined {
    return this.docs.find((d) => d.doc.url === url)?.page;
  }
}

/** The sentence-ish window (≤ 200 chars) holding the most query terms. */
function bestPassage(text: string, terms: readonly string[]): string {
  const body = text.replace(/^\nURL: [^\n]*\n/, '');
  const parts = body
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.replace(/^#+\s*/, '').trim())
    .filter(Boolean);
  let best = parts[0] ?? '';
  let bestScore = -1;
  for (const p of parts) {
    const words = new Set(tokenize(p));
    const s = terms.filter((t) => words.has(t)).length;
    if (s > bestScore) {
      best = p;
      bestScore = s;
    }
  }
  return best.length > 200 ? `${best.slice(0, 197)}...` : best;
}
