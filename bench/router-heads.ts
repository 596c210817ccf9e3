/**
 * Which head for the size decision, per source, chosen on cross-validation only. Heads, each fitted the same way
 * (two logistic regressions, "only 120b right" and "only 20b right", scored by the expected gain p₁₂₀ − p₂₀):
 *   - n-gram: the router's hashed word/char n-grams plus its 30 hand signals;
 *   - hand: the 30 hand signals alone (length, digits, math/code markers, and the word-problem signals: quantities,
 *     distinct numbers, operation words, units, percentages, fractions, money, conditions, "how many/much" …);
 *   - word vectors: the mean of the monitor's USE-lite word vectors (128-d, distilled from USE-lite and shipped in
 *     @harmonia/support's monitor model) — microseconds per prompt;
 *   - USE-lite: the full offline sentence encoder (512-d) @harmonia/support ships — tens to hundreds of ms;
 *   - stacked: a calibrated combination, logistic regressions on the four heads' out-of-fold gains (inner 4-fold CV
 *     inside each training part, so the combiner never sees a score made on its own training rows).
 * 5-fold CV (folds by a hash of the row id) on rows outside the default held-out split: the held-out rows never
 * take part. Beside them: length-only, random (mean of 20 seeded orderings) and the oracle. Then the latency of
 * each head's features for a single query, in the same run.
 *
 *   node --import tsx bench/router-heads.ts [--mmlu-every N] [--no-use-lite]
 *   (default: every 12th MMLU row, to bound time; --no-use-lite skips the slow encoder)
 */
import { readFileSync } from 'node:fs';
import {
  binaryRoutingMetrics,
  type Example,
  type Features,
  featurize,
  foldOf,
  mulberry32,
  readDataset,
  splitOf,
  toExamples,
} from '@harmonia/router';
import { type MonitorModelJSON, UseLiteEmbedder, WordVectors, words } from '@harmonia/support';

const arg = (name: string) => process.argv.indexOf(name);
const every = Number(process.argv[arg('--mmlu-every') + 1]) || 12;
const withUseLite = arg('--no-use-lite') < 0;
const root = new URL('../packages/router/data/', import.meta.url).pathname;
const datasets = ['benchmarks.jsonl.gz', 'support.jsonl'].map((f) => readDataset(`${root}${f}`));
const rows0 = toExamples(datasets).filter(
  (e, i) =>
    e.weakCorrect !== undefined &&
    splitOf(e.key, 0.2) !== 'holdout' &&
    (e.source !== 'mmlu' || i % every === 0),
);

// The monitor's distilled USE-lite word vectors, as shipped.
const monitorPath = new URL('../packages/support/monitor/model.json', import.meta.url);
const wv = WordVectors.fromJSON((JSON.parse(readFileSync(monitorPath, 'utf8')) as MonitorModelJSON).vectors);
const wordVector = (t: string) => wv.sentence(words(t)) ?? new Float32Array(wv.dims);

const embedder = new UseLiteEmbedder();
const t0 = performance.now();
const useVectors = withUseLite ? await embedder.embed(rows0.map((e) => e.prompt)) : [];
const embedMs = (performance.now() - t0) / rows0.length;

type Row = { e: Example; f: Features; hand: number[]; wv: number[]; use: number[] };
const rows: Row[] = rows0.map((e, i) => {
  const f = featurize(e.prompt);
  return { e, f, hand: Array.from(f.dense), wv: Array.from(wordVector(e.prompt)), use: useVectors[i] ?? [] };
});
const sig = (z: number) => 1 / (1 + Math.exp(-z));
const strongWins = (e: Example) => (e.strongCorrect && !e.weakCorrect ? 1 : 0);
const weakWins = (e: Example) => (e.weakCorrect && !e.strongCorrect ? 1 : 0);
type Scorer = (r: Row) => number;

function shuffle(order: number[], rand: () => number) {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
}

