/**
 * What the model sees of a page: the text wrapped at 80 columns (Python `textwrap` rules, as in the
 * reference), `L<n>: ` line numbers, a `[cursor] title (url)` header and a `**viewing lines [a - b] of n**`
 * scrollbar, cut to a token budget when the model gives no `num_lines`.
 */
import type { FindSnippet, PageContents } from './text.js';

export const WRAP_WIDTH = 80;
/** The reference's view budget (`view_tokens`). */
export const VIEW_TOKENS = 1024;
/** Most find hits per call, and lines shown per hit. */
export const MAX_FIND_RESULTS = 50;
export const FIND_LINES = 4;

/** Ordinary-text tokenizer used to cut the default view (o200k; Harmony's tokenizer encodes text the same). */
export interface TextTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

// ---- Python textwrap.wrap(width=80, replace_whitespace=False, drop_whitespace=False) ----
const WS = '[\\t\\n\\x0b\\x0c\\r ]';
const NWS = '[^\\t\\n\\x0b\\x0c\\r ]';
const WP = `[\\p{L}\\p{N}_!"'&.,?]`;
const LT = '[\\p{L}_]';
const W = '[\\p{L}\\p{N}_]';
const WORDSEP = new RegExp(
  `(${WS}+|(?<=${WP})-{2,}(?=${W})|${NWS}+?(?:-(?:(?<=${LT}{2}-)|(?<=${LT}-${LT}-))(?=${LT}-?${LT})|(?=${WS}|$)|(?<=${WP})(?=-{2,}${W})))`,
  'u',
);

function expandTabs(s: string, size = 8): string {
  if (!s.includes('\t')) return s;
  let out = '';
  for (const ch of s) {
    if (ch === '\t') out += ' '.repeat(size - (out.length % size));
    else out += ch;
  }
  return out;
}

/** One line wrapped like Python's `textwrap.wrap` with whitespace kept; `[]` for an empty line. */
export function wrapLine(line: string, width = WRAP_WIDTH): string[] {
  const chunks = expandTabs(line)
    .split(WORDSEP)
    .filter((c) => c !== '' && c !== undefined)
    .reverse();
  const lines: string[] = [];
  while (chunks.length > 0) {
    const cur: string[] = [];
    let curLen = 0;
    while (chunks.length > 0) {
      const l = chunks[chunks.length - 1]!.length;
      if (curLen + l > width) break;
      cur.push(chunks.pop()!);
      curLen += l;
    }
    if (chunks.length > 0 && chunks[chunks.length - 1]!.length > width) {
      const spaceLeft = width < 1 ? 1 : width - curLen;
      const chunk = chunks[chunks.length - 1]!;
      let end = spaceLeft;
      if (chunk.length > spaceLeft) {
        const hyphen = chunk.lastIndexOf('-', spaceLeft - 1);
        if (hyphen > 0 && /[^-]/.test(chunk.slice(0, hyphen))) end = hyphen + 1;
      }
      cur.push(chunk.slice(0, end));
      chunks[chunks.length - 1] = chunk.slice(end);
    }
    if (cur.length > 0) lines.push(cur.join(''));
  }
  return lines;
}

/** The page text as display lines (an empty source line stays one empty line). */
export function wrapLines(text: string, width = WRAP_WIDTH): string[] {
  return text.split('\n').flatMap((l) => {
    const w = wrapLine(l, width);
    return w.length === 0 ? [''] : w;
  });
}

function numbered(lines: readonly string[], from: number): string {
  return lines.map((l, i) => `L${i + from}: ${l}`).join('\n');
}

/**
 * The end (exclusive) of the view starting at `loc`. An explicit `numLines > 0` is honoured as is; otherwise
 * the numbered text is cut after about `viewTokens` tokens, rounding up to the end of the line that crosses it.
 */
