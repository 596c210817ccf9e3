/**
 * Splits a document into retrieval chunks, one per section, keeping the heading path with each chunk so that
 * a chunk read alone still says where it comes from ("Install › From npm").
 */

export type DocFormat = 'markdown' | 'html' | 'text';

export interface Chunk {
  /** 0-based position of the chunk in its document. */
  ord: number;
  /** The document's title: its first top-level heading, else the file name. */
  title: string;
  /** Heading path of the section, outermost first, joined with ' › ' (empty for text before any heading). */
  heading: string;
  /** The section's own text, without the heading line. */
  body: string;
}

export interface ChunkOptions {
  /** Sections longer than this (characters) are split at paragraph boundaries. */
  maxChars?: number;
}

const DEFAULT_MAX_CHARS = 1200;

export function formatOf(file: string): DocFormat | undefined {
  const ext = file.toLowerCase().split('.').pop();
  if (ext === 'md' || ext === 'markdown' || ext === 'mdx') return 'markdown';
  if (ext === 'html' || ext === 'htm') return 'html';
  if (ext === 'txt' || ext === 'text') return 'text';
  return undefined;
}

export function chunkDocument(
  source: string,
  format: DocFormat,
  fileName: string,
  options: ChunkOptions = {},
): Chunk[] {
  const markdown = format === 'html' ? htmlToMarkdown(source) : source;
  const fallbackTitle = fileName.replace(/\.[^.]+$/, '').replace(/[-_]+/g, ' ');
  const sections = format === 'text' ? [{ path: [], lines: source.split('\n') }] : splitSections(markdown);
  const h1 = sections.find((s) => s.level === 1)?.path[0];
  const title = h1 ?? fallbackTitle;
  const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
  const chunks: Chunk[] = [];
  for (const section of sections) {
    const body = section.lines.join('\n').trim();
    if (!body && section.level !== 1) continue;
    const heading = section.path.join(' › ');
    for (const piece of splitLong(body, maxChars)) {
      if (!piece && chunks.length > 0) continue;
      chunks.push({ ord: chunks.length, title, heading, body: piece });
    }
  }
  // An H1 with no text of its own would leave an empty chunk when the document has other sections.
  return chunks.filter((c) => c.body || chunks.length === 1).map((c, ord) => ({ ...c, ord }));
}

/** The text that is embedded and full-text indexed: the location, then the body. */
export function chunkText(chunk: Chunk): string {
  const h = chunk.heading;
  const nested = h === chunk.title || h.startsWith(`${chunk.title} › `);
  const where = !h ? chunk.title : nested ? h : `${chunk.title} › ${h}`;
  return `${where}\n${chunk.body}`.trim();
}

interface Section {
  level?: number;
  path: string[];
  lines: string[];
}

function splitSections(markdown: string): Section[] {
  const sections: Section[] = [];
  const stack: { level: number; text: string }[] = [];
  let current: Section = { path: [], lines: [] };
  let fence: string | undefined;
  for (const line of markdown.replace(/\r\n?/g, '\n').split('\n')) {
    const fenceMark = /^\s*(```|~~~)/.exec(line)?.[1];
    if (fenceMark) fence = fence === fenceMark ? undefined : (fence ?? fenceMark);
    const m = fence ? null : /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (m) {
      sections.push(current);
      const level = m[1]!.length;
      while (stack.length > 0 && stack[stack.length - 1]!.level >= level) stack.pop();
      stack.push({ level, text: m[2]! });
      current = { level, path: stack.map((s) => s.text), lines: [] };
    } else {
      current.lines.push(line);
    }
  }
  sections.push(current);
  return sections;
}

function splitLong(body: string, maxChars: number): string[] {
  if (body.length <= maxChars) return [body];
  const out: string[] = [];
  let cur = '';
  for (const para of body.split(/\n\s*\n/)) {
    // A single paragraph longer than the limit is cut at sentence ends, then hard.
    const parts = para.length > maxChars ? hardSplit(para, maxChars) : [para];
    for (const p of parts) {
      if (cur && cur.length + p.length + 2 > maxChars) {
        out.push(cur);
        cur = '';
      }
      cur = cur ? `${cur}\n\n${p}` : p;
    }
  }
  if (cur) out.push(cur);
  return out;
}

function hardSplit(text: string, maxChars: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const sentence of text.split(/(?<=[.!?])\s+/)) {
    for (let i = 0; i < sentence.length; i += maxChars) {
      const s = sentence.slice(i, i + maxChars);
      if (cur && cur.length + s.length + 1 > maxChars) {
        out.push(cur);
        cur = '';
      }
      cur = cur ? `${cur} ${s}` : s;
    }
  }
  if (cur) out.push(cur);
  return out;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Just enough HTML → Markdown for chunking: headings become `#` lines, blocks become paragraphs, tags go. */
export function htmlToMarkdown(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|noscript|template)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<h([1-6])\b[^>]*>([\s\S]*?)<\/h\1\s*>/gi, (_m, n: string, inner: string) => {
      const text = inner
        .replace(/<[^>]+>/g, '')
        .replace(/\s+/g, ' ')
        .trim();
      return `\n\n${'#'.repeat(Number(n))} ${text}\n\n`;
    })
    .replace(/<li\b[^>]*>/gi, '\n- ')
    .replace(/<(br)\b[^>]*>/gi, '\n')
    .replace(/<\/?(p|div|section|article|ul|ol|table|tr|pre|blockquote|main|header|footer)\b[^>]*>/gi, '\n\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const code = e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
        return Number.isFinite(code) ? String.fromCodePoint(code) : m;
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n');
}
