import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FeatureSpec } from './features.js';

/** One linear head: hashed weights stored as int8 (× `scale`) in base64, dense weights as plain numbers. */
export interface HeadWeights {
  bias: number;
  scale: number;
  int8: string;
  dense: number[];
}

/** A point of the size head's calibration curve, measured on the held-out calibration split. */
export interface CalibrationPoint {
  /** Route to 120b when p(120b) >= threshold. */
  threshold: number;
  /** Share of calls that go to 120b at this threshold. */
  strongShare: number;
  /** Performance gap recovered (0 = always-20b quality, 1 = always-120b quality). */
  pgr: number;
}

export interface DomainWeights {
  buckets: number;
  subjects: string[];
  rates: number[];
  bias: number[];
  mix: number;
  /** buckets × subjects int8 weights, bucket-major. */
  scale: number;
  int8: string;
}

export interface SourceExperts {
  names: string[];
  gate: HeadWeights[];
  experts: { size: HeadWeights; weak: HeadWeights; scale: { a: number; b: number } }[];
}

export interface WeightsFile {
  schemaVersion: 1;
  featureSpec: FeatureSpec;
  heads: {
    /** p(120b needed): logistic. */
    size: HeadWeights;
    /**
     * Optional "20b wins" head of the main expert: p(only the small model answers correctly). With it the main
     * expert's p(120b) is (1 + p_size − p_weak) / 2, which ranks by the expected gain of calling 120b (RouteLLM's
     * APGR counts the prompts 120b gets wrong and 20b right against it).
     */
    weak?: HeadWeights;
    /** Platt scaling of the main expert's p(120b) when `weak` is present: σ(a·logit(p) + b). */
    weakScale?: { a: number; b: number };
    /** Ordinal effort: p(effort > low) = σ(s − cuts[0]), p(effort > medium) = σ(s − cuts[1]); `bias` is 0. */
    effort: HeadWeights & { cuts: [number, number] };
    /**
     * Optional experts for chat/support-like prompts (trained on explicit labels), mixed in by the gate:
     * p = (1 − g)·p_main + g·p_chat with g = σ(gate score).
     */
    chat?: { gate: HeadWeights; size: HeadWeights; effort: HeadWeights & { cuts: [number, number] } };
    /**
     * Optional domain head for the main expert: a softmax over the training subjects (features folded into
     * `buckets`), giving an expected 120b-needed rate r = Σ p(subject)·rate; the main size probability is then
     * σ(mix·logit(r) + (1 − mix)·logit(p_size)). With a `weak` head the rates are each subject's expected gain
     * of 120b over 20b mapped to [0, 1], (1 + acc_120b − acc_20b) / 2, on the same scale as the expert.
     */
    domain?: DomainWeights;
    /**
     * Optional per-source experts for outcome-labelled prompts of other kinds than the main expert's largest
     * source (e.g. math word problems beside multiple-choice knowledge questions): each has its own size and
     * 20b-wins heads and a Platt scaling to p(only 120b right). A softmax gate over `names` (gate[k−1] scores
     * names[k] against names[0], which is the main expert) mixes them: p = Σ g_k·p_k.
     */
    sources?: SourceExperts;
  };
  calibration: {
    /** Sorted p(120b) scores on a reference mix, for `strongShare` targets (quantiles). */
    scoreQuantiles: number[];
    curve: CalibrationPoint[];
    /** Always-20b and always-120b accuracy on the calibration rows, to turn quality targets into PGR. */
    weakPerformance: number;
    strongPerformance: number;
  };
  /** The operating point used when a policy sets none. */
  defaults: { sizeThreshold: number; qualityTarget: number };
  training: {
    seed: number;
    epochs: number;
    l2: number;
    holdoutFraction: number;
    data: { name: string; sha256: string; rows: number }[];
  };
}

/** Raised for a weights file that cannot be used; says what is wrong and with which file. */
export class RouterWeightsError extends Error {
  override name = 'RouterWeightsError';
}

