import { createHash } from 'node:crypto';
import { relative, resolve, sep } from 'node:path';
import { DocumentFileError, listDocumentFiles, readDocumentText } from '@harmonia/core';
import * as lancedb from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Int32, Schema, Utf8 } from 'apache-arrow';
import { type ChunkOptions, chunkDocument, chunkText, formatOf } from './chunk.js';
import type { Embedder } from './embedders.js';
import { DocumentError, FaqIndexError } from './errors.js';
import { reciprocalRankFusion, relativeScoreFusion } from './fusion.js';

export type SearchMode = 'vector' | 'fulltext' | 'hybrid';

/** One indexed chunk, as `search` and `get` return it. */
export interface FaqEntry {
  /** Stable id: `<doc>#<ord>`, e.g. `install.md#2`. */
  id: string;
  /** Path of the source document relative to the indexed folder, with `/` separators. */
  doc: string;
  title: string;
  heading: string;
  text: string;
}

export interface SearchHit extends FaqEntry {
  /** Higher is better; the scale depends on the mode (cosine similarity, BM25, or fused RRF). */
  score: number;
}

export interface SearchOptions {
  mode?: SearchMode;
  limit?: number;
  /** Keep only the best chunk of each document (for document-level answers and evaluation). */
  distinctDocs?: boolean;
  /**
   * How hybrid search merges the two rankings: `relative` (default) sums min-max-scaled scores, so a confident
   * full-text or vector leader keeps its lead; `rrf` is reciprocal-rank fusion (ranks only, ties broken towards
   * the full-text ranking). `harmonia faq eval` prints both.
   */
  fusion?: Fusion;
}

export type Fusion = 'relative' | 'rrf';

export interface IndexReport {
  added: string[];
  updated: string[];
  unchanged: string[];
  removed: string[];
  skipped: { file: string; reason: string }[];
  chunks: number;
}

export interface FaqIndexOptions {
  /**
   * Where the table lives: a local folder (embedded LanceDB, the default) or any URI LanceDB accepts, e.g.
   * `s3://bucket/faq` or `gs://bucket/faq`, for a bot that runs on several machines.
   */
  uri: string;
  embedder: Embedder;
  table?: string;
  /** Options for object stores (`aws_region`, credentials, ...), passed to LanceDB as they are. */
  storageOptions?: Record<string, string>;
  /** Files bigger than this are skipped with an error (default 1 MiB). */
  maxFileBytes?: number;
  chunk?: ChunkOptions;
}

const CHUNKER_VERSION = 'c2';
const DEFAULT_MAX_FILE_BYTES = 1 << 20;

interface Row extends FaqEntry, Record<string, unknown> {
  ord: number;
  hash: string;
  vector: number[];
}

/** A folder of docs indexed into one LanceDB table with vectors and a BM25 full-text index. */
export class FaqIndex {
  private table: lancedb.Table | undefined;
  private constructor(
    private readonly db: lancedb.Connection,
    private readonly opts: FaqIndexOptions & { table: string },
  ) {}

  static async open(opts: FaqIndexOptions): Promise<FaqIndex> {
    // A plain path is made absolute: LanceDB takes any URI starting with "db" (a folder named db, dbs/…) for
    // LanceDB Cloud and asks for an api_key.
    const uri = /^[a-z][a-z0-9+.-]*:\/\//i.test(opts.uri) ? opts.uri : resolve(opts.uri);
    const db = await lancedb.connect(uri, opts.storageOptions ? { storageOptions: opts.storageOptions } : {});
    const index = new FaqIndex(db, { ...opts, table: opts.table ?? 'faq' });
    if ((await db.tableNames()).includes(index.opts.table))
      index.table = await db.openTable(index.opts.table);
    return index;
  }

  get embedder(): Embedder {
    return this.opts.embedder;
  }

