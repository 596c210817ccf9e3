/**
 * HTML → the page text the model reads: markdown-ish text where every followable link is replaced by
 * `【id†text】` (same host as the page) or `【id†text†host】` (another host), ids numbered in order of first
 * appearance with one id per distinct URL, images as `[Image n: alt]`, `<sup>`/`<sub>` as `^{x}`/`_{x}`.
 * The first two lines are `""` and `URL: {url}`, as in the reference, so line numbers match what the model
 * learnt (`L0:` empty, `L1: URL: …`).
 */
import { convert, type DomNode, type FormatCallback, type HtmlToTextOptions } from 'html-to-text';

/** A page as the browser tool keeps it. */
export interface PageContents {
  /** The final URL (after redirects); `''` for search-results and find-results pages. */
  url: string;
  title: string;
  text: string;
  /** Link id → absolute URL. */
  urls: Record<string, string>;
  /** Set on find-results pages: link id → the page and line the match is on. */
  snippets?: Record<string, FindSnippet>;
  /** Where the page came from, for citations and the developer. */
  kind: 'web' | 'pdf' | 'text' | 'search' | 'find';
}

export interface FindSnippet {
  page: PageContents;
  lineIdx: number;
}

/**
 * Characters the model uses as markup are swapped for look-alikes so page text cannot forge a link or a
 * citation; emoji and other astral characters are dropped (the reference does the same).
 */
export function sanitizeText(s: string): string {
  return s
    .replace(/[\u{10000}-\u{1FFFF}]/gu, '')
    .replace(/【/g, '〖')
    .replace(/】/g, '〗')
    .replace(/◼/g, '◾')
    .replace(/\u200b/g, '');
}

/** `host` (with port) of a URL, or `''`. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

function nodeText(root: DomNode): string {
  // Iterative: hostile markup can nest far deeper than the call stack.
  let out = '';
  const stack: DomNode[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.type === 'text') out += n.data ?? '';
    else if (n.type !== 'script' && n.type !== 'style' && n.type !== 'comment') {
      const kids = n.children ?? [];
      for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
    }
  }
  return out;
}

/**
 * Deeper elements lose their tags (their text stays, in the element at this depth): html-to-text walks the tree
 * recursively, and the parser slows down quadratically with nesting.
 */
export const MAX_HTML_DEPTH = 512;

const VOID = new Set(
  'area base br col embed hr img input link meta param source track wbr'.split(' ').map((t) => `<${t}`),
);

/**
 * Drops the tags (not the text) of elements nested more than `MAX_HTML_DEPTH` deep, in one linear pass, so that
 * hostile markup (100 000 levels: ~20 s and a stack overflow in the converter) is flattened before it is parsed.
 * Ordinary pages come back unchanged.
 */
export function flattenDeepNesting(html: string): string {
  const limit = MAX_HTML_DEPTH;
  const tag = /<(\/?)([a-zA-Z][^\s/>]*)[^>]*?(\/?)>/g;
  let depth = 0;
  let deep = false;
  for (let m = tag.exec(html); m; m = tag.exec(html)) {
    if (m[3] || VOID.has(`<${m[2]!.toLowerCase()}`)) continue;
    depth = m[1] ? Math.max(0, depth - 1) : depth + 1;
    if (depth > limit) {
      deep = true;
      break;
    }
  }
  if (!deep) return html;
  depth = 0;
  return html.replace(tag, (whole, close: string, name: string, selfClose: string) => {
    if (selfClose || VOID.has(`<${name.toLowerCase()}`)) return depth >= limit ? '' : whole;
    if (close) {
      depth = Math.max(0, depth - 1);
      return depth >= limit ? '' : whole;
    }
    depth++;
    return depth > limit ? '' : whole;
  });
}

export interface HtmlPageOptions {
  /** The final URL of the page; links are resolved against it (or a `<base href>` passed as `baseUrl`). */
  url: string;
  /** Resolve relative links against this instead of `url` (the document's `baseURI`). */
  baseUrl?: string;
  /** Title to use; else the document's `<title>`; else the host. */
  title?: string;
}

const SKIPPED_SCHEMES = /^\s*(mailto|javascript|tel|data|blob|about):/i;

