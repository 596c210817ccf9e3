import { fnv1a, plain, STOP, words } from './text.js';
import { WordVectors, type WordVectorsJSON } from './vectors.js';

/** What the bot is for: its instructions, its docs (the knowledge base it searches) and its tools' descriptions. */
export interface DomainSources {
  instructions?: string;
  /** Doc sections (or whole docs): each one a unit the bot may talk about. */
  docs: readonly string[];
  tools?: readonly string[];
}

/** Example texts whose nearest neighbours inform the classifier. */
export interface Prototypes {
  attack: readonly string[];
  offTask: readonly string[];
  smallTalk: readonly string[];
}

/** Text in a doc that addresses the assistant (injected instructions), special tokens or frame markers. */
const ADDRESSES_ASSISTANT =
  /<\|[^|]*\|>|\buntrusted content\b|\b(assistants?|AI|chatbots?|language models?|bots?)\b[^.!?\n]{0,40}\b(must|should|shall|are to|now)\b|\bnew instructions\b|\bnote to (the )?(ai|assistant|bots?)\b|\b(ignore|disregard)\b[^.!?\n]{0,30}\b(instructions|rules|prompt)\b/i;

/** Markup a reader of the docs never sees: HTML comments, elements hidden with `display:none`. */
const HIDDEN = /<!--[\s\S]*?(-->|$)|<(\w+)[^>]*display:\s*none[^>]*>[\s\S]*?<\/\2>/gi;

/** Instruction lines that say what to refuse: their words describe what the bot is *not* for. */
const REFUSAL_LINE = /\b(decline|off[- ]topic|never|anything else|untrusted|abusive)\b/i;

/** A set of unit vectors in one contiguous array, for a fast nearest-neighbour scan. */
export class VectorSet {
  readonly data: Float32Array;
  readonly size: number;

  constructor(
    readonly dims: number,
    vectors: readonly Float32Array[],
  ) {
    this.size = vectors.length;
    this.data = new Float32Array(this.size * dims);
    vectors.forEach((v, i) => {
      this.data.set(v, i * dims);
    });
  }

  /** The largest dot product of `v` with a member (0 when empty); `skip` ignores a member (leave-one-out). */
  max(v: Float32Array, skip = -1): number {
    const { data, dims, size } = this;
    let best = 0;
    // Four running sums: shorter dependency chains, and `dims` is a multiple of 4 (the rest is summed after).
    const tail = dims & 3;
    for (let i = 0, off = 0; i < size; i++, off += dims) {
      if (i === skip) continue;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      const end = off + dims - tail;
      for (let a = off, d = 0; a < end; a += 4, d += 4) {
        s0 += v[d]! * data[a]!;
        s1 += v[d + 1]! * data[a + 1]!;
        s2 += v[d + 2]! * data[a + 2]!;
        s3 += v[d + 3]! * data[a + 3]!;
      }
      let s = s0 + s1 + s2 + s3;
      for (let d = dims - tail; d < dims; d++) s += v[d]! * data[off + d]!;
      if (s > best) best = s;
    }
    return best;
  }
}

/** The domain, ready for scoring: its vocabulary, one vector per doc section and paragraph, its instructions. */
export class Domain {
  readonly vocab: Set<string>;
  readonly vectors: VectorSet;
  /** Word pairs of the instructions (hashed), to spot an answer that repeats them. */
  readonly instructionPairs: Set<number>;

