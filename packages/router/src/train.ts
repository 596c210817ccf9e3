import { type Dataset, type Example, splitOf, toExamples } from './data.js';
import { DEFAULT_FEATURE_SPEC, type FeatureSpec, type Features, featurize } from './features.js';
import { mulberry32, shuffleInPlace } from './hash.js';
import { binaryRoutingMetrics, type RoutingOutcome } from './metrics.js';
import { logit, RouterModel, sigmoid } from './model.js';
import {
  type CalibrationPoint,
  type DomainWeights,
  encodeInt8,
  type HeadWeights,
  type SourceExperts,
  type WeightsFile,
} from './weights.js';

export interface TrainOptions {
  seed?: number;
  epochs?: number;
  /** Initial SGD step; decays as lr / (1 + epoch). */
  learningRate?: number;
  l2?: number;
  /** Share of rows held out for `eval` (by a hash of the row, so `eval` with the same value sees the same split). */
  holdoutFraction?: number;
  /** Share of the remaining rows used to calibrate thresholds instead of training. */
  calibrationFraction?: number;
  /** The default operating point: routed quality ≥ this share of always-120b quality on the calibration split. */
  qualityTarget?: number;
  /** Sources with fewer rows than this share of all rows are up-weighted to it (at most ×8; default 0 = off). */
  minSourceShare?: number;
  featureSpec?: FeatureSpec;
  /**
   * Size labels are single noisy outcomes; rows that name a `subject` train towards
   * `α·label + (1−α)·(that subject's 120b-needed rate on the training split)`, α = 1 − subjectSmoothing.
   * Default 0: the domain head carries the subject prior, and the expert learns from each row's own outcome.
   */
  subjectSmoothing?: number;
  /** Likewise towards the row's source rate, for size-labeled rows without an informative subject. */
  sourceSmoothing?: number;
  /** Initial SGD step for the chat expert and the gate (hard labels: a smaller step than the soft-label heads). */
  chatLearningRate?: number;
  /** Weight of the domain head (subject prior) in the main size probability; 0 = no domain head. */
  domainMix?: number;
  /** Buckets the domain head folds the features into. */
  domainBuckets?: number;
  /** Step of the dense signals and cut-points relative to the hashed weights. */
  denseLearningRate?: number;
  /**
   * Also fit a "20b wins" head on outcome rows (only the small model correct), so the main expert ranks by the
   * expected gain p(120b wins) − p(20b wins) rather than by p(120b wins) alone.
   */
  weakHead?: boolean;
  /** Initial SGD step of the benchmark expert's size (and 20b-wins) heads; default: `learningRate`. */
  sizeLearningRate?: number;
  /**
   * Outcome-labelled sources with at least this many training rows get their own expert beside the main one
   * (the largest source), mixed by a learned source gate; 0 = one expert for all outcome rows.
   */
  sourceExpertMinRows?: number;
}

export interface TrainResult {
  weights: WeightsFile;
  counts: { train: number; calibration: number; holdout: number; sizeLabeled: number; effortLabeled: number };
}

const DEFAULTS = {
  seed: 1,
  epochs: 10,
  learningRate: 5,
  l2: 1e-6,
  holdoutFraction: 0.2,
  calibrationFraction: 0.15,
  qualityTarget: 0.95,
  minSourceShare: 0,
  denseLearningRate: 0.2,
  chatLearningRate: 1,
  domainMix: 0.8,
  domainBuckets: 2048,
  subjectSmoothing: 0,
  sourceSmoothing: 0.5,
  // Chosen by 5-fold CV on the rows the default held-out split trains on (docs/benchmarks/router.md).
  weakHead: true,
  sizeLearningRate: 1,
  sourceExpertMinRows: 200,
};

interface Prepared {
  ex: Example;
  f: Features;
  weight: number;
  sizeTarget?: number;
  /** 1 when only the small model answered correctly (outcome rows only). */
  weakTarget?: number;
  /** The row carries an explicit `model` label (chat/support traffic). */
  explicitSize: boolean;
}

function sourceRates(examples: readonly Example[]): Map<string, number> {
  const acc = new Map<string, [number, number]>();
  for (const e of examples) {
    if (e.size === undefined || !e.sizeFromOutcome) continue;
    const a = acc.get(e.source) ?? [0, 0];
    a[0] += e.size;
    a[1] += 1;
    acc.set(e.source, a);
  }
  return new Map([...acc].map(([s, [k, n]]) => [s, k / n]));
}