export function endLoc(
  lines: readonly string[],
  loc: number,
  numLines: number,
  tokenizer: TextTokenizer,
  viewTokens = VIEW_TOKENS,
): number {
  const total = lines.length;
  if (numLines <= 0) {
    const txt = numbered(lines.slice(loc), loc);
    numLines = total - loc;
    if (txt.length > viewTokens) {
      // Tokenize a prefix long enough to hold `viewTokens` tokens, growing it if the text is token-dense.
      let upper = Math.min(txt.length, (viewTokens + 1) * 8);
      for (;;) {
        const ids = tokenizer.encode(txt.slice(0, upper));
        if (ids.length > viewTokens) {
          const cut = tokenizer.decode(ids.slice(0, viewTokens)).length;
          numLines = countNewlines(txt, cut) + 1;
          break;
        }
        if (upper >= txt.length) break;
        upper = Math.min(txt.length, upper * 2);
      }
    }
  }
  return Math.min(loc + numLines, total);
}

function countNewlines(s: string, upto: number): number {
  let n = 0;
  for (let i = 0; i < upto && i < s.length; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}

function displayUrl(url: string): string {
  let u = url;
  try {
    u = decodeURI(url);
  } catch {
    // keep the encoded form when it is not valid percent-encoding
  }
  return u.length > 1024 ? u.slice(0, 1024) : u;
}

export class InvalidLocationError extends Error {
  override name = 'InvalidLocationError';
}

/** The tool message text for `page` shown at `loc` (the reference's `show_page`). */
export function renderView(
  page: PageContents,
  cursor: number,
  loc: number,
  numLines: number,
  tokenizer: TextTokenizer,
): { text: string; start: number; end: number; total: number } {
  const lines = wrapLines(page.text);
  const total = lines.length;
  if (loc >= total) {
    throw new InvalidLocationError(
      `Invalid location parameter: \`${loc}\`. Cannot exceed page maximum of ${total - 1}.`,
    );
  }
  const end = endLoc(lines, loc, numLines, tokenizer);
  const header = `${page.title}${page.url ? ` (${displayUrl(page.url)})` : ''}\n**viewing lines [${loc} - ${end - 1}] of ${total - 1}**\n\n`;
  return { text: `[${cursor}] ${header}${numbered(lines.slice(loc, end), loc)}`, start: loc, end, total };
}

const LINK_MARKUP = /【\d+†([^†】]+)(?:†[^†】]+)?】/g;

/** Link markup `【id†text(†host)?】` replaced by its text. */
export function stripLinks(s: string): string {
  return s.replace(LINK_MARKUP, '$1');
}

/**
 * `find`: case-insensitive substring search. Each hit shows 4 lines and the scan resumes after them; at most
 * 50 hits. The result is a page whose link `i` jumps to hit `i`.
 *
 * Deliberate difference from the reference: it matches over the link-stripped text wrapped on its own, so its
 * line numbers can disagree with `open`'s; we wrap the displayed text and strip links per line, so `match at
 * L<n>` is the line `open` shows as `L<n>`.
 */
export function findInPage(page: PageContents, pattern: string): PageContents {
  const lines = wrapLines(page.text).map(stripLinks);
  const needle = pattern.toLowerCase();
  const hits: string[] = [];
  const urls: Record<string, string> = {};
  const snippets: Record<string, FindSnippet> = {};
  let i = 0;
  while (i < lines.length && hits.length < MAX_FIND_RESULTS) {
    if (lines[i]!.toLowerCase().includes(needle)) {
      const n = hits.length;
      hits.push(`# 【${n}†match at L${i}】\n${lines.slice(i, i + FIND_LINES).join('\n')}`);
      urls[String(n)] = page.url;
      snippets[String(n)] = { page, lineIdx: i };
      i += FIND_LINES;
    } else {
      i++;
    }
  }
  return {
    url: `${page.url}/find?pattern=${encodeURIComponent(pattern)}`,
    title: `Find results for text: \`${pattern}\` in \`${page.title}\``,
    text: hits.length > 0 ? hits.join('\n\n') : `No \`find\` results for pattern: \`${pattern}\``,
    urls,
    snippets,
    kind: 'find',
  };
}
