import type { Embedder } from '../embedders.js';

/**
 * Word vectors distilled from a sentence encoder (USE-lite by default): each vocabulary word is embedded once,
 * projected to `dims` dimensions with a fixed random projection and stored as int8. A sentence vector is then the
 * mean of its words' vectors — microseconds instead of a model call, so the monitor can score every sentence.
 */
export class WordVectors {
  private readonly index: Map<string, number>;
  /**
   * A weight per word (inverse document frequency in the training data): topical words count more than
   * everyday ones ("user", "want", "help") in a sentence vector. All 1 until set.
   */
  weights: Float32Array;

  constructor(
    readonly dims: number,
    readonly vocab: readonly string[],
    private readonly data: Float32Array,
  ) {
    this.index = new Map(vocab.map((w, i) => [w, i]));
    this.weights = new Float32Array(vocab.length).fill(1);
  }

  indexOf(word: string): number | undefined {
    return this.index.get(word);
  }

  has(word: string): boolean {
    return this.index.has(word);
  }

  /** Unit-length mean of the known words' vectors; `undefined` when no word is known. */
  sentence(ws: readonly string[]): Float32Array | undefined {
    const v = new Float32Array(this.dims);
    return this.sentenceInto(ws, v) ? v : undefined;
  }

  /** `sentence` into a caller's buffer (no allocation); false when no word is known. */
  sentenceInto(ws: readonly string[], v: Float32Array): boolean {
    v.fill(0);
    let n = 0;
    for (const w of ws) {
      const i = this.index.get(w);
      if (i === undefined) continue;
      n++;
      const off = i * this.dims;
      const k = this.weights[i]!;
      for (let d = 0; d < this.dims; d++) v[d]! += k * this.data[off + d]!;
    }
    if (n) normalize(v);
    return n > 0;
  }

  /** Embeds `words` with `embedder` and projects them; returns a table holding these and `base`'s words. */
  static async distill(
    embedder: Embedder,
    words: Iterable<string>,
    dims = 128,
    base?: WordVectors,
    onProgress?: (done: number, total: number) => void,
  ): Promise<WordVectors> {
    const todo = [...new Set(words)].filter((w) => !base?.has(w)).sort();
    const proj = projection(embedder.dims, dims);
    const out = new Float32Array(todo.length * dims);
    for (let i = 0; i < todo.length; i += 256) {
      const vecs = await embedder.embed(todo.slice(i, i + 256));
      vecs.forEach((v, j) => {
        const p = normalize(project(v, proj, dims));
        out.set(p, (i + j) * dims);
      });
      onProgress?.(Math.min(i + 256, todo.length), todo.length);
    }
    if (!base) return new WordVectors(dims, todo, out);
    const all = new Float32Array(base.data.length + out.length);
    all.set(base.data);
    all.set(out, base.data.length);
    return new WordVectors(dims, [...base.vocab, ...todo], all);
  }

  toJSON(): WordVectorsJSON {
    const q = new Int8Array(this.data.length);
    for (let i = 0; i < q.length; i++)
      q[i] = Math.max(-127, Math.min(127, Math.round(this.data[i]! * 127 * 4)));
    return {
      dims: this.dims,
      vocab: this.vocab,
      int8: Buffer.from(q.buffer).toString('base64'),
      weights: [...this.weights].map((w) => Math.round(w * 100) / 100),
    };
  }

  static fromJSON(j: WordVectorsJSON): WordVectors {
    const buf = Buffer.from(j.int8, 'base64');
    const q = new Int8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    const data = new Float32Array(q.length);
    for (let i = 0; i < q.length; i++) data[i] = q[i]! / (127 * 4);
    const wv = new WordVectors(j.dims, j.vocab, data);
    if (j.weights?.length === j.vocab.length) wv.weights = Float32Array.from(j.weights);
    return wv;
  }
}

export interface WordVectorsJSON {
  dims: number;
  vocab: readonly string[];
  int8: string;
  weights?: readonly number[];
}

export function normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n) || 1;
  for (let i = 0; i < v.length; i++) v[i]! /= n;
  return v;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** A fixed Gaussian projection (seeded), so the same word always lands on the same vector. */
function projection(from: number, to: number): Float32Array {
  let seed = 0x9e3779b9;
  const rand = () => {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return (seed + 0.5) / 4294967296;
  };
  const m = new Float32Array(from * to);
  for (let i = 0; i < m.length; i++) m[i] = Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
  return m;
}

function project(v: readonly number[], m: Float32Array, to: number): Float32Array {
  const out = new Float32Array(to);
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (x === 0) continue;
    const off = i * to;
    for (let d = 0; d < to; d++) out[d]! += x * m[off + d]!;
  }
  return out;
}