/** Per-subject rate of the size label, for subjects with enough rows to trust it. */
function subjectRates(examples: readonly Example[], minRows = 20): Map<string, number> {
  const acc = new Map<string, [number, number]>();
  for (const e of examples) {
    if (e.subject === undefined || e.size === undefined || !e.sizeFromOutcome) continue;
    const a = acc.get(e.subject) ?? [0, 0];
    a[0] += e.size;
    a[1] += 1;
    acc.set(e.subject, a);
  }
  // A source with a single subject (e.g. GSM8K) gains nothing from it: keep its individual labels.
  const subjectsPerSource = new Map<string, Set<string>>();
  for (const e of examples)
    if (e.subject !== undefined)
      subjectsPerSource.set(e.source, (subjectsPerSource.get(e.source) ?? new Set()).add(e.subject));
  const informative = new Set<string>();
  for (const subjects of subjectsPerSource.values())
    if (subjects.size > 1) for (const s of subjects) informative.add(s);
  return new Map(
    [...acc].filter(([s, [, n]]) => n >= minRows && informative.has(s)).map(([s, [k, n]]) => [s, k / n]),
  );
}

function sourceWeights(examples: readonly Example[], minShare: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of examples) counts.set(e.source, (counts.get(e.source) ?? 0) + 1);
  const floor = minShare * examples.length;
  return new Map([...counts].map(([s, n]) => [s, n >= floor ? 1 : Math.min(8, floor / n)]));
}

/** One SGD step of a logistic loss on a sparse+dense linear model; `g` is dLoss/dScore. */
function step(
  w: Float64Array,
  dense: Float64Array,
  f: Features,
  g: number,
  lr: number,
  dlr: number,
  l2: number,
) {
  const { indices, values } = f;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k] as number;
    w[i] = (w[i] as number) - lr * (g * (values[k] as number) + l2 * (w[i] as number));
  }
  for (let k = 0; k < dense.length; k++)
    dense[k] = (dense[k] as number) - dlr * (g * (f.dense[k] as number) + l2 * (dense[k] as number));
}

function dot(w: Float64Array, dense: Float64Array, f: Features): number {
  let s = 0;
  for (let k = 0; k < f.indices.length; k++)
    s += (w[f.indices[k] as number] as number) * (f.values[k] as number);
  for (let k = 0; k < dense.length; k++) s += (dense[k] as number) * (f.dense[k] as number);
  return s;
}

const round = (x: number, digits = 6) => Number(x.toFixed(digits));

type Options = typeof DEFAULTS & TrainOptions;

/** Fits the size head (logistic) and the effort head (all-threshold ordinal logistic) by seeded SGD. */
function fitHeads(
  rows: readonly Prepared[],
  spec: FeatureSpec,
  o: Options,
  rand: () => number,
  sizeLearningRate = o.learningRate,
  withEffort = true,
) {
  const nDense = spec.dense.length;
  const sizeW = new Float64Array(spec.buckets);
  const sizeD = new Float64Array(nDense);
  const effW = new Float64Array(spec.buckets);
  const effD = new Float64Array(nDense);
  const weakW = o.weakHead ? new Float64Array(spec.buckets) : undefined;
  const weakD = new Float64Array(nDense);
  const cuts: [number, number] = [0, 1];
  const order = rows.map((_, i) => i);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const lr = o.learningRate / (1 + epoch);
    const dlr = lr * o.denseLearningRate;
    const slr = sizeLearningRate / (1 + epoch);
    const sdlr = slr * o.denseLearningRate;
    shuffleInPlace(order, rand);
    for (const i of order) {
      const { ex, f, weight, sizeTarget, weakTarget } = rows[i] as Prepared;
      if (sizeTarget !== undefined) {
        const g = (sigmoid(dot(sizeW, sizeD, f)) - sizeTarget) * weight;
        step(sizeW, sizeD, f, g, slr, sdlr, o.l2);
      }
      if (weakW && weakTarget !== undefined) {
        const g = (sigmoid(dot(weakW, weakD, f)) - weakTarget) * weight;
        step(weakW, weakD, f, g, slr, sdlr, o.l2);
      }
      if (withEffort && ex.effort !== undefined) {
        // One binary task per cut-point, sharing the score.
        const s = dot(effW, effD, f);
        const g0 = (sigmoid(s - cuts[0]) - (ex.effort > 0 ? 1 : 0)) * weight;
        const g1 = (sigmoid(s - cuts[1]) - (ex.effort > 1 ? 1 : 0)) * weight;
        step(effW, effD, f, g0 + g1, lr, dlr, o.l2);
        cuts[0] += dlr * g0;
        cuts[1] = Math.max(cuts[0] + 0.05, cuts[1] + dlr * g1);
      }
    }
  }
  return {
    size: head(sizeW, sizeD),
    weak: weakW && head(weakW, weakD),
    effort: { ...head(effW, effD), cuts: [round(cuts[0]), round(cuts[1])] as [number, number] },
  };
}

