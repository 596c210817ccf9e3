import { describe, expect, it } from 'vitest';
import {
  accuracyOf,
  apgrOf,
  aurocOf,
  binaryRoutingMetrics,
  callPerformanceCurve,
  confusionMatrix,
  cptOf,
  mulberry32,
  type RoutingOutcome,
} from '../src/index.js';

const o = (weakCorrect: boolean, strongCorrect: boolean): RoutingOutcome => ({ weakCorrect, strongCorrect });

describe('RouteLLM metrics on a hand-computed case', () => {
  // Scores rank the prompts 0,1,2,3. Weak gets 1/4 right, strong 3/4: gap 0.5.
  const scores = [0.9, 0.5, 0.3, 0.1];
  const outcomes = [o(false, true), o(true, true), o(false, true), o(false, false)];
  const curve = callPerformanceCurve(scores, outcomes, 4);

  it('traces performance as more calls go to the strong model', () => {
    expect(curve.map((p) => p.strongShare)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(curve.map((p) => p.performance)).toEqual([0.25, 0.5, 0.5, 0.75, 0.75]);
    expect(curve.map((p) => p.pgr)).toEqual([0, 0.5, 0.5, 1, 1]);
  });

  it('APGR is the trapezoid area under PGR: 0.25·(0.25+0.5+0.75+1) = 0.625', () => {
    expect(apgrOf(curve)).toBeCloseTo(0.625, 12);
  });

  it('CPT interpolates the strong-call share reaching a PGR', () => {
    expect(cptOf(curve, 0.5)).toBeCloseTo(0.25, 12);
    // between (0.5, 0.5) and (0.75, 1): 0.5 + 0.3/0.5 · 0.25
    expect(cptOf(curve, 0.8)).toBeCloseTo(0.65, 12);
    expect(cptOf(curve, 1.5)).toBe(1);
  });

  it('reversed scores do worse than random, random lands near 0.5', () => {
    const reversed = callPerformanceCurve(
      scores.map((s) => -s),
      outcomes,
      4,
    );
    expect(apgrOf(reversed)).toBeLessThan(0.5);
    const rand = mulberry32(3);
    const many = Array.from({ length: 4000 }, () => o(rand() < 0.6, rand() < 0.8));
    const r = binaryRoutingMetrics(
      many.map(() => rand()),
      many,
    );
    expect(r.apgr).toBeGreaterThan(0.45);
    expect(r.apgr).toBeLessThan(0.55);
    const oracle = binaryRoutingMetrics(
      many.map((x) => (x.strongCorrect && !x.weakCorrect ? 1 : 0)),
      many,
    );
    expect(oracle.apgr).toBeGreaterThan(0.9);
    expect(oracle.cpt50).toBeLessThan(r.cpt50);
  });

  it('rejects mismatched inputs', () => {
    expect(() => callPerformanceCurve([1], [])).toThrow(RangeError);
  });
});

describe('classification metrics', () => {
  it('builds a confusion matrix and its accuracy', () => {
    const m = confusionMatrix([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], 3);
    expect(m).toEqual([
      [1, 1, 0],
      [0, 1, 0],
      [1, 0, 1],
    ]);
    expect(accuracyOf(m)).toBeCloseTo(3 / 5, 12);
  });

  it('computes AUROC with ties counted half', () => {
    expect(aurocOf([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(aurocOf([0.5, 0.5], [0, 1])).toBeCloseTo(0.5, 12);
  });
});
