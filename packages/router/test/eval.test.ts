import { describe, expect, it } from 'vitest';
import {
  binaryRoutingMetrics,
  defaultWeights,
  evaluateRouter,
  formatEvalReport,
  splitOf,
  toExamples,
} from '../src/index.js';
import { benchmarkData, supportData } from './helpers.js';

describe('eval of the shipped weights on held-out rows', () => {
  const report = evaluateRouter([benchmarkData(), supportData()], { weights: defaultWeights() });

  it('beats the length-only and random baselines on the size head', () => {
    for (const group of ['all', 'mmlu']) {
      const g = report.size.find((s) => s.group === group);
      expect(g, group).toBeDefined();
      if (!g) continue;
      expect(g.n).toBeGreaterThan(1000);
      expect(g.router.apgr).toBeGreaterThan(g.lengthOnly.apgr);
      expect(g.router.apgr).toBeGreaterThan(g.random.apgr + 0.05);
      expect(g.router.cpt50).toBeLessThan(g.random.cpt50);
    }
  });

  it('meets the MMLU goal on held-out rows (spec §5: APGR >= 0.65)', () => {
    const mmlu = report.size.find((s) => s.group === 'mmlu');
    expect(mmlu?.router.apgr).toBeGreaterThanOrEqual(0.65);
    expect(mmlu?.router.cpt50).toBeLessThanOrEqual(0.3);
  });

  it('beats length-only on math word problems (GSM8K) with its own source expert', () => {
    const gsm = report.size.find((s) => s.group === 'gsm8k');
    expect(gsm?.router.apgr).toBeGreaterThan((gsm?.lengthOnly.apgr ?? 1) + 0.03);
    expect(defaultWeights().heads.sources?.names).toEqual(['mmlu', 'gsm8k']);
  });

  it('reports every source separately: the router beats random and length-only on each', () => {
    for (const source of ['mmlu', 'gsm8k', 'support']) {
      const g = report.size.find((s) => s.group === source);
      expect(g, source).toBeDefined();
      if (!g) continue;
      expect(g.router.apgr, source).toBeGreaterThan(g.random.apgr + 0.05);
      expect(g.router.apgr, source).toBeGreaterThan(g.lengthOnly.apgr);
    }
  });

  it('support questions: length does not give the label away, and the router beats length-only by >= 0.05', () => {
    // Held-out support rows; an explicit label reads as an outcome (20b: both right; 120b: only 120b right).
    const rows = toExamples([supportData()]).filter((e) => splitOf(e.key, 0.2) === 'holdout');
    const outcomes = rows.map((e) => ({ weakCorrect: !!e.weakCorrect, strongCorrect: !!e.strongCorrect }));
    const oracle = binaryRoutingMetrics(
      rows.map((e) => (e.strongCorrect && !e.weakCorrect ? 1 : 0)),
      outcomes,
    ).apgr;
    const support = report.size.find((s) => s.group === 'support');
    expect(support?.n).toBe(rows.length);
    // With the hand-written 120b rows all longer than the 20b rows, length-only equalled the oracle.
    expect(support?.lengthOnly.apgr).toBeLessThan(oracle - 0.1);
    expect(support?.router.apgr).toBeGreaterThanOrEqual((support?.lengthOnly.apgr ?? 1) + 0.05);
  });

  it('beats the majority class and length-only on effort', () => {
    expect(report.effort.accuracy).toBeGreaterThan(report.effort.majorityAccuracy);
    expect(report.effort.accuracy).toBeGreaterThan(report.effort.lengthOnlyAccuracy);
  });

  it('saves cost against always 120b-high and prints every section', () => {
    expect(report.cost.costSaved).toBeGreaterThan(0);
    expect(report.cost.strongShare).toBeLessThan(1);
    const text = formatEvalReport(report);
    for (const s of ['APGR', 'length-only', 'random', 'Confusion', 'Cost saved vs always 120b-high'])
      expect(text).toContain(s);
  });
});