/**
 * Per-source experts (spec: one linear model across sources lets each distort the other; math word problems and
 * multiple-choice knowledge questions are hard for different reasons). Sources are the outcome-labelled ones with
 * at least `sourceExpertMinRows` rows, largest first; the largest keeps the main expert. Each other source gets
 * size and 20b-wins heads trained on its rows only; a softmax gate learns which source a prompt looks like.
 */
function fitSources(
  rows: readonly Prepared[],
  spec: FeatureSpec,
  o: Options,
  rand: () => number,
): SourceExperts | undefined {
  if (!o.sourceExpertMinRows || !o.weakHead) return undefined;
  const counts = new Map<string, number>();
  for (const r of rows) if (r.ex.sizeFromOutcome) counts.set(r.ex.source, (counts.get(r.ex.source) ?? 0) + 1);
  const names = [...counts]
    .filter(([, n]) => n >= o.sourceExpertMinRows)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([s]) => s);
  if (names.length < 2) return undefined;
  const experts = names.slice(1).map((name) => {
    const own = rows.filter((r) => r.ex.sizeFromOutcome && r.ex.source === name);
    const h = fitHeads(
      own,
      spec,
      { ...o, learningRate: o.sizeLearningRate },
      rand,
      o.sizeLearningRate,
      false,
    );
    return { size: h.size, weak: h.weak as HeadWeights, scale: { a: 1, b: 0 } };
  });
  // Softmax gate: head k−1 scores names[k] against names[0].
  const index = new Map(names.map((n, i) => [n, i]));
  const data = rows.filter((r) => r.ex.sizeFromOutcome && index.has(r.ex.source));
  const K = names.length;
  const w = names.slice(1).map(() => new Float64Array(spec.buckets));
  const d = names.slice(1).map(() => new Float64Array(spec.dense.length));
  const order = data.map((_, i) => i);
  const z = new Float64Array(K);
  for (let epoch = 0; epoch < Math.min(o.epochs, 4); epoch++) {
    const lr = o.chatLearningRate / (1 + epoch);
    shuffleInPlace(order, rand);
    for (const i of order) {
      const r = data[i] as Prepared;
      const y = index.get(r.ex.source) as number;
      z[0] = 0;
      for (let k = 1; k < K; k++) z[k] = dot(w[k - 1] as Float64Array, d[k - 1] as Float64Array, r.f);
      let max = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < K; k++) max = Math.max(max, z[k] as number);
      let sum = 0;
      for (let k = 0; k < K; k++) sum += Math.exp((z[k] as number) - max);
      for (let k = 1; k < K; k++) {
        const g = Math.exp((z[k] as number) - max) / sum - (k === y ? 1 : 0);
        step(w[k - 1] as Float64Array, d[k - 1] as Float64Array, r.f, g, lr, lr * o.denseLearningRate, o.l2);
      }
    }
  }
  return { names, gate: w.map((wk, k) => head(wk, d[k] as Float64Array)), experts };
}

/** Fits the gate p(chat-like prompt), with the two kinds weighted to balance. */
function fitGate(rows: readonly Prepared[], spec: FeatureSpec, o: Options, rand: () => number): HeadWeights {
  const nChat = rows.filter((r) => r.explicitSize).length;
  const chatWeight = Math.min(50, (rows.length - nChat) / Math.max(1, nChat));
  const w = new Float64Array(spec.buckets);
  const d = new Float64Array(spec.dense.length);
  const order = rows.map((_, i) => i);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const lr = o.chatLearningRate / (1 + epoch);
    shuffleInPlace(order, rand);
    for (const i of order) {
      const r = rows[i] as Prepared;
      const y = r.explicitSize ? 1 : 0;
      const g = (sigmoid(dot(w, d, r.f)) - y) * (y ? chatWeight : 1);
      step(w, d, r.f, g, lr, lr * o.denseLearningRate, o.l2);
    }
  }
  return head(w, d);
}

