/**
 * RouteLLM's metrics for binary (weak/strong) routing. Route the top k% of prompts by score to the strong model,
 * k = 0..100; performance is the share answered correctly by whichever model got each prompt.
 *   PGR(k) = (perf(k) − perf_weak) / (perf_strong − perf_weak)
 *   APGR   = (AUC_router − AUC_weak) / (AUC_strong − AUC_weak), trapezoid areas over the strong-call share
 *   CPT(x) = the smallest strong-call share whose PGR reaches x, interpolated between steps
 */

export interface CurvePoint {
  /** Share of calls routed to the strong model, 0..1. */
  strongShare: number;
  /** Share answered correctly. */
  performance: number;
  pgr: number;
}

export interface RoutingOutcome {
  weakCorrect: boolean;
  strongCorrect: boolean;
}

export interface BinaryRoutingMetrics {
  n: number;
  weakPerformance: number;
  strongPerformance: number;
  apgr: number;
  cpt50: number;
  cpt80: number;
  curve: CurvePoint[];
}

/** Indices sorted by score, highest first; ties keep input order. */
function rankDescending(scores: readonly number[]): number[] {
  return scores.map((_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
}

export function callPerformanceCurve(
  scores: readonly number[],
  outcomes: readonly RoutingOutcome[],
  steps = 100,
): CurvePoint[] {
  const n = outcomes.length;
  if (n === 0 || scores.length !== n)
    throw new RangeError('need one score per outcome, and at least one outcome');
  const order = rankDescending(scores);
  // gain[m] = correct answers when the top m prompts go to the strong model.
  const gain = new Float64Array(n + 1);
  let weakTotal = 0;
  for (const o of outcomes) weakTotal += o.weakCorrect ? 1 : 0;
  gain[0] = weakTotal;
  for (let m = 1; m <= n; m++) {
    const o = outcomes[order[m - 1] as number] as RoutingOutcome;
    gain[m] = (gain[m - 1] as number) + (o.strongCorrect ? 1 : 0) - (o.weakCorrect ? 1 : 0);
  }
  const weak = weakTotal / n;
  const strong = (gain[n] as number) / n;
  const gap = strong - weak;
  const curve: CurvePoint[] = [];
  for (let k = 0; k <= steps; k++) {
    const m = Math.round((k / steps) * n);
    const performance = (gain[m] as number) / n;
    curve.push({ strongShare: k / steps, performance, pgr: gap === 0 ? 0 : (performance - weak) / gap });
  }
  return curve;
}

/** Area under the curve's PGR over the strong-call share: that is APGR (the weak line has PGR 0, strong 1). */
export function apgrOf(curve: readonly CurvePoint[]): number {
  let area = 0;
  for (let i = 1; i < curve.length; i++) {
    const a = curve[i - 1] as CurvePoint;
    const b = curve[i] as CurvePoint;
    area += ((a.pgr + b.pgr) / 2) * (b.strongShare - a.strongShare);
  }
  return area;
}

/** The smallest strong-call share with PGR ≥ target (linear interpolation between curve points); 1 if never. */
export function cptOf(curve: readonly CurvePoint[], target: number): number {
  for (let i = 0; i < curve.length; i++) {
    const b = curve[i] as CurvePoint;
    if (b.pgr >= target) {
      if (i === 0) return b.strongShare;
      const a = curve[i - 1] as CurvePoint;
      return a.strongShare + ((target - a.pgr) / (b.pgr - a.pgr)) * (b.strongShare - a.strongShare);
    }
  }
  return 1;
}

export function binaryRoutingMetrics(
  scores: readonly number[],
  outcomes: readonly RoutingOutcome[],
): BinaryRoutingMetrics {
  const curve = callPerformanceCurve(scores, outcomes);
  return {
    n: outcomes.length,
    weakPerformance: (curve[0] as CurvePoint).performance,
    strongPerformance: (curve[curve.length - 1] as CurvePoint).performance,
    apgr: apgrOf(curve),
    cpt50: cptOf(curve, 0.5),
    cpt80: cptOf(curve, 0.8),
    curve,
  };
}

/** confusion[truth][predicted]. */
export function confusionMatrix(
  truth: readonly number[],
  predicted: readonly number[],
  classes: number,
): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  truth.forEach((t, i) => {
    const row = m[t] as number[];
    const p = predicted[i] as number;
    row[p] = (row[p] as number) + 1;
  });
  return m;
}

export function accuracyOf(confusion: readonly (readonly number[])[]): number {
  let right = 0;
  let all = 0;
  for (let i = 0; i < confusion.length; i++) {
    const row = confusion[i] as readonly number[];
    for (let j = 0; j < row.length; j++) {
      all += row[j] as number;
      if (i === j) right += row[j] as number;
    }
  }
  return all === 0 ? 0 : right / all;
}

/** Area under the ROC curve (ties count half), for binary labels. */
export function aurocOf(scores: readonly number[], labels: readonly (0 | 1)[]): number {
  const order = scores.map((_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let rankSum = 0;
  let pos = 0;
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1] as number] === scores[order[i] as number]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++)
      if (labels[order[k] as number] === 1) {
        rankSum += avgRank;
        pos++;
      }
    i = j + 1;
  }
  const neg = order.length - pos;
  return pos === 0 || neg === 0 ? 0.5 : (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}
