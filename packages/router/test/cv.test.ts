import { describe, expect, it } from 'vitest';
import { crossValidatedPredictions, crossValidateRouter, foldOf, formatEvalReport } from '../src/index.js';
import { benchmarkData, everyNth, supportData } from './helpers.js';

const small = () => [everyNth(benchmarkData(), 12), everyNth(supportData(), 2)];
const train = { seed: 1, epochs: 2 };

describe('k-fold cross-validation', () => {
  it('assigns every row one stable fold, spread over all k', () => {
    const keys = benchmarkData().rows.map((r) => r.id as string);
    const counts = [0, 0, 0, 0, 0];
    for (const k of keys) counts[foldOf(k, 5)] = (counts[foldOf(k, 5)] as number) + 1;
    for (const c of counts) expect(c / keys.length).toBeGreaterThan(0.17);
    expect(foldOf(keys[0] as string, 5)).toBe(foldOf(keys[0] as string, 5));
  });

  it("scores each fold with a model that never saw that fold's rows (labels, subject rates included)", {
    timeout: 90_000,
  }, () => {
    const [bench, support] = small() as [ReturnType<typeof benchmarkData>, ReturnType<typeof supportData>];
    // Flip every outcome of fold 0: its own predictions must not move, the other folds' must.
    const flipped = {
      ...bench,
      rows: bench.rows.map((r) =>
        r.id && foldOf(r.id, 5) === 0
          ? { ...r, weak_correct: !r.weak_correct, strong_correct: !r.strong_correct }
          : r,
      ),
    };
    const a = crossValidatedPredictions([bench, support], { folds: 5, train });
    const b = crossValidatedPredictions([flipped, support], { folds: 5, train });
    expect(b.fold).toEqual(a.fold);
    let others = 0;
    a.examples.forEach((_, i) => {
      if (a.fold[i] === 0) expect(b.predictions[i]).toEqual(a.predictions[i]);
      else if (b.predictions[i]?.pLarge !== a.predictions[i]?.pLarge) others++;
    });
    expect(others).toBeGreaterThan(0);
  });

  it('reports pooled APGR per source beside the baselines', () => {
    const lines: string[] = [];
    const r = crossValidateRouter(small(), {
      folds: 3,
      train,
      onFold: (f, trained, scored) => lines.push(`${f}:${trained}:${scored}`),
    });
    expect(lines).toHaveLength(3);
    expect(r.evaluated).toBe(lines.reduce((n, l) => n + Number(l.split(':')[2]), 0));
    const mmlu = r.size.find((g) => g.group === 'mmlu');
    expect(mmlu?.n).toBeGreaterThan(800);
    expect(mmlu?.router.apgr).toBeGreaterThan(0.5);
    expect(formatEvalReport(r)).toMatch(/3-fold cross-validation[\s\S]*length-only[\s\S]*random/);
    expect(() => crossValidateRouter(small(), { folds: 1 })).toThrow(RangeError);
  });
});