/**
 * Fits the domain head: softmax regression over the subjects of outcome-labelled rows (subjects with at least 20
 * such rows; at least two), whose expected 120b-needed rate is a strong prior (spec: knowledge vs reasoning domain).
 */
function fitDomain(rows: readonly Prepared[], o: Options, rand: () => number): DomainWeights | undefined {
  const counts = new Map<string, [number, number]>();
  for (const r of rows) {
    if (r.ex.subject === undefined || r.ex.size === undefined || !r.ex.sizeFromOutcome) continue;
    const c = counts.get(r.ex.subject) ?? [0, 0];
    // With a 20b-wins head the subject prior is, like the main expert, the expected gain of 120b mapped to [0, 1].
    c[0] += o.weakHead ? (1 + Number(!!r.ex.strongCorrect) - Number(!!r.ex.weakCorrect)) / 2 : r.ex.size;
    c[1] += 1;
    counts.set(r.ex.subject, c);
  }
  const subjects = [...counts]
    .filter(([, [, n]]) => n >= 20)
    .map(([s]) => s)
    .sort();
  if (subjects.length < 2) return undefined;
  const index = new Map(subjects.map((s, i) => [s, i]));
  const rates = subjects.map((s) => {
    const [k, n] = counts.get(s) as [number, number];
    return round(k / n);
  });
  const data = rows.filter((r) => r.ex.subject !== undefined && index.has(r.ex.subject));
  const K = subjects.length;
  const B = o.domainBuckets;
  const mask = B - 1;
  const w = new Float64Array(B * K);
  const bias = new Float64Array(K);
  const z = new Float64Array(K);
  const order = data.map((_, i) => i);
  const epochs = Math.min(o.epochs, 4);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const lr = 2 / (1 + epoch);
    shuffleInPlace(order, rand);
    for (const i of order) {
      const { f, ex } = data[i] as Prepared;
      const y = index.get(ex.subject as string) as number;
      for (let k = 0; k < K; k++) z[k] = bias[k] as number;
      for (let j = 0; j < f.indices.length; j++) {
        const base = ((f.indices[j] as number) & mask) * K;
        const v = f.values[j] as number;
        for (let k = 0; k < K; k++) z[k] = (z[k] as number) + (w[base + k] as number) * v;
      }
      let max = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < K; k++) max = Math.max(max, z[k] as number);
      let sum = 0;
      for (let k = 0; k < K; k++) {
        z[k] = Math.exp((z[k] as number) - max);
        sum += z[k] as number;
      }
      // z becomes the gradient of the cross-entropy w.r.t. the logits.
      for (let k = 0; k < K; k++) z[k] = (z[k] as number) / sum - (k === y ? 1 : 0);
      for (let k = 0; k < K; k++) bias[k] = (bias[k] as number) - lr * 0.1 * (z[k] as number);
      for (let j = 0; j < f.indices.length; j++) {
        const base = ((f.indices[j] as number) & mask) * K;
        const v = lr * (f.values[j] as number);
        for (let k = 0; k < K; k++) w[base + k] = (w[base + k] as number) - v * (z[k] as number);
      }
    }
  }
  return {
    buckets: B,
    subjects,
    rates,
    bias: [...bias].map((x) => round(x)),
    mix: o.domainMix,
    ...encodeInt8(w),
  };
}

function head(w: Float64Array, dense: Float64Array): HeadWeights {
  return { bias: 0, ...encodeInt8(w), dense: [...dense].map((x) => round(x)) };
}

/**
 * Trains both heads by seeded SGD (same data + options → byte-identical weights), then calibrates the size
 * threshold on the calibration split. Held-out rows are never seen.
 */
export function trainRouter(datasets: readonly Dataset[], options: TrainOptions = {}): TrainResult {
  const o = resolveOptions(options);
  const all = toExamples(datasets);
  const parts: Record<'train' | 'calibration' | 'holdout', Example[]> = {
    train: [],
    calibration: [],
    holdout: [],
  };
  for (const e of all) parts[splitOf(e.key, o.holdoutFraction, o.calibrationFraction)].push(e);
  const weights = fitRouter(parts.train, parts.calibration, datasets, o);
  return {
    weights,
    counts: {
      train: parts.train.length,
      calibration: parts.calibration.length,
      holdout: parts.holdout.length,
      sizeLabeled: parts.train.filter((e) => e.size !== undefined).length,
      effortLabeled: parts.train.filter((e) => e.effort !== undefined).length,
    },
  };
}

function resolveOptions(options: TrainOptions): Options {
  // Options left undefined keep their defaults.
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return { ...DEFAULTS, ...given } as Options;
}

