import { describe, expect, it } from 'vitest';
import {
  DEFAULT_WEIGHTS_PATH,
  parseRows,
  RouterDataError,
  RouterModel,
  RouterWeightsError,
  readWeightsFile,
  splitOf,
  toExamples,
  trainRouter,
  validateWeights,
} from '../src/index.js';
import { benchmarkData, everyNth, supportData } from './helpers.js';

const small = () => [everyNth(benchmarkData(), 12), everyNth(supportData(), 2)];

describe('training', () => {
  it('is deterministic: the same seed gives byte-identical weights', () => {
    const a = JSON.stringify(trainRouter(small(), { seed: 7, epochs: 3 }).weights);
    const b = JSON.stringify(trainRouter(small(), { seed: 7, epochs: 3 }).weights);
    expect(a).toBe(b);
    const c = JSON.stringify(trainRouter(small(), { seed: 8, epochs: 3 }).weights);
    expect(c).not.toBe(a);
  });

  it('writes a valid weights file that records its data and split', () => {
    const { weights, counts } = trainRouter(small(), { seed: 1, epochs: 2 });
    expect(() => validateWeights(JSON.parse(JSON.stringify(weights)), 'x')).not.toThrow();
    expect(weights.training.data.map((d) => d.name)).toEqual(['benchmarks.jsonl.gz', 'support.jsonl']);
    expect(weights.training.data[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(counts.holdout).toBeGreaterThan(0);
    expect(counts.train + counts.calibration + counts.holdout).toBe(toExamples(small()).length);
    expect(weights.calibration.curve.length).toBe(101);
    expect(weights.heads.effort.cuts[1]).toBeGreaterThan(weights.heads.effort.cuts[0]);
    const p = new RouterModel(weights).predict('hello');
    expect(p.pLarge).toBeGreaterThan(0);
    expect(p.pLarge).toBeLessThan(1);
    expect(p.effortProbs.low + p.effortProbs.medium + p.effortProbs.high).toBeCloseTo(1, 9);
  });

  it('never trains on held-out rows: changing them leaves the weights unchanged', () => {
    const [bench, support] = small() as [ReturnType<typeof benchmarkData>, ReturnType<typeof supportData>];
    const flipped = {
      ...bench,
      rows: bench.rows.map((r) =>
        r.id && splitOf(r.id, 0.2) === 'holdout'
          ? { ...r, prompt: `${r.prompt} CHANGED`, weak_correct: !r.weak_correct }
          : r,
      ),
    };
    const a = trainRouter([bench, support], { seed: 1, epochs: 2 }).weights;
    const b = trainRouter([flipped, support], { seed: 1, epochs: 2 }).weights;
    expect(b.heads).toEqual(a.heads);
  });
});

describe('shipped weights', () => {
  it('are exactly what `router train` makes from the committed data with seed 1', {
    timeout: 180_000,
  }, () => {
    const { weights } = trainRouter([benchmarkData(), supportData()], { seed: 1 });
    const shipped = readWeightsFile(DEFAULT_WEIGHTS_PATH);
    expect(weights.training).toEqual(shipped.training);
    expect(JSON.stringify(weights)).toBe(JSON.stringify(shipped));
  });
});

describe('training data', () => {
  it('derives labels from outcomes, levels and explicit labels', () => {
    const ex = toExamples([
      {
        name: 't.jsonl',
        sha256: '',
        rows: parseRows(
          [
            '{"prompt":"a","weak_correct":false,"strong_correct":true}',
            '{"prompt":"b","weak_correct":true,"strong_correct":true}',
            '{"prompt":"c","level":5}',
            '{"prompt":"d","level":1}',
            '{"prompt":"e","model":"120b","effort":"medium"}',
            '{"prompt":"f"}',
          ].join('\n'),
          't.jsonl',
        ),
      },
    ]);
    expect(ex.map((e) => [e.prompt, e.size, e.effort])).toEqual([
      ['a', 1, undefined],
      ['b', 0, undefined],
      ['c', undefined, 2],
      ['d', undefined, 0],
      ['e', 1, 1],
    ]);
  });

  it('rejects bad rows with the file and line', () => {
    expect(() => parseRows('{"prompt":"ok"}\n{"prompt":', 'x.jsonl')).toThrow(/x\.jsonl:2: invalid JSON/);
    expect(() => parseRows('{"prompt":"ok","model":"70b"}', 'x.jsonl')).toThrow(RouterDataError);
    expect(() => parseRows('{"prompt":"ok","level":9}', 'x.jsonl')).toThrow(/level/);
    expect(() => parseRows('{"text":"no prompt"}', 'x.jsonl')).toThrow(/prompt/);
    expect(() => parseRows('\n\n', 'x.jsonl')).toThrow(/no rows/);
  });

  it('rejects a broken weights file', () => {
    expect(() => validateWeights({ schemaVersion: 2 }, 'w.json')).toThrow(RouterWeightsError);
    expect(() => validateWeights(null, 'w.json')).toThrow(/not a router weights file/);
  });

  it('support set: at least 300 labeled queries covering the rubric categories', () => {
    const rows = supportData().rows;
    expect(rows.length).toBeGreaterThanOrEqual(300);
    const subjects = new Set(rows.map((r) => r.subject));
    for (const s of [
      'greeting',
      'store-info',
      'account-simple',
      'billing-complex',
      'troubleshooting',
      'policy',
      'offtopic',
      'abusive',
    ])
      expect(subjects).toContain(s);
    for (const r of rows) {
      expect(r.model === '20b' || r.model === '120b').toBe(true);
      expect(['low', 'medium', 'high']).toContain(r.effort);
    }
  });
});
