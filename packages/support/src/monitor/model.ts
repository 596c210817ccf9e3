import { fnv1a, plain, words } from './text.js';
import { dot, WordVectors } from './vectors.js';

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

/** The domain, ready for scoring: its vocabulary and one vector per doc section. */
export class Domain {
  readonly vocab: Set<string>;
  readonly vectors: Float32Array[];

  constructor(sources: DomainSources, wv: WordVectors) {
    const units = [sources.instructions ?? '', ...sources.docs, ...(sources.tools ?? [])].filter((s) =>
      s.trim(),
    );
    this.vocab = new Set(units.flatMap((u) => words(plain(u))));
    // Each section, and each of its paragraphs: an answer usually paraphrases one paragraph.
    const pieces = units.flatMap((u) => [u, ...u.split(/\n\s*\n/).filter((p) => p.length > 40)]);
    this.vectors = pieces.flatMap((p) => {
      const v = wv.sentence(words(plain(p)));
      return v ? [v] : [];
    });
  }
}

const ATTACK_RE: readonly RegExp[] = [
  /\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|rules?|guidelines?|polic(y|ies)|prompt|developer message)\b/i,
  /\b(you are now|act as|pretend (to be|you are)|role-?play|stay in character|jailbr[eo]ak|developer mode|\bDAN\b|do anything now)\b/i,
  /\b(system prompt|hidden instructions|developer message|my instructions|chain of thought|internal reasoning)\b/i,
  /\b(the (page|document|entry|tool result|faq|site) (says|tells|instructs|asks))\b/i,
];

export const DENSE_FEATURES = [
  'bias',
  'overlap',
  'domain_cos',
  'attack_cos',
  'off_task_cos',
  'small_talk_cos',
  'attack_pattern',
  'unknown',
] as const;

export interface MonitorModelJSON {
  version: 1;
  buckets: number;
  weights: number[];
  threshold: number;
  prototypes: Prototypes;
  vectors: ReturnType<WordVectors['toJSON']>;
  /** How the model was trained and how it scored, for `monitor train` output and the docs. */
  calibration?: Record<string, unknown>;
}

/**
 * A logistic-regression classifier over domain-relative features (word overlap with the domain, nearest-section
 * similarity, nearest attack / off-task / small-talk example) and hashed word and word-pair features. Its output
 * is the probability that a sentence is off task or an attack, for the domain it is given.
 */
export class MonitorModel {
  readonly attack: Float32Array[];
  readonly offTask: Float32Array[];
  readonly smallTalk: Float32Array[];

  constructor(
    readonly wv: WordVectors,
    readonly prototypes: Prototypes,
    public weights: Float64Array,
    readonly buckets: number,
    public threshold: number,
    public calibration: Record<string, unknown> = {},
  ) {
    const vecs = (xs: readonly string[]) =>
      xs.flatMap((x) => {
        const v = wv.sentence(words(plain(x)));
        return v ? [v] : [];
      });
    this.attack = vecs(prototypes.attack);
    this.offTask = vecs(prototypes.offTask);
    this.smallTalk = vecs(prototypes.smallTalk);
  }

  get dims(): number {
    return DENSE_FEATURES.length + this.buckets;
  }

  /** Sparse features of a sentence: indices and values. `exclude` skips one prototype text (leave-one-out). */
  features(sentence: string, domain: Domain, exclude?: string): { idx: number[]; val: number[] } {
    const text = plain(sentence);
    const ws = words(text);
    const v = this.wv.sentence(ws);
    const max = (set: Float32Array[]) => {
      if (!v) return 0;
      let m = 0;
      for (const p of set) m = Math.max(m, dot(v, p));
      return m;
    };
    const self = exclude !== undefined && v ? this.wv.sentence(words(plain(exclude))) : undefined;
    // Leave-one-out: a training example must not match itself among the prototypes.
    const near = (set: Float32Array[]) => {
      if (!v) return 0;
      let m = 0;
      for (const p of set) {
        if (self && dot(self, p) > 0.9999) continue;
        m = Math.max(m, dot(v, p));
      }
      return m;
    };
    const known = ws.filter((w) => domain.vocab.has(w)).length;
    const dense = [
      1,
      ws.length ? known / ws.length : 1,
      max(domain.vectors),
      near(this.attack),
      near(this.offTask),
      near(this.smallTalk),
      ATTACK_RE.some((r) => r.test(text)) ? 1 : 0,
      ws.length ? ws.filter((w) => !this.wv.has(w)).length / ws.length : 0,
    ];
    const idx: number[] = dense.map((_, i) => i);
    const val: number[] = dense;
    const grams = new Map<number, number>();
    const all = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    for (let i = 0; i < all.length; i++) {
      const uni = DENSE_FEATURES.length + (fnv1a(all[i]!) % this.buckets);
      grams.set(uni, (grams.get(uni) ?? 0) + 1);
      if (i > 0) {
        const bi = DENSE_FEATURES.length + (fnv1a(`${all[i - 1]} ${all[i]}`) % this.buckets);
        grams.set(bi, (grams.get(bi) ?? 0) + 1);
      }
    }
    const norm = Math.sqrt([...grams.values()].reduce((s, x) => s + x * x, 0)) || 1;
    for (const [i, x] of grams) {
      idx.push(i);
      val.push(x / norm);
    }
    return { idx, val };
  }

  /** Probability that the sentence is off task or an attack. */
  score(sentence: string, domain: Domain): number {
    return this.prob(this.features(sentence, domain));
  }

  prob(f: { idx: number[]; val: number[] }): number {
    let z = 0;
    for (let k = 0; k < f.idx.length; k++) z += this.weights[f.idx[k]!]! * f.val[k]!;
    return 1 / (1 + Math.exp(-z));
  }

  toJSON(): MonitorModelJSON {
    return {
      version: 1,
      buckets: this.buckets,
      weights: [...this.weights].map((w) => Math.round(w * 1e5) / 1e5),
      threshold: this.threshold,
      prototypes: this.prototypes,
      vectors: this.wv.toJSON(),
      calibration: this.calibration,
    };
  }

  static fromJSON(j: MonitorModelJSON): MonitorModel {
    if (j.version !== 1) throw new Error(`unsupported monitor model version ${String(j.version)}`);
    return new MonitorModel(
      WordVectors.fromJSON(j.vectors),
      j.prototypes,
      Float64Array.from(j.weights),
      j.buckets,
      j.threshold,
      j.calibration ?? {},
    );
  }
}
