import type { ReasoningEffort } from '@harmonia/core';
import { type FeatureSpec, type Features, featurize } from './features.js';
import { decodeInt8, defaultWeights, type HeadWeights, type WeightsFile } from './weights.js';

export const EFFORTS: readonly ReasoningEffort[] = ['low', 'medium', 'high'];

/** What the classifier says about one prompt. */
export interface Prediction {
  /** Probability that the small model does not suffice (120b needed). */
  pLarge: number;
  /** Ordinal effort probabilities; they sum to 1. */
  effortProbs: Record<ReasoningEffort, number>;
  /** The most likely effort. */
  effort: ReasoningEffort;
  /** Raw effort score (higher = more reasoning). */
  effortScore: number;
  /** How chat/support-like the prompt looks (0 when the weights have no chat expert). */
  chatGate: number;
}

export const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Linear score of a head over features (hashed weights + dense weights + bias). */
export function linearScore(
  f: Features,
  hashed: ArrayLike<number>,
  dense: ArrayLike<number>,
  bias: number,
): number {
  let s = bias;
  const { indices, values } = f;
  for (let k = 0; k < indices.length; k++)
    s += (hashed[indices[k] as number] as number) * (values[k] as number);
  for (let k = 0; k < f.dense.length; k++) s += (dense[k] as number) * (f.dense[k] as number);
  return s;
}

export function effortFromScore(score: number, cuts: readonly [number, number]) {
  const gtLow = sigmoid(score - cuts[0]);
  const gtMed = Math.min(gtLow, sigmoid(score - cuts[1]));
  const probs: Record<ReasoningEffort, number> = { low: 1 - gtLow, medium: gtLow - gtMed, high: gtMed };
  let effort: ReasoningEffort = 'low';
  for (const e of EFFORTS) if (probs[e] > probs[effort]) effort = e;
  return { probs, effort };
}

interface DecodedHead {
  hashed: Float32Array;
  dense: number[];
  bias: number;
}

const decode = (h: HeadWeights, n: number): DecodedHead => ({
  hashed: decodeInt8(h, n),
  dense: h.dense,
  bias: h.bias,
});

interface Domain {
  mask: number;
  k: number;
  w: Float32Array;
  bias: number[];
  rates: number[];
  mix: number;
  z: Float64Array;
}

export const logit = (p: number): number => {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.log(q / (1 - q));
};

/** Expected 120b-needed rate under the domain head's subject distribution. */
function domainRate(d: Domain, f: Features): number {
  const { z, k: K, w } = d;
  for (let k = 0; k < K; k++) z[k] = d.bias[k] as number;
  for (let j = 0; j < f.indices.length; j++) {
    const base = ((f.indices[j] as number) & d.mask) * K;
    const v = f.values[j] as number;
    for (let k = 0; k < K; k++) z[k] = (z[k] as number) + (w[base + k] as number) * v;
  }
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < K; k++) max = Math.max(max, z[k] as number);
  let sum = 0;
  let r = 0;
  for (let k = 0; k < K; k++) {
    const e = Math.exp((z[k] as number) - max);
    sum += e;
    r += e * (d.rates[k] as number);
  }
  return r / sum;
}

interface Expert {
  size: DecodedHead;
  weak?: DecodedHead;
  effort: DecodedHead;
  cuts: [number, number];
}

/** The two-headed classifier (optionally two experts mixed by a gate). Decodes its weights once. */
export class RouterModel {
  readonly spec: FeatureSpec;
  private readonly main: Expert;
  private readonly chat: (Expert & { gate: DecodedHead }) | undefined;
  private readonly domain: Domain | undefined;
  private readonly sources:
    | { gate: DecodedHead[]; experts: { size: DecodedHead; weak: DecodedHead; a: number; b: number }[] }
    | undefined;

  constructor(readonly weights: WeightsFile) {
    this.spec = weights.featureSpec;
    const n = this.spec.buckets;
    const { size, effort, chat } = weights.heads;
    this.main = { size: decode(size, n), effort: decode(effort, n), cuts: effort.cuts };
    if (weights.heads.weak) this.main.weak = decode(weights.heads.weak, n);
    this.chat = chat && {
      gate: decode(chat.gate, n),
      size: decode(chat.size, n),
      effort: decode(chat.effort, n),
      cuts: chat.effort.cuts,
    };
    const dom = weights.heads.domain;
    this.domain = dom && {
      mask: dom.buckets - 1,
      k: dom.subjects.length,
      w: decodeInt8(dom, dom.buckets * dom.subjects.length),
      bias: dom.bias,
      rates: dom.rates,
      mix: dom.mix,
      z: new Float64Array(dom.subjects.length),
    };
    const src = weights.heads.sources;
    this.sources = src && {
      gate: src.gate.map((g) => decode(g, n)),
      experts: src.experts.map((e) => ({
        size: decode(e.size, n),
        weak: decode(e.weak, n),
        a: e.scale.a,
        b: e.scale.b,
      })),
    };
  }