/**
 * Trains on exactly the given rows, with the same code and seed as `trainRouter` (cross-validation uses it for
 * each fold): `train` fits the heads, `calibration` only sets the thresholds. Every per-subject and per-source
 * statistic comes from `train`.
 */
export function trainRouterOnExamples(
  train: readonly Example[],
  calibration: readonly Example[],
  datasets: readonly Dataset[],
  options: TrainOptions = {},
): WeightsFile {
  return fitRouter(train, calibration, datasets, resolveOptions(options));
}

function fitRouter(
  trainRows: readonly Example[],
  calibrationRows: readonly Example[],
  datasets: readonly Dataset[],
  o: Options,
): WeightsFile {
  const spec = o.featureSpec ?? DEFAULT_FEATURE_SPEC;
  if (trainRows.length === 0) throw new RangeError('no training rows left after the held-out split');

  const weightOf = sourceWeights(trainRows, o.minSourceShare);
  const rates = subjectRates(trainRows);
  const perSource = sourceRates(trainRows);
  const train: Prepared[] = trainRows.map((ex) => {
    const subjectRate = ex.subject === undefined ? undefined : rates.get(ex.subject);
    const [rate, smoothing] =
      subjectRate !== undefined
        ? [subjectRate, o.subjectSmoothing]
        : [perSource.get(ex.source), o.sourceSmoothing];
    // Only outcome-derived labels are smoothed; explicit `model` labels are taken as given.
    const sizeTarget =
      ex.size === undefined
        ? undefined
        : rate === undefined || !ex.sizeFromOutcome
          ? ex.size
          : (1 - smoothing) * ex.size + smoothing * rate;
    return {
      ex,
      f: featurize(ex.prompt, spec),
      weight: weightOf.get(ex.source) ?? 1,
      sizeTarget,
      weakTarget: ex.sizeFromOutcome ? (ex.weakCorrect && !ex.strongCorrect ? 1 : 0) : undefined,
      explicitSize: ex.size !== undefined && !ex.sizeFromOutcome,
    };
  });

  // Two experts per head, mixed by a gate: rows with outcome labels (benchmark-like prompts) and rows with
  // explicit `model` labels (chat/support traffic). Their label scales differ, and one linear model fit to both
  // lets each domain distort the other; the gate learns which kind of prompt it is looking at.
  const rand = mulberry32(o.seed);
  const bench = train.filter((t) => !t.explicitSize);
  const chat = train.filter((t) => t.explicitSize);
  const fit = (rows: Prepared[], lr: number, sizeLr = lr) =>
    fitHeads(rows, spec, { ...o, learningRate: lr }, rand, sizeLr);
  const primary =
    bench.length > 0 ? fit(bench, o.learningRate, o.sizeLearningRate) : fit(chat, o.chatLearningRate);
  const heads: WeightsFile['heads'] = { size: primary.size, effort: primary.effort };
  if (primary.weak && bench.length > 0) heads.weak = primary.weak;
  const domain = bench.length > 0 && o.domainMix > 0 ? fitDomain(bench, o, rand) : undefined;
  if (domain) heads.domain = domain;
  const sources = fitSources(bench, spec, o, rand);
  if (sources) heads.sources = sources;
  if (bench.length > 0 && chat.length > 0) {
    const expert = fit(chat, o.chatLearningRate);
    heads.chat = { gate: fitGate(train, spec, o, rand), size: expert.size, effort: expert.effort };
  }
  const draft: WeightsFile = {
    schemaVersion: 1,
    featureSpec: { ...spec, dense: [...spec.dense] },
    heads,
    calibration: { scoreQuantiles: [], curve: [], weakPerformance: 0, strongPerformance: 0 },
    defaults: { sizeThreshold: 0.5, qualityTarget: o.qualityTarget },
    training: {
      seed: o.seed,
      epochs: o.epochs,
      l2: o.l2,
      holdoutFraction: o.holdoutFraction,
      data: datasets.map((d) => ({ name: d.name, sha256: d.sha256, rows: d.rows.length })),
    },
  };
  const calibrationSet = calibrationRows.length > 0 ? calibrationRows : trainRows;
  if (heads.weak) heads.weakScale = plattScale(draft, calibrationSet);
  if (sources) {
    const model = new RouterModel(draft);
    sources.experts.forEach((e, k) => {
      const name = sources.names[k + 1];
      let rows = calibrationSet.filter((x) => x.sizeFromOutcome && x.source === name);
      if (rows.length < 20) rows = trainRows.filter((x) => x.sizeFromOutcome && x.source === name);
      e.scale = fitPlatt(
        rows.map((x) => ({ z: logit(model.sourceExpertP(x.prompt, k)), y: x.size as number })),
      );
    });
  }
  return calibrate(draft, calibrationSet);
}