/** Converts an HTML document (e.g. the rendered DOM) to a page. */
export function htmlToPage(html: string, opts: HtmlPageOptions): PageContents {
  const urls: Record<string, string> = {};
  const idByUrl = new Map<string, number>();
  const pageHost = hostOf(opts.url);
  const base = opts.baseUrl || opts.url;
  let images = 0;

  const link: FormatCallback = (elem, walk, builder) => {
    const href: string = (elem.attribs?.href ?? '').trim();
    const text = nodeText(elem).replace(/\s+/g, ' ').trim().replace(/†/g, '‡');
    let target = '';
    if (href && !href.startsWith('#') && !SKIPPED_SCHEMES.test(href) && text) {
      try {
        const u = new URL(href, base || undefined);
        if (u.protocol === 'http:' || u.protocol === 'https:') target = u.href;
      } catch {
        target = '';
      }
    }
    if (!target) {
      walk(elem.children, builder);
      return;
    }
    let id = idByUrl.get(target);
    if (id === undefined) {
      id = idByUrl.size;
      idByUrl.set(target, id);
      urls[String(id)] = target;
    }
    const host = hostOf(target);
    builder.addInline(host === pageHost ? `【${id}†${text}】` : `【${id}†${text}†${host}】`, {
      noWordTransform: true,
    });
  };

  const image: FormatCallback = (elem, _walk, builder) => {
    const alt = String(elem.attribs?.alt ?? elem.attribs?.title ?? '')
      .replace(/\s+/g, ' ')
      .trim();
    builder.addInline(alt ? `[Image ${images}: ${alt}]` : `[Image ${images}]`, { noWordTransform: true });
    images++;
  };

  const wrapInline =
    (open: string, close: string): FormatCallback =>
    (elem, walk, builder) => {
      builder.addInline(open, { noWordTransform: true });
      walk(elem.children, builder);
      builder.addInline(close, { noWordTransform: true });
    };

  const heading: FormatCallback = (elem, walk, builder, fo) => {
    const level = Number((elem.name ?? 'h1').slice(1)) || 1;
    builder.openBlock({ leadingLineBreaks: fo.leadingLineBreaks ?? 2 });
    builder.addInline(`${'#'.repeat(level)} `, { noWordTransform: true });
    walk(elem.children, builder);
    builder.closeBlock({ trailingLineBreaks: fo.trailingLineBreaks ?? 2 });
  };

  // Tables are read as text (one row per line, cells separated by spaces), like the reference's `ignore_tables`.
  const cell: FormatCallback = (elem, walk, builder) => {
    walk(elem.children, builder);
    builder.addInline(' ');
  };

  const options: HtmlToTextOptions = {
    wordwrap: false,
    limits: { maxDepth: MAX_HTML_DEPTH * 2, ellipsis: ' [...]' },
    baseElements: { selectors: ['body'], returnDomByDefault: true },
    formatters: {
      link,
      image,
      heading,
      sup: wrapInline('^{', '}'),
      sub: wrapInline('_{', '}'),
      cell,
    },
    selectors: [
      { selector: 'head', format: 'skip' },
      { selector: 'title', format: 'skip' },
      { selector: 'a', format: 'link' },
      { selector: 'img', format: 'image' },
      { selector: 'sup', format: 'sup' },
      { selector: 'sub', format: 'sub' },
      ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((h) => ({ selector: h, format: 'heading' })),
      { selector: 'table', format: 'block' },
      { selector: 'tr', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
      { selector: 'td', format: 'cell' },
      { selector: 'th', format: 'cell' },
      { selector: 'ul', options: { itemPrefix: '  * ' } },
      { selector: 'math', format: 'skip' },
      { selector: 'svg', format: 'skip' },
      { selector: 'noscript', format: 'skip' },
      { selector: 'template', format: 'skip' },
      { selector: 'hr', format: 'skip' },
    ],
  };

  const clean = flattenDeepNesting(sanitizeText(html));
  const rawTitle = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(clean)?.[1] ?? '';
  const docTitle = rawTitle ? convert(rawTitle, { wordwrap: false }).replace(/\s+/g, ' ').trim() : '';
  const body = convert(clean, options);
  const title = sanitizeText(opts.title?.trim() || docTitle || pageHost);
  return { url: opts.url, title, text: finishText(body, opts.url), urls, kind: 'web' };
}

/** Tidies converted text and adds the reference's `URL:` preamble. */
export function finishText(body: string, url: string): string {
  const lines = body.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  for (const raw of lines) {
    const line = /^\s*$/.test(raw) ? '' : raw.replace(/\s+$/, '');
    if (line === '' && out.length > 0 && out[out.length - 1] === '') continue;
    out.push(line);
  }
  while (out.length > 0 && out[0] === '') out.shift();
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return `\nURL: ${url}\n${out.join('\n')}`;
}

/** A plain-text document (text/plain, or text pulled from a PDF) as a page. */
export function textToPage(
  text: string,
  opts: { url: string; title?: string; kind: 'text' | 'pdf' },
): PageContents {
  const title = sanitizeText(
    opts.title?.trim() || decodeURIComponent(opts.url.split('/').pop() || hostOf(opts.url)),
  );
  return { url: opts.url, title, text: finishText(sanitizeText(text), opts.url), urls: {}, kind: opts.kind };
}

export interface SearchHit {
  title: string;
  url: string;
  /** Snippet / summary / description. */
  snippet: string;
}

const esc = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

/**
 * Search results become a small HTML page rendered like any other (the reference does the same), so the model
 * sees `# Search Results` and `  * 【0†title†host】 snippet` lines. Search pages have no URL.
 */
export function searchResultsPage(query: string, hits: readonly SearchHit[]): PageContents {
  const items = hits
    .map((h) => `<li><a href="${esc(h.url)}">${esc(h.title)}</a> ${esc(h.snippet)}</li>`)
    .join('');
  const page = htmlToPage(`<html><body><h1>Search Results</h1><ul>${items}</ul></body></html>`, {
    url: '',
    title: query,
  });
  return { ...page, kind: 'search' };
}