  constructor(sources: DomainSources, wv: WordVectors) {
    const instructions = sources.instructions ?? '';
    // What the bot is for: the docs, the tools and the instruction lines that are not about refusing. Passages
    // that address the assistant (an injection planted in a doc) do not define the domain.
    const allowed = instructions
      .split('\n')
      .filter((l) => !REFUSAL_LINE.test(l))
      .join('\n');
    const paragraphs = (u: string) =>
      u.split(/\n\s*\n/).filter((p) => p.trim() && !ADDRESSES_ASSISTANT.test(p));
    // Hidden markup (HTML comments, display:none) is not shown to a reader of the docs: it does not define the domain.
    const units = [allowed, ...sources.docs, ...(sources.tools ?? [])]
      .map((u) => paragraphs(u.replace(HIDDEN, ' ')).join('\n\n'))
      .filter((u) => u.trim());
    this.vocab = new Set(units.flatMap((u) => words(plain(u))));
    // Each section, and each of its paragraphs: an answer usually paraphrases one paragraph.
    // A one-paragraph section is its paragraph: duplicates are kept once (fewer vectors to scan per sentence).
    const pieces = units.flatMap((u) => [u, ...paragraphs(u).filter((p) => p.length > 40)]);
    const seen = new Set<string>();
    this.vectors = new VectorSet(
      wv.dims,
      pieces.flatMap((p) => {
        const ws = words(plain(p));
        const key = ws.join(' ');
        if (seen.has(key)) return [];
        seen.add(key);
        const v = wv.sentence(ws);
        return v ? [v] : [];
      }),
    );
    const iw = words(instructions);
    this.instructionPairs = new Set(iw.slice(1).map((w, i) => pairHash(iw[i]!, w)));
  }
}

/** A hash of a word pair, without building the pair's string. */
function pairHash(a: string, b: string): number {
  return fnv1a(b, fnv1a(' ', fnv1a(a)));
}

const PATTERNS: readonly RegExp[] = [
  // override
  /\b(ignore|disregard|forget|override|bypass|skip)\b.{0,40}\b(instructions?|rules?|guidelines?|polic(y|ies)|prompt|developer message|restrictions?|guide|manual|docs|documentation|warnings?|safety)\b|\b(developer|debug|unrestricted|god) mode\b|\b(rules|restrictions|filters) (no longer apply|are (lifted|disabled|off))\b/i,
  // persona
  /\b(you are now|act as|pretend (to be|you are)|role-?play|stay in character|in character|jailbr[eo]ak|\bDAN\b|do anything now|as your (\w+ ){0,2}(agent|lawyer|doctor|advisor|adviser|girlfriend|boyfriend|friend|grandmother|teacher)|in my role as|i am now)\b/i,
  // extraction
  /\b(system prompt|hidden (instructions|text|rules)|developer message|my instructions|your instructions|chain of thought|internal reasoning|configuration|context window|verbatim|word for word|(everything|text|words|lines?) (above|before|at the top)|above this line)\b/i,
  // injected instructions being followed
  /\b(the (page|document|doc|entry|tool result|faq|site|article|snippet|email|search result|retrieved text|forum|post) (says|said|tells|told|instructs|asks|contains))\b|\b(note|message) (to|for) (the )?(ai|assistants?|bots?)\b/i,
];

export const DENSE_FEATURES = [
  'bias',
  'overlap',
  'domain_cos',
  'attack_cos',
  'off_task_cos',
  'small_talk_cos',
  'pattern_override',
  'pattern_persona',
  'pattern_extraction',
  'pattern_injection',
  'unknown',
  'instruction_echo',
  'foreign_names',
  'domain_cos_x_overlap',
  'short',
] as const;

const NF = DENSE_FEATURES.length;

export interface MonitorModelJSON {
  version: 2;
  buckets: number;
  weights: number[];
  threshold: number;
  prototypes: Prototypes;
  vectors: WordVectorsJSON;
  /** How the model was trained and how it scored, for `monitor train` output and the docs. */
  calibration?: Record<string, unknown>;
  hidden?: { W: number[]; b: number[]; v: number[] };
}

/** A small hidden layer over the dense features: `v · tanh(W · dense + b)` is added to the linear score. */
export interface HiddenLayer {
  /** units × dense features, row by row. */
  W: Float64Array;
  b: Float64Array;
  v: Float64Array;
}

/** Sparse features: indices and values (the dense ones first). */
export interface Features {
  idx: number[];
  val: number[];
}

const TOKEN = /[\p{L}\p{N}]+/gu;

/**
 * A logistic-regression classifier over domain-relative features (word overlap with the domain, nearest-section
 * similarity, nearest attack / off-task / small-talk example, attack patterns, repeated instructions, names the
 * docs never mention) and hashed word and word-pair features. Its output is the probability that a sentence is off
 * task or an attack, for the domain it is given. Scoring reuses its buffers: no per-call vectors or maps.
 */