  /**
   * Brings the table in line with the folder: new and changed documents are (re-)embedded, documents that are
   * gone are deleted, unchanged ones are left alone (compared by a hash of content, chunker and embedder).
   * Files that cannot be read as text are reported in `skipped`; they never stop the run.
   */
  async indexFolder(dir: string): Promise<IndexReport> {
    const report: IndexReport = {
      added: [],
      updated: [],
      unchanged: [],
      removed: [],
      skipped: [],
      chunks: 0,
    };
    const files = await listDocs(dir);
    const known = await this.docHashes();
    if (this.table && (await this.vectorDims()) !== this.opts.embedder.dims) {
      // A different embedding size cannot share the table: start over.
      await this.db.dropTable(this.opts.table);
      this.table = undefined;
      known.clear();
    }
    const fresh: Row[] = [];
    const replace: string[] = [];
    const seen = new Set<string>();
    for (const file of files) {
      const doc = relative(dir, file).split(sep).join('/');
      seen.add(doc);
      let source: string;
      try {
        source = await readText(file, this.opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES, doc, dir);
      } catch (err) {
        report.skipped.push({ file: doc, reason: err instanceof DocumentError ? err.message : String(err) });
        continue;
      }
      const hash = sha256(`${CHUNKER_VERSION}\0${this.opts.embedder.id}\0${source}`);
      const before = known.get(doc);
      if (before === hash) {
        report.unchanged.push(doc);
        continue;
      }
      const chunks = chunkDocument(source, formatOf(file)!, doc.split('/').pop()!, this.opts.chunk);
      if (chunks.length === 0) {
        report.skipped.push({ file: doc, reason: `${doc}: no text to index` });
        continue;
      }
      const vectors = await this.opts.embedder.embed(chunks.map(chunkText));
      for (const [i, c] of chunks.entries()) {
        fresh.push({
          id: `${doc}#${c.ord}`,
          doc,
          title: c.title,
          heading: c.heading,
          text: chunkText(c),
          ord: c.ord,
          hash,
          vector: vectors[i]!,
        });
      }
      (before === undefined ? report.added : report.updated).push(doc);
      if (before !== undefined) replace.push(doc);
    }
    report.removed = [...known.keys()].filter((d) => !seen.has(d));
    const stale = [...replace, ...report.removed];
    if (this.table && stale.length > 0)
      await this.table.delete(`doc IN (${stale.map(sqlString).join(', ')})`);
    if (fresh.length > 0) {
      if (this.table) await this.table.add(fresh);
      else
        this.table = await this.db.createTable(this.opts.table, fresh, {
          schema: rowSchema(this.opts.embedder.dims),
        });
    }
    if (this.table && (fresh.length > 0 || stale.length > 0 || !(await this.hasFtsIndex()))) {
      await this.table.createIndex('text', {
        config: lancedb.Index.fts({
          stem: true,
          removeStopWords: true,
          language: 'English',
          lowercase: true,
        }),
        replace: true,
      });
    }
    report.chunks = this.table ? await this.table.countRows() : 0;
    return report;
  }

  async search(query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    const table = this.requireTable();
    const limit = options.limit ?? 5;
    const mode = options.mode ?? 'hybrid';
    // Over-fetch when collapsing to documents or fusing, so that the final list is still `limit` long.
    const depth = Math.max(limit * (options.distinctDocs ? 6 : 1), mode === 'hybrid' ? 30 : limit);
    let hits: SearchHit[];
    if (mode === 'vector') hits = await this.vectorSearch(table, query, depth);
    else if (mode === 'fulltext') hits = await this.fullTextSearch(table, query, depth);
    else {
      const [vec, fts] = await Promise.all([
        this.vectorSearch(table, query, depth),
        this.fullTextSearch(table, query, depth),
      ]);
      // Collapsing to documents fuses by document, so that two chunks of one page count as one vote.
      const key = (h: SearchHit) => (options.distinctDocs ? h.doc : h.id);
      const [a, b] = options.distinctDocs ? [distinct(fts), distinct(vec)] : [fts, vec];
      const byKey = new Map([...b, ...a].map((h) => [key(h), h]));
      const fused =
        (options.fusion ?? 'relative') === 'rrf'
          ? reciprocalRankFusion([a.map(key), b.map(key)])
          : relativeScoreFusion([a, b].map((list) => list.map((h) => ({ id: key(h), score: h.score }))));
      // Fused scores are not comparable across queries: expose the fused rank instead.
      hits = fused.map((k, i) => ({ ...byKey.get(k)!, score: 1 / (1 + i) }));
    }
    return (options.distinctDocs ? distinct(hits) : hits).slice(0, limit);
  }