/**
 * With a 20b-wins head the main expert scores the expected gain of 120b, a scale unlike the chat expert's
 * p(120b needed). Platt-scales it (σ(a·logit(p) + b), a > 0, so the ranking is unchanged) against "only 120b
 * answers correctly" on the outcome rows of the calibration split, so the gate mixes like with like.
 */
function plattScale(weights: WeightsFile, rows: readonly Example[]): { a: number; b: number } {
  const model = new RouterModel(weights);
  return fitPlatt(
    rows
      .filter((e) => e.sizeFromOutcome)
      .map((e) => ({ z: logit(model.mainExpertP(e.prompt)), y: e.size as number })),
  );
}

/** Platt scaling σ(a·z + b) by Newton's method on the logistic loss (a little ridge keeps it well-posed). */
function fitPlatt(data: readonly { z: number; y: number }[]): { a: number; b: number } {
  let a = 1;
  let b = 0;
  // Newton's method on the two-parameter logistic loss (a little ridge keeps it well-posed).
  for (let it = 0; it < 25 && data.length > 0; it++) {
    let ga = 1e-3 * (a - 1);
    let gb = 0;
    let haa = 1e-3;
    let hab = 0;
    let hbb = 1e-3;
    for (const { z, y } of data) {
      const p = sigmoid(a * z + b);
      const w = p * (1 - p);
      ga += (p - y) * z;
      gb += p - y;
      haa += w * z * z;
      hab += w * z;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    a -= (hbb * ga - hab * gb) / det;
    b -= (haa * gb - hab * ga) / det;
  }
  return a > 0 ? { a: round(a), b: round(b) } : { a: 1, b: 0 };
}

/** Fills in score quantiles, the PGR curve with its thresholds, and the default threshold for the quality target. */
function calibrate(weights: WeightsFile, calibration: readonly Example[]): WeightsFile {
  const model = new RouterModel(weights);
  const scored = calibration.map((ex) => ({ ex, p: model.predict(ex.prompt).pLarge }));
  const sortedAll = scored.map((s) => s.p).sort((a, b) => a - b);
  const scoreQuantiles = Array.from({ length: 101 }, (_, k) =>
    round(sortedAll[Math.min(sortedAll.length - 1, Math.floor((k / 100) * sortedAll.length))] ?? 0.5),
  );

  const withOutcomes = scored.filter(
    (s) => s.ex.weakCorrect !== undefined && s.ex.strongCorrect !== undefined,
  );
  const curve: CalibrationPoint[] = [];
  let sizeThreshold = 0.5;
  let weakPerformance = 0;
  let strongPerformance = 0;
  if (withOutcomes.length > 0) {
    const scores = withOutcomes.map((s) => s.p);
    const outcomes: RoutingOutcome[] = withOutcomes.map((s) => ({
      weakCorrect: s.ex.weakCorrect as boolean,
      strongCorrect: s.ex.strongCorrect as boolean,
    }));
    const m = binaryRoutingMetrics(scores, outcomes);
    const desc = [...scores].sort((a, b) => b - a);
    for (const pt of m.curve) {
      const k = Math.round(pt.strongShare * desc.length);
      // Threshold that sends the top k prompts to 120b: the k-th highest score (above every score for k = 0).
      const threshold = k === 0 ? 1 : (desc[k - 1] as number);
      curve.push({
        threshold: round(threshold),
        strongShare: round(pt.strongShare, 4),
        pgr: round(pt.pgr, 4),
      });
    }
    weakPerformance = round(m.weakPerformance, 4);
    strongPerformance = round(m.strongPerformance, 4);
    const targetPerf = weights.defaults.qualityTarget * m.strongPerformance;
    const gap = m.strongPerformance - m.weakPerformance;
    const targetPgr = gap > 0 ? (targetPerf - m.weakPerformance) / gap : 0;
    sizeThreshold = (curve.find((c) => c.pgr >= targetPgr) ?? curve[curve.length - 1])?.threshold ?? 0.5;
  }
  return {
    ...weights,
    calibration: { scoreQuantiles, curve, weakPerformance, strongPerformance },
    defaults: { ...weights.defaults, sizeThreshold },
  };
}