export class MonitorModel {
  readonly attack: VectorSet;
  readonly offTask: VectorSet;
  readonly smallTalk: VectorSet;
  private readonly vec: Float32Array;
  private readonly dense = new Float64Array(NF);
  private readonly counts: Float64Array;
  private touched = new Int32Array(256);

  constructor(
    readonly wv: WordVectors,
    readonly prototypes: Prototypes,
    public weights: Float64Array,
    readonly buckets: number,
    public threshold: number,
    public calibration: Record<string, unknown> = {},
    readonly hidden?: HiddenLayer,
  ) {
    const vecs = (xs: readonly string[]) =>
      new VectorSet(
        wv.dims,
        xs.flatMap((x) => {
          const v = wv.sentence(words(plain(x)));
          return v ? [v] : [];
        }),
      );
    this.attack = vecs(prototypes.attack);
    this.offTask = vecs(prototypes.offTask);
    this.smallTalk = vecs(prototypes.smallTalk);
    this.vec = new Float32Array(wv.dims);
    this.counts = new Float64Array(buckets);
  }

  get dims(): number {
    return NF + this.buckets;
  }

  /**
   * Fills `dense` and the hashed counts for a sentence; returns the number of touched buckets (their indices in
   * `touched`, counts in `counts`) and the norm of the counts. `exclude` skips the prototypes equal to that text.
   */
  private compute(sentence: string, domain: Domain, exclude?: string): { n: number; norm: number } {
    const text = plain(sentence);
    const tokens = text.match(TOKEN) ?? [];
    const ws = words(text);
    const v = this.wv.sentenceInto(ws, this.vec) ? this.vec : undefined;
    let skip: [number, number, number] = [-1, -1, -1];
    if (exclude !== undefined) skip = this.prototypeIndex(exclude);
    let known = 0;
    let unknown = 0;
    for (const w of ws) {
      if (domain.vocab.has(w)) known++;
      if (!this.wv.has(w)) unknown++;
    }
    let pairs = 0;
    let echoed = 0;
    for (let i = 1; i < ws.length; i++) {
      pairs++;
      if (domain.instructionPairs.has(pairHash(ws[i - 1]!, ws[i]!))) echoed++;
    }
    // Capitalised words past the first that the docs never use: places, people, brands of another topic.
    let names = 0;
    for (let i = 1; i < tokens.length; i++) {
      const t = tokens[i]!;
      const c = t.charCodeAt(0);
      if (t.length < 2 || c < 65 || c > 90) continue;
      const lw = t.toLowerCase();
      if (!STOP.has(lw) && !domain.vocab.has(lw) && !domain.vocab.has(lw.replace(/s$/, ''))) names++;
    }
    const overlap = ws.length ? known / ws.length : 1;
    const dcos = v ? domain.vectors.max(v) : 0;
    const d = this.dense;
    d[0] = 1;
    d[1] = overlap;
    d[2] = dcos;
    d[3] = v ? this.attack.max(v, skip[0]) : 0;
    d[4] = v ? this.offTask.max(v, skip[1]) : 0;
    d[5] = v ? this.smallTalk.max(v, skip[2]) : 0;
    for (let k = 0; k < PATTERNS.length; k++) d[6 + k] = PATTERNS[k]!.test(text) ? 1 : 0;
    d[10] = ws.length ? unknown / ws.length : 0;
    d[11] = pairs ? echoed / pairs : 0;
    d[12] = Math.min(1, names / 3);
    d[13] = dcos * overlap;
    d[14] = 1 / (1 + ws.length);
    // Hashed words and word pairs (all tokens, stop words included: "as your", "above this").
    if (this.touched.length < tokens.length * 2) this.touched = new Int32Array(tokens.length * 2);
    let n = 0;
    let prev = 0;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!.toLowerCase();
      const h = fnv1a(t);
      n = this.bump(h % this.buckets, n);
      if (i > 0) n = this.bump(fnv1a(t, fnv1a(' ', prev)) % this.buckets, n);
      prev = h;
    }
    let norm = 0;
    for (let k = 0; k < n; k++) {
      const c = this.counts[this.touched[k]!]!;
      norm += c * c;
    }
    return { n, norm: Math.sqrt(norm) || 1 };
  }

  private bump(b: number, n: number): number {
    if (this.counts[b] === 0) this.touched[n++] = b;
    this.counts[b]! += 1;
    return n;
  }

  private clear(n: number): void {
    for (let k = 0; k < n; k++) this.counts[this.touched[k]!] = 0;
  }

  private prototypeIndex(text: string): [number, number, number] {
    const p = this.prototypes;
    return [p.attack.indexOf(text), p.offTask.indexOf(text), p.smallTalk.indexOf(text)];
  }

  /** Sparse features of a sentence (for training). `exclude` skips one prototype text (leave-one-out). */
  features(sentence: string, domain: Domain, exclude?: string): Features {
    const { n, norm } = this.compute(sentence, domain, exclude);
    const idx: number[] = [];
    const val: number[] = [];
    for (let i = 0; i < NF; i++) {
      idx.push(i);
      val.push(this.dense[i]!);
    }
    for (let k = 0; k < n; k++) {
      const b = this.touched[k]!;
      idx.push(NF + b);
      val.push(this.counts[b]! / norm);
    }
    this.clear(n);
    return { idx, val };
  }

  /** Probability that the sentence is off task or an attack. */
  score(sentence: string, domain: Domain): number {
    const { n, norm } = this.compute(sentence, domain);
    const w = this.weights;
    let z = this.hiddenScore(this.dense);
    for (let i = 0; i < NF; i++) z += w[i]! * this.dense[i]!;
    for (let k = 0; k < n; k++) {
      const b = this.touched[k]!;
      z += (w[NF + b]! * this.counts[b]!) / norm;
    }
    this.clear(n);
    return 1 / (1 + Math.exp(-z));
  }

  /** The hidden layer's share of the score for dense features `d` (its units' outputs into `out`). */
  private hiddenScore(d: ArrayLike<number>, out?: Float64Array): number {
    const hid = this.hidden;
    if (!hid) return 0;
    let z = 0;
    for (let j = 0, off = 0; j < hid.v.length; j++, off += NF) {
      let a = hid.b[j]!;
      for (let i = 0; i < NF; i++) a += hid.W[off + i]! * d[i]!;
      const t = Math.tanh(a);
      if (out) out[j] = t;
      z += hid.v[j]! * t;
    }
    return z;
  }

  /** Probability from sparse features (dense ones first); `hidden` receives the hidden units' outputs. */
  prob(f: Features, hidden?: Float64Array): number {
    let z = this.hid(f, hidden);
    for (let k = 0; k < f.idx.length; k++) z += this.weights[f.idx[k]!]! * f.val[k]!;
    return 1 / (1 + Math.exp(-z));
  }

  private hid(f: Features, out?: Float64Array): number {
    return this.hidden ? this.hiddenScore(f.val, out) : 0;
  }

  toJSON(): MonitorModelJSON {
    return {
      version: 2,
      buckets: this.buckets,
      weights: [...this.weights].map((w) => Math.round(w * 1e5) / 1e5),
      threshold: this.threshold,
      prototypes: this.prototypes,
      vectors: this.wv.toJSON(),
      calibration: this.calibration,
      ...(this.hidden
        ? {
            hidden: {
              W: [...this.hidden.W].map((x) => Math.round(x * 1e5) / 1e5),
              b: [...this.hidden.b].map((x) => Math.round(x * 1e5) / 1e5),
              v: [...this.hidden.v].map((x) => Math.round(x * 1e5) / 1e5),
            },
          }
        : {}),
    };
  }

  static fromJSON(j: MonitorModelJSON): MonitorModel {
    if (j.version !== 2)
      throw new Error(
        `unsupported monitor model version ${String(j.version)}: retrain it with harmonia monitor train`,
      );
    return new MonitorModel(
      WordVectors.fromJSON(j.vectors),
      j.prototypes,
      Float64Array.from(j.weights),
      j.buckets,
      j.threshold,
      j.calibration ?? {},
      j.hidden
        ? {
            W: Float64Array.from(j.hidden.W),
            b: Float64Array.from(j.hidden.b),
            v: Float64Array.from(j.hidden.v),
          }
        : undefined,
    );
  }
}
