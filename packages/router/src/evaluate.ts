import { type ArmId, armId, estimateTokens, expectedCost } from './cost.js';
import { type Dataset, type Example, splitOf, toExamples } from './data.js';
import { fnv1a, mix32, mulberry32 } from './hash.js';
import {
  accuracyOf,
  aurocOf,
  binaryRoutingMetrics,
  confusionMatrix,
  type RoutingOutcome,
} from './metrics.js';
import { EFFORTS, type Prediction, RouterModel } from './model.js';
import { Router, type RouterPolicy } from './policy.js';
import { type TrainOptions, trainRouterOnExamples } from './train.js';
import type { WeightsFile } from './weights.js';

export interface EvalOptions {
  weights: WeightsFile;
  /** Evaluate only rows in this held-out share (default: the share the weights were trained with). */
  holdoutFraction?: number;
  /** Evaluate every row (for a file the weights never saw). */
  all?: boolean;
  policy?: RouterPolicy;
  /** Seed of the random baseline. */
  seed?: number;
}

export interface RouterScore {
  apgr: number;
  cpt50: number;
  cpt80: number;
}

export interface SizeGroupReport {
  group: string;
  n: number;
  weakPerformance: number;
  strongPerformance: number;
  router: RouterScore;
  lengthOnly: RouterScore;
  random: RouterScore;
  /** p(120b) AUROC against the "120b needed" label. */
  auroc: number;
}

export interface EffortReport {
  n: number;
  accuracy: number;
  /** confusion[truth][predicted], in low/medium/high order. */
  confusion: number[][];
  majorityAccuracy: number;
  lengthOnlyAccuracy: number;
}

export interface CostReport {
  n: number;
  threshold: number;
  strongShare: number;
  /** Routed quality over always-120b quality, on rows with weak/strong outcomes. */
  qualityRatio: number;
  /** 1 − cost(routed) / cost(always 120b-high), under the policy's cost model. */
  costSaved: number;
  arms: Record<ArmId, number>;
}

export interface EvalReport {
  evaluated: number;
  split: string;
  size: SizeGroupReport[];
  effort: EffortReport;
  cost: CostReport;
}

function score(scores: number[], outcomes: RoutingOutcome[]): RouterScore {
  const m = binaryRoutingMetrics(scores, outcomes);
  return { apgr: m.apgr, cpt50: m.cpt50, cpt80: m.cpt80 };
}

function randomScore(outcomes: RoutingOutcome[], seed: number, draws = 20): RouterScore {
  const rand = mulberry32(seed);
  const acc = { apgr: 0, cpt50: 0, cpt80: 0 };
  for (let d = 0; d < draws; d++) {
    const s = score(
      outcomes.map(() => rand()),
      outcomes,
    );
    acc.apgr += s.apgr / draws;
    acc.cpt50 += s.cpt50 / draws;
    acc.cpt80 += s.cpt80 / draws;
  }
  return acc;
}

/** Length-only effort baseline: cut prompt length at the quantiles that reproduce the label mix. */
function lengthOnlyEffort(lengths: number[], truth: number[]): number[] {
  const counts = [0, 0, 0];
  for (const t of truth) counts[t] = (counts[t] as number) + 1;
  const sorted = [...lengths].sort((a, b) => a - b);
  const cut1 = sorted[Math.min(sorted.length - 1, counts[0] as number)] ?? 0;
  const cut2 = sorted[Math.min(sorted.length - 1, (counts[0] as number) + (counts[1] as number))] ?? 0;
  return lengths.map((l) => (l < cut1 ? 0 : l < cut2 ? 1 : 2));
}

/** Evaluates the weights on held-out rows: APGR per source with baselines, effort accuracy, and cost saved. */
export function evaluateRouter(datasets: readonly Dataset[], options: EvalOptions): EvalReport {
  const holdout = options.holdoutFraction ?? options.weights.training.holdoutFraction;
  const examples = toExamples(datasets).filter((e) => options.all || splitOf(e.key, holdout) === 'holdout');
  if (examples.length === 0) throw new RangeError('no rows to evaluate (the held-out split is empty)');
  const model = new RouterModel(options.weights);
  const router = new Router({ model, policy: { ...options.policy, sticky: false } });
  return reportOf(
    examples,
    examples.map((e) => model.predict(e.prompt)),
    () => router,
    options.all ? 'all rows' : `held-out ${Math.round(holdout * 100)}% (hash split)`,
    options.seed ?? 7,
  );
}

export interface CrossValidateOptions {
  /** Number of folds (at least 2). */
  folds: number;
  /** Training options of every fold's model (the seed included); `holdoutFraction` is ignored. */
  train?: TrainOptions;
  policy?: RouterPolicy;
  /** Seed of the random baseline. */
  seed?: number;
  /** Called after each fold is trained and scored. */
  onFold?: (fold: number, trained: number, scored: number) => void;
}