export function encodeInt8(weights: Float64Array | Float32Array): { scale: number; int8: string } {
  let max = 0;
  for (const w of weights) max = Math.max(max, Math.abs(w));
  const scale = max > 0 ? max / 127 : 1;
  const q = new Int8Array(weights.length);
  for (let i = 0; i < weights.length; i++) q[i] = Math.round((weights[i] as number) / scale);
  return { scale, int8: Buffer.from(q.buffer, q.byteOffset, q.byteLength).toString('base64') };
}

export function decodeInt8(head: { scale: number; int8: string }, length: number): Float32Array {
  const bytes = Buffer.from(head.int8, 'base64');
  if (bytes.length !== length)
    throw new RouterWeightsError(`head has ${bytes.length} hashed weights, feature spec says ${length}`);
  const q = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = (q[i] as number) * head.scale;
  return out;
}

/** Checks the parts of a parsed weights file that routing relies on. */
export function validateWeights(value: unknown, source: string): WeightsFile {
  const w = value as Partial<WeightsFile> | null;
  const bad = (why: string): never => {
    throw new RouterWeightsError(`${source}: not a router weights file (${why})`);
  };
  if (!w || typeof w !== 'object') return bad('not a JSON object');
  if (w.schemaVersion !== 1) return bad(`schemaVersion ${String(w.schemaVersion)}, expected 1`);
  const spec = w.featureSpec;
  if (
    spec?.hash !== 'fnv1a32' ||
    !Number.isInteger(spec.buckets) ||
    (spec.buckets & (spec.buckets - 1)) !== 0
  )
    return bad('featureSpec missing or buckets not a power of two');
  for (const name of ['size', 'effort'] as const) {
    const h = w.heads?.[name];
    if (!h || typeof h.int8 !== 'string' || !Array.isArray(h.dense) || h.dense.length !== spec.dense.length)
      return bad(`heads.${name} missing or its dense weights do not match featureSpec.dense`);
  }
  const weak = w.heads?.weak;
  if (
    weak !== undefined &&
    (typeof weak.int8 !== 'string' || !Array.isArray(weak.dense) || weak.dense.length !== spec.dense.length)
  )
    return bad('heads.weak malformed');
  const ws = w.heads?.weakScale;
  if (ws !== undefined && !(typeof ws.a === 'number' && ws.a > 0 && typeof ws.b === 'number'))
    return bad('heads.weakScale malformed');
  if (!Array.isArray(w.heads?.effort.cuts) || w.heads.effort.cuts.length !== 2)
    return bad('heads.effort.cuts');
  const dom = w.heads.domain;
  if (
    dom !== undefined &&
    (!Array.isArray(dom.subjects) ||
      dom.rates?.length !== dom.subjects.length ||
      dom.bias?.length !== dom.subjects.length ||
      !Number.isInteger(dom.buckets) ||
      (dom.buckets & (dom.buckets - 1)) !== 0 ||
      typeof dom.int8 !== 'string')
  )
    return bad('heads.domain malformed');
  const src = w.heads.sources;
  const headOk = (h: HeadWeights | undefined) =>
    !!h && typeof h.int8 === 'string' && Array.isArray(h.dense) && h.dense.length === spec.dense.length;
  if (
    src !== undefined &&
    (!Array.isArray(src.names) ||
      src.names.length < 2 ||
      src.gate?.length !== src.names.length - 1 ||
      src.experts?.length !== src.names.length - 1 ||
      !src.gate.every(headOk) ||
      !src.experts.every((e) => headOk(e.size) && headOk(e.weak) && e.scale?.a > 0))
  )
    return bad('heads.sources malformed');
  if (!w.calibration || !Array.isArray(w.calibration.curve)) return bad('calibration missing');
  return w as WeightsFile;
}

export function readWeightsFile(path: string): WeightsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RouterWeightsError(`cannot read router weights ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new RouterWeightsError(`${path}: invalid JSON (${(err as Error).message})`);
  }
  return validateWeights(parsed, path);
}

/** Path of the weights shipped with the package (works from `src/` under vitest and from `dist/`). */
export const DEFAULT_WEIGHTS_PATH = fileURLToPath(new URL('../weights/router-weights.json', import.meta.url));

let shipped: WeightsFile | undefined;
/** The shipped weights, read on first use. */
export function defaultWeights(): WeightsFile {
  shipped ??= readWeightsFile(DEFAULT_WEIGHTS_PATH);
  return shipped;
}
