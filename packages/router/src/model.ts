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
  /** Raw effort score (higher = more reasoning); compare with the head's cut-points. */
  effortScore: number;
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

/** The two-headed classifier. Decodes its weights once, on construction. */
export class RouterModel {
  readonly spec: FeatureSpec;
  private readonly size: DecodedHead;
  private readonly effort: DecodedHead;
  private readonly cuts: [number, number];

  constructor(readonly weights: WeightsFile) {
    this.spec = weights.featureSpec;
    this.size = decode(weights.heads.size, this.spec.buckets);
    this.effort = decode(weights.heads.effort, this.spec.buckets);
    this.cuts = weights.heads.effort.cuts;
  }

  predict(text: string): Prediction {
    return this.predictFeatures(featurize(text, this.spec));
  }

  predictFeatures(f: Features): Prediction {
    const pLarge = sigmoid(linearScore(f, this.size.hashed, this.size.dense, this.size.bias));
    const effortScore = linearScore(f, this.effort.hashed, this.effort.dense, 0);
    const { probs, effort } = effortFromScore(effortScore, this.cuts);
    return { pLarge, effortProbs: probs, effort, effortScore };
  }
}

let shippedModel: RouterModel | undefined;
/** The model with the weights shipped in this package, loaded on first use. */
export function defaultModel(): RouterModel {
  shippedModel ??= new RouterModel(defaultWeights());
  return shippedModel;
}