  predict(text: string): Prediction {
    return this.predictFeatures(featurize(text, this.spec));
  }

  private expert(e: Expert, f: Features) {
    let pLarge = sigmoid(linearScore(f, e.size.hashed, e.size.dense, e.size.bias));
    // Expected gain of 120b over 20b, mapped from [−1, 1] to [0, 1].
    if (e.weak) pLarge = (1 + pLarge - sigmoid(linearScore(f, e.weak.hashed, e.weak.dense, e.weak.bias))) / 2;
    const effortScore = linearScore(f, e.effort.hashed, e.effort.dense, 0);
    return { pLarge, effortScore, probs: effortFromScore(effortScore, e.cuts).probs };
  }

  /** The main (benchmark) expert's p(120b) with its domain prior, before Platt scaling and the gate. */
  mainExpertP(text: string): number {
    return this.mainP(featurize(text, this.spec));
  }

  private mainP(f: Features, pExpert = this.expert(this.main, f).pLarge): number {
    const d = this.domain;
    return d ? sigmoid(d.mix * logit(domainRate(d, f)) + (1 - d.mix) * logit(pExpert)) : pExpert;
  }

  /** The source gate's weights over [main expert, source experts…] for these features. */
  sourceGate(f: Features): number[] {
    const src = this.sources;
    if (!src) return [1];
    const z = [0, ...src.gate.map((g) => linearScore(f, g.hashed, g.dense, g.bias))];
    const max = Math.max(...z);
    const e = z.map((x) => Math.exp(x - max));
    const sum = e.reduce((s, x) => s + x, 0);
    return e.map((x) => x / sum);
  }

  private mixSources(f: Features, pMain: number): number {
    const src = this.sources;
    if (!src) return pMain;
    const g = this.sourceGate(f);
    let p = (g[0] as number) * pMain;
    src.experts.forEach((e, k) => {
      const gk = g[k + 1] as number;
      if (gk < 1e-4) return;
      const raw =
        (1 +
          sigmoid(linearScore(f, e.size.hashed, e.size.dense, e.size.bias)) -
          sigmoid(linearScore(f, e.weak.hashed, e.weak.dense, e.weak.bias))) /
        2;
      p += gk * sigmoid(e.a * logit(raw) + e.b);
    });
    return p;
  }

  /** One source expert's expected gain of 120b mapped to [0, 1], before its Platt scaling; for training. */
  sourceExpertP(text: string, k: number): number {
    const e = this.sources?.experts[k];
    if (!e) throw new RangeError(`no source expert ${k}`);
    const f = featurize(text, this.spec);
    return (
      (1 +
        sigmoid(linearScore(f, e.size.hashed, e.size.dense, e.size.bias)) -
        sigmoid(linearScore(f, e.weak.hashed, e.weak.dense, e.weak.bias))) /
      2
    );
  }

  predictFeatures(f: Features): Prediction {
    const a = this.expert(this.main, f);
    a.pLarge = this.mainP(f, a.pLarge);
    const ws = this.weights.heads.weakScale;
    if (ws) a.pLarge = sigmoid(ws.a * logit(a.pLarge) + ws.b);
    if (this.sources) a.pLarge = this.mixSources(f, a.pLarge);
    let { pLarge, effortScore, probs } = a;
    let gate = 0;
    if (this.chat) {
      gate = sigmoid(linearScore(f, this.chat.gate.hashed, this.chat.gate.dense, this.chat.gate.bias));
      const b = this.expert(this.chat, f);
      pLarge = (1 - gate) * a.pLarge + gate * b.pLarge;
      effortScore = (1 - gate) * a.effortScore + gate * b.effortScore;
      probs = {
        low: (1 - gate) * a.probs.low + gate * b.probs.low,
        medium: (1 - gate) * a.probs.medium + gate * b.probs.medium,
        high: (1 - gate) * a.probs.high + gate * b.probs.high,
      };
    }
    let effort: ReasoningEffort = 'low';
    for (const e of EFFORTS) if (probs[e] > probs[effort]) effort = e;
    return { pLarge, effortProbs: probs, effort, effortScore, chatGate: gate };
  }
}

let shippedModel: RouterModel | undefined;
/** The model with the weights shipped in this package, loaded on first use. */
export function defaultModel(): RouterModel {
  shippedModel ??= new RouterModel(defaultWeights());
  return shippedModel;
}