/** The fold (0..k−1) of a row: a hash of its key, independent of the held-out split and the training seed. */
export function foldOf(key: string, folds: number): number {
  return mix32(fnv1a(key, fnv1a('fold:'))) % folds;
}

/**
 * k-fold cross-validation (spec §4.4/§6): for each fold, train on the other k−1 folds with the same training code
 * and options (a hash-chosen share of those rows calibrates the thresholds, as in `trainRouter`), then score the
 * fold with that model only. Metrics are pooled over all folds' held-out predictions.
 */
export function crossValidateRouter(datasets: readonly Dataset[], options: CrossValidateOptions): EvalReport {
  const cv = crossValidatedPredictions(datasets, options);
  return reportOf(
    cv.examples,
    cv.predictions,
    (i) => cv.routers[i] as Router,
    `${options.folds}-fold cross-validation, pooled held-out predictions`,
    options.seed ?? 7,
  );
}

export interface CrossValidatedPredictions {
  examples: Example[];
  /** fold[i]: the fold of examples[i]; its prediction comes from the model trained without that fold. */
  fold: number[];
  predictions: Prediction[];
  /** The policy (with that model's calibrated threshold) that scored examples[i]. */
  routers: Router[];
}

/** The out-of-fold predictions behind `crossValidateRouter`. */
export function crossValidatedPredictions(
  datasets: readonly Dataset[],
  options: CrossValidateOptions,
): CrossValidatedPredictions {
  const k = options.folds;
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`folds must be an integer >= 2, got ${k}`);
  const examples = toExamples(datasets);
  if (examples.length < k) throw new RangeError(`need at least ${k} labelled rows for ${k} folds`);
  const calibrationFraction = options.train?.calibrationFraction ?? 0.15;
  const fold = examples.map((e) => foldOf(e.key, k));
  const predictions: Prediction[] = new Array(examples.length);
  const routers: Router[] = new Array(examples.length);
  for (let f = 0; f < k; f++) {
    const train: Example[] = [];
    const calibration: Example[] = [];
    const held: number[] = [];
    examples.forEach((e, i) => {
      if (fold[i] === f) held.push(i);
      else (splitOf(e.key, 0, calibrationFraction) === 'calibration' ? calibration : train).push(e);
    });
    const model = new RouterModel(trainRouterOnExamples(train, calibration, datasets, options.train));
    const router = new Router({ model, policy: { ...options.policy, sticky: false } });
    for (const i of held) {
      predictions[i] = model.predict((examples[i] as Example).prompt);
      routers[i] = router;
    }
    options.onFold?.(f, train.length + calibration.length, held.length);
  }
  return { examples, fold, predictions, routers };
}