/** Logistic regression on the hashed n-grams and dense signals (the router's features), seeded SGD. */
function fitNgram(train: Row[], y: (e: Example) => number): Scorer {
  const w = new Float64Array(1 << 15);
  const nd = train[0]?.f.dense.length ?? 0;
  const d = new Float64Array(nd);
  const score = (r: Row) => {
    let s = 0;
    for (let k = 0; k < r.f.indices.length; k++)
      s += (w[r.f.indices[k] as number] as number) * (r.f.values[k] as number);
    for (let k = 0; k < nd; k++) s += (d[k] as number) * (r.f.dense[k] as number);
    return s;
  };
  const rand = mulberry32(1);
  const order = train.map((_, i) => i);
  for (let epoch = 0; epoch < 10; epoch++) {
    const lr = 1 / (1 + epoch);
    shuffle(order, rand);
    for (const i of order) {
      const r = train[i] as Row;
      const g = sig(score(r)) - y(r.e);
      for (let k = 0; k < r.f.indices.length; k++) {
        const j = r.f.indices[k] as number;
        w[j] = (w[j] as number) - lr * g * (r.f.values[k] as number);
      }
      for (let k = 0; k < nd; k++) d[k] = (d[k] as number) - 0.2 * lr * g * (r.f.dense[k] as number);
    }
  }
  return score;
}

/** L2-regularised logistic regression on a dense vector, standardised on the training rows; seeded SGD. */
function fitDense(
  train: Row[],
  x: (r: Row) => readonly number[],
  y: (e: Example) => number,
  epochs = 30,
): Scorer {
  const n = x(train[0] as Row).length;
  const mean = new Float64Array(n);
  const sd = new Float64Array(n);
  for (const r of train) {
    const v = x(r);
    for (let k = 0; k < n; k++) mean[k] = (mean[k] as number) + (v[k] as number) / train.length;
  }
  for (const r of train) {
    const v = x(r);
    for (let k = 0; k < n; k++)
      sd[k] = (sd[k] as number) + ((v[k] as number) - (mean[k] as number)) ** 2 / train.length;
  }
  for (let k = 0; k < n; k++) sd[k] = Math.sqrt(sd[k] as number) || 1;
  const z = (r: Row) => x(r).map((v, k) => (v - (mean[k] as number)) / (sd[k] as number));
  const cache = new Map<Row, number[]>();
  const zc = (r: Row) => {
    const hit = cache.get(r);
    if (hit) return hit;
    const v = z(r);
    cache.set(r, v);
    return v;
  };
  const w = new Float64Array(n + 1);
  const score = (r: Row) => {
    const v = cache.get(r) ?? z(r);
    let s = w[n] as number;
    for (let k = 0; k < n; k++) s += (w[k] as number) * (v[k] as number);
    return s;
  };
  const rand = mulberry32(1);
  const order = train.map((_, i) => i);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const lr = 0.05 / (1 + epoch * 0.2);
    shuffle(order, rand);
    for (const i of order) {
      const r = train[i] as Row;
      const v = zc(r);
      const g = sig(score(r)) - y(r.e);
      for (let k = 0; k < n; k++)
        w[k] = (w[k] as number) - lr * (g * (v[k] as number) + 1e-3 * (w[k] as number));
      w[n] = (w[n] as number) - lr * g;
    }
  }
  return (r: Row) => score(r);
}

type HeadName = 'ngram' | 'hand' | 'wordvec' | 'uselite';
const heads: Record<HeadName, (train: Row[]) => Scorer> = {
  ngram: (t) => gain(fitNgram(t, strongWins), fitNgram(t, weakWins)),
  hand: (t) =>
    gain(
      fitDense(t, (r) => r.hand, strongWins),
      fitDense(t, (r) => r.hand, weakWins),
    ),
  wordvec: (t) =>
    gain(
      fitDense(t, (r) => r.wv, strongWins),
      fitDense(t, (r) => r.wv, weakWins),
    ),
  uselite: (t) =>
    gain(
      fitDense(t, (r) => r.use, strongWins),
      fitDense(t, (r) => r.use, weakWins),
    ),
};
const names = (Object.keys(heads) as HeadName[]).filter((h) => withUseLite || h !== 'uselite');
function gain(a: Scorer, b: Scorer): Scorer {
  return (r) => sig(a(r)) - sig(b(r));
}