  async get(id: string): Promise<FaqEntry | undefined> {
    const rows = await this.requireTable()
      .query()
      .where(`id = ${sqlString(id)}`)
      .select(['id', 'doc', 'title', 'heading', 'text'])
      .limit(1)
      .toArray();
    return rows[0] ? toEntry(rows[0]) : undefined;
  }

  /** Every chunk of one document, in order. */
  async document(doc: string): Promise<FaqEntry[]> {
    const rows = await this.requireTable()
      .query()
      .where(`doc = ${sqlString(doc)}`)
      .select(['id', 'doc', 'title', 'heading', 'text', 'ord'])
      .toArray();
    return rows.sort((a, b) => Number(a.ord) - Number(b.ord)).map(toEntry);
  }

  async count(): Promise<number> {
    return this.table ? this.table.countRows() : 0;
  }

  close(): void {
    this.table?.close();
    this.db.close();
  }

  private async vectorSearch(table: lancedb.Table, query: string, limit: number): Promise<SearchHit[]> {
    const [vec] = await this.opts.embedder.embed([query]);
    const rows = await table
      .vectorSearch(vec!)
      .distanceType('cosine')
      .select(['id', 'doc', 'title', 'heading', 'text', '_distance'])
      .limit(limit)
      .toArray();
    return rows.map((r) => ({ ...toEntry(r), score: 1 - Number(r._distance) }));
  }

  private async fullTextSearch(table: lancedb.Table, query: string, limit: number): Promise<SearchHit[]> {
    // Tantivy-style query syntax is not what users type: keep words only.
    const words = query.match(/[\p{L}\p{N}]+/gu)?.join(' ') ?? '';
    if (!words) return [];
    const rows = await table
      .search(words, 'fts', 'text')
      .select(['id', 'doc', 'title', 'heading', 'text', '_score'])
      .limit(limit)
      .toArray();
    return rows.map((r) => ({ ...toEntry(r), score: Number(r._score) }));
  }

  private requireTable(): lancedb.Table {
    if (!this.table)
      throw new FaqIndexError(`no FAQ table '${this.opts.table}' at ${this.opts.uri}: index a folder first`);
    return this.table;
  }

  private async docHashes(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!this.table) return out;
    for (const r of await this.table.query().select(['doc', 'hash']).toArray())
      out.set(String(r.doc), String(r.hash));
    return out;
  }

  private async vectorDims(): Promise<number | undefined> {
    const field = (await this.table?.schema())?.fields.find((f) => f.name === 'vector');
    // Duck-typed: LanceDB may hand back a type from its own copy of apache-arrow, so `instanceof` can fail.
    const size = (field?.type as { listSize?: unknown } | undefined)?.listSize;
    return typeof size === 'number' ? size : undefined;
  }

  private async hasFtsIndex(): Promise<boolean> {
    return (await this.table?.listIndices())?.some((i) => i.columns.includes('text')) ?? false;
  }
}

function rowSchema(dims: number): Schema {
  return new Schema([
    new Field('id', new Utf8(), false),
    new Field('doc', new Utf8(), false),
    new Field('title', new Utf8(), false),
    new Field('heading', new Utf8(), false),
    new Field('text', new Utf8(), false),
    new Field('ord', new Int32(), false),
    new Field('hash', new Utf8(), false),
    new Field('vector', new FixedSizeList(dims, new Field('item', new Float32(), true)), false),
  ]);
}

function toEntry(r: Record<string, unknown>): FaqEntry {
  return {
    id: String(r.id),
    doc: String(r.doc),
    title: String(r.title),
    heading: String(r.heading),
    text: String(r.text),
  };
}

function distinct(hits: SearchHit[]): SearchHit[] {
  const seen = new Set<string>();
  return hits.filter((h) => !seen.has(h.doc) && seen.add(h.doc));
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** The shared document-folder rules: regular files inside `dir` only (no links followed, no FIFOs). */
async function listDocs(dir: string): Promise<string[]> {
  try {
    return await listDocumentFiles(dir, (name) => formatOf(name) !== undefined);
  } catch (err) {
    throw new FaqIndexError((err as Error).message);
  }
}

async function readText(file: string, maxBytes: number, doc: string, root: string): Promise<string> {
  try {
    return await readDocumentText(file, { maxBytes, root, name: doc });
  } catch (err) {
    if (err instanceof DocumentFileError) throw new DocumentError(doc, err.reason);
    throw err;
  }
}