/** The report over rows and their out-of-sample predictions; `routerFor(i)` is the policy that scored row i. */
function reportOf(
  examples: readonly Example[],
  preds: readonly Prediction[],
  routerFor: (i: number) => Router,
  split: string,
  seed: number,
): EvalReport {
  // Size head, RouteLLM protocol, per source and over everything with weak/strong outcomes.
  const withOutcomes = examples.map((e, i) => ({ e, i })).filter(({ e }) => e.weakCorrect !== undefined);
  const groups = new Map<string, { e: Example; i: number }[]>([['all', withOutcomes]]);
  for (const x of withOutcomes) groups.set(x.e.source, [...(groups.get(x.e.source) ?? []), x]);
  const size: SizeGroupReport[] = [];
  for (const [group, items] of groups) {
    if (items.length < 10 || (group === 'all' && groups.size === 2)) continue;
    const outcomes = items.map(({ e }) => ({
      weakCorrect: !!e.weakCorrect,
      strongCorrect: !!e.strongCorrect,
    }));
    const scores = items.map(({ i }) => preds[i]?.pLarge ?? 0);
    const m = binaryRoutingMetrics(scores, outcomes);
    size.push({
      group,
      n: items.length,
      weakPerformance: m.weakPerformance,
      strongPerformance: m.strongPerformance,
      router: { apgr: m.apgr, cpt50: m.cpt50, cpt80: m.cpt80 },
      lengthOnly: score(
        items.map(({ e }) => e.prompt.length),
        outcomes,
      ),
      random: randomScore(outcomes, seed),
      auroc: aurocOf(
        scores,
        items.map(({ e }) => (e.size === 1 ? 1 : 0)),
      ),
    });
  }

  // Effort head.
  const eff = examples.map((e, i) => ({ e, i })).filter(({ e }) => e.effort !== undefined);
  const truth = eff.map(({ e }) => e.effort as number);
  const predicted = eff.map(({ i }) => EFFORTS.indexOf(preds[i]?.effort ?? 'low'));
  const confusion = confusionMatrix(truth, predicted, 3);
  const counts = [0, 1, 2].map((c) => truth.filter((t) => t === c).length);
  const lengthPred = lengthOnlyEffort(
    eff.map(({ e }) => e.prompt.length),
    truth,
  );
  const effort: EffortReport = {
    n: eff.length,
    accuracy: accuracyOf(confusion),
    confusion,
    majorityAccuracy: eff.length ? Math.max(...counts) / eff.length : 0,
    lengthOnlyAccuracy: accuracyOf(confusionMatrix(truth, lengthPred, 3)),
  };

  // Cost at the policy's operating point, against always 120b-high.
  const arms = Object.fromEntries(
    ['20b-low', '20b-medium', '20b-high', '120b-low', '120b-medium', '120b-high'].map((a) => [a, 0]),
  ) as Record<ArmId, number>;
  let routedCost = 0;
  let baseCost = 0;
  let routedRight = 0;
  let strongRight = 0;
  let strongCalls = 0;
  let thresholdSum = 0;
  examples.forEach((e, i) => {
    const router = routerFor(i);
    thresholdSum += router.threshold;
    const r = router.classify(e.prompt, preds[i]);
    arms[r.arm]++;
    if (r.model === '120b') strongCalls++;
    const tokens = estimateTokens(e.prompt);
    routedCost += r.expectedCost;
    baseCost += expectedCost(armId('120b', 'high'), tokens, router.costs);
    if (e.weakCorrect !== undefined) {
      routedRight += (r.model === '120b' ? e.strongCorrect : e.weakCorrect) ? 1 : 0;
      strongRight += e.strongCorrect ? 1 : 0;
    }
  });
  const cost: CostReport = {
    n: examples.length,
    // The mean over the rows' models (one model, one threshold, outside cross-validation).
    threshold: thresholdSum / examples.length,
    strongShare: strongCalls / examples.length,
    qualityRatio: strongRight ? routedRight / strongRight : 1,
    costSaved: baseCost ? 1 - routedCost / baseCost : 0,
    arms,
  };

  return {
    evaluated: examples.length,
    split,
    size,
    effort,
    cost,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const f3 = (x: number) => x.toFixed(3);

/** The report as the CLI prints it. */
export function formatEvalReport(r: EvalReport): string {
  const lines: string[] = [`Evaluated ${r.evaluated} rows (${r.split}).`, ''];
  lines.push('Size head (20b vs 120b), RouteLLM protocol: APGR / CPT(50%) / CPT(80%)');
  lines.push(
    `${'group'.padEnd(10)} ${'n'.padStart(6)}  ${'20b acc'.padStart(8)} ${'120b acc'.padStart(8)}  ${'router'.padEnd(22)} ${'length-only'.padEnd(22)} ${'random'.padEnd(22)} AUROC`,
  );
  const cell = (s: RouterScore) => `${f3(s.apgr)} / ${pct(s.cpt50)} / ${pct(s.cpt80)}`.padEnd(22);
  for (const g of r.size)
    lines.push(
      `${g.group.padEnd(10)} ${String(g.n).padStart(6)}  ${pct(g.weakPerformance).padStart(8)} ${pct(g.strongPerformance).padStart(8)}  ${cell(g.router)} ${cell(g.lengthOnly)} ${cell(g.random)} ${f3(g.auroc)}`,
    );
  const e = r.effort;
  lines.push(
    '',
    `Effort head: accuracy ${pct(e.accuracy)} on ${e.n} rows (majority class ${pct(e.majorityAccuracy)}, length-only ${pct(e.lengthOnlyAccuracy)})`,
  );
  lines.push(
    'Confusion (rows = label, columns = predicted):',
    `${''.padEnd(8)}${EFFORTS.map((x) => x.padStart(8)).join('')}`,
  );
  e.confusion.forEach((row, i) => {
    lines.push(`${(EFFORTS[i] as string).padEnd(8)}${row.map((v) => String(v).padStart(8)).join('')}`);
  });
  const c = r.cost;
  lines.push(
    '',
    `Operating point: p(120b) >= ${f3(c.threshold)} -> ${pct(c.strongShare)} of calls to 120b; quality ${pct(c.qualityRatio)} of always-120b`,
    `Cost saved vs always 120b-high: ${pct(c.costSaved)} (price table: list prices unless --prices; output lengths per effort are estimates, see docs/router.md)`,
    `Arms: ${Object.entries(c.arms)
      .map(([a, n]) => `${a} ${n}`)
      .join(', ')}`,
  );
  return `${lines.join('\n')}\n`;
}