/** Stacked: inner out-of-fold gains of every head → two calibrated logistic regressions → expected gain. */
function fitStacked(train: Row[]): Scorer {
  const oof = new Map<Row, number[]>();
  for (let f = 0; f < 4; f++) {
    const inner = train.filter((r) => foldOf(`inner:${r.e.key}`, 4) !== f);
    const fitted = names.map((h) => heads[h](inner));
    for (const r of train)
      if (foldOf(`inner:${r.e.key}`, 4) === f)
        oof.set(
          r,
          fitted.map((s) => s(r)),
        );
  }
  const full = names.map((h) => heads[h](train));
  const stackRows: Row[] = train.map((r) => ({ ...r, hand: oof.get(r) as number[] }));
  const a = fitDense(stackRows, (r) => r.hand, strongWins, 60);
  const b = fitDense(stackRows, (r) => r.hand, weakWins, 60);
  return (r) => {
    const s: Row = { ...r, hand: full.map((h) => h(r)) };
    return sig(a(s)) - sig(b(s));
  };
}

if (withUseLite)
  console.log(
    `USE-lite embedded ${rows.length} prompts: ${embedMs.toFixed(1)} ms per prompt in batches of 64`,
  );
console.log(
  `source   n     ${names.map((h) => h.padEnd(8)).join(' ')} stacked  length   random  oracle   (APGR, 5-fold CV, held-out rows excluded)`,
);
for (const source of ['mmlu', 'gsm8k', 'support']) {
  const rs = rows.filter((r) => r.e.source === source);
  const s: Record<string, number[]> = Object.fromEntries(
    [...names, 'stacked'].map((h) => [h, rs.map(() => 0)]),
  );
  for (let f = 0; f < 5; f++) {
    const train = rs.filter((r) => foldOf(r.e.key, 5) !== f);
    const fitted = names.map((h) => [h, heads[h](train)] as const);
    const stacked = fitStacked(train);
    rs.forEach((r, i) => {
      if (foldOf(r.e.key, 5) !== f) return;
      for (const [h, sc] of fitted) (s[h] as number[])[i] = sc(r);
      (s.stacked as number[])[i] = stacked(r);
    });
  }
  const outcomes = rs.map((r) => ({ weakCorrect: !!r.e.weakCorrect, strongCorrect: !!r.e.strongCorrect }));
  const apgr = (x: number[]) => binaryRoutingMetrics(x, outcomes).apgr.toFixed(3);
  const rand = mulberry32(7);
  let random = 0;
  for (let k = 0; k < 20; k++)
    random +=
      binaryRoutingMetrics(
        rs.map(() => rand()),
        outcomes,
      ).apgr / 20;
  const oracle = apgr(rs.map((r) => strongWins(r.e) - weakWins(r.e)));
  console.log(
    `${source.padEnd(8)} ${String(rs.length).padEnd(5)} ${[...names, 'stacked'].map((h) => apgr(s[h] as number[]).padEnd(8)).join(' ')} ${apgr(rs.map((r) => r.e.prompt.length)).padEnd(8)} ${random.toFixed(3).padEnd(7)} ${oracle}`,
  );
}

// Latency per single query (what routing pays) of each head's features.
const sample = rows.slice(0, 200).map((r) => r.e.prompt);
const one = async (f: (t: string) => Promise<unknown> | unknown) => {
  const us: number[] = [];
  for (const t of sample) {
    const a = performance.now();
    await f(t);
    us.push((performance.now() - a) * 1000);
  }
  us.sort((x, y) => x - y);
  return `p50 ${(us[Math.floor(us.length / 2)] as number).toFixed(1)} µs, p99 ${(us[Math.floor(us.length * 0.99)] as number).toFixed(1)} µs`;
};
console.log(`single query: n-gram + hand features ${await one((t) => featurize(t))}`);
console.log(`single query: word vectors ${await one((t) => wordVector(t))}`);
if (withUseLite) console.log(`single query: USE-lite ${await one((t) => embedder.embed([t]))}`);
