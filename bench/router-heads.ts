/**
 * Which head for the size decision: the router's hashed n-gram model, a head on the offline USE-lite sentence
 * embedder (@harmonia/support), or a calibrated combination of the two. 5-fold cross-validation on rows outside the
 * default held-out split (the held-out rows never take part), per source, beside length-only and random; plus the
 * embedder's latency per single query against the n-gram featuriser in the same run.
 *
 *   node --import tsx bench/router-heads.ts [--mmlu-every N]   (default 12: every 12th MMLU row, to bound time)
 */
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
import { UseLiteEmbedder } from '@harmonia/support';

const every = Number(process.argv[process.argv.indexOf('--mmlu-every') + 1]) || 12;
const root = new URL('../packages/router/data/', import.meta.url).pathname;
const datasets = ['benchmarks.jsonl.gz', 'support.jsonl'].map((f) => readDataset(`${root}${f}`));
const rows0 = toExamples(datasets).filter(
  (e, i) =>
    e.weakCorrect !== undefined &&
    splitOf(e.key, 0.2) !== 'holdout' &&
    (e.source !== 'mmlu' || i % every === 0),
);
const embedder = new UseLiteEmbedder();
const t0 = performance.now();
const vectors = await embedder.embed(rows0.map((e) => e.prompt));
const embedMs = (performance.now() - t0) / rows0.length;

type Row = { e: Example; f: Features; v: number[] };
const rows: Row[] = rows0.map((e, i) => ({ e, f: featurize(e.prompt), v: vectors[i] as number[] }));
const sig = (z: number) => 1 / (1 + Math.exp(-z));
const strongWins = (e: Example) => (e.strongCorrect && !e.weakCorrect ? 1 : 0);
const weakWins = (e: Example) => (e.weakCorrect && !e.strongCorrect ? 1 : 0);

function shuffle(order: number[], rand: () => number) {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
}

/** Logistic regression on the hashed n-grams and dense signals (the router's features), seeded SGD. */
function fitNgram(train: Row[], y: (e: Example) => number) {
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

/** Logistic regression on the 512-d sentence embedding. */
function fitEmbedding(train: Row[], y: (e: Example) => number) {
  const w = new Float64Array(513);
  const score = (r: Row) => {
    let s = w[512] as number;
    for (let k = 0; k < 512; k++) s += (w[k] as number) * (r.v[k] as number);
    return s;
  };
  const rand = mulberry32(1);
  const order = train.map((_, i) => i);
  for (let epoch = 0; epoch < 30; epoch++) {
    const lr = 0.5 / (1 + epoch * 0.2);
    shuffle(order, rand);
    for (const i of order) {
      const r = train[i] as Row;
      const g = sig(score(r)) - y(r.e);
      for (let k = 0; k < 512; k++)
        w[k] = (w[k] as number) - lr * (g * (r.v[k] as number) + 1e-4 * (w[k] as number));
      w[512] = (w[512] as number) - lr * g;
    }
  }
  return score;
}

console.log(`USE-lite embedded ${rows.length} prompts: ${embedMs.toFixed(1)} ms per prompt in batches of 64`);
console.log(
  'source   n     n-gram  USE-lite  combined  length-only  random   (APGR, 5-fold CV, held-out rows excluded)',
);
for (const source of ['mmlu', 'gsm8k', 'support']) {
  const rs = rows.filter((r) => r.e.source === source);
  const s = { ngram: rs.map(() => 0), emb: rs.map(() => 0), comb: rs.map(() => 0) };
  for (let f = 0; f < 5; f++) {
    const train = rs.filter((r) => foldOf(r.e.key, 5) !== f);
    const [a, b, c, d] = [
      fitNgram(train, strongWins),
      fitNgram(train, weakWins),
      fitEmbedding(train, strongWins),
      fitEmbedding(train, weakWins),
    ];
    const ngram = (r: Row) => sig(a(r)) - sig(b(r));
    const emb = (r: Row) => sig(c(r)) - sig(d(r));
    // Calibrated combination: least-squares weights of the two expected gains against the gain label (training folds).
    let xx = 0;
    let xy = 0;
    let yy = 0;
    let xt = 0;
    let yt = 0;
    for (const r of train) {
      const x = ngram(r);
      const y = emb(r);
      const t = strongWins(r.e) - weakWins(r.e);
      xx += x * x;
      xy += x * y;
      yy += y * y;
      xt += x * t;
      yt += y * t;
    }
    const det = xx * yy - xy * xy || 1;
    const [wx, wy] = [(yy * xt - xy * yt) / det, (xx * yt - xy * xt) / det];
    rs.forEach((r, i) => {
      if (foldOf(r.e.key, 5) !== f) return;
      s.ngram[i] = ngram(r);
      s.emb[i] = emb(r);
      s.comb[i] = wx * s.ngram[i] + wy * s.emb[i];
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
  console.log(
    `${source.padEnd(8)} ${String(rs.length).padEnd(5)} ${apgr(s.ngram).padEnd(7)} ${apgr(s.emb).padEnd(9)} ${apgr(s.comb).padEnd(9)} ${apgr(rs.map((r) => r.e.prompt.length)).padEnd(12)} ${random.toFixed(3)}`,
  );
}

// Latency per single query (what routing pays): USE-lite vs the n-gram featuriser.
const sample = rows.slice(0, 50).map((r) => r.e.prompt);
const one = async (f: (t: string) => Promise<unknown> | unknown) => {
  const ms: number[] = [];
  for (const t of sample) {
    const a = performance.now();
    await f(t);
    ms.push(performance.now() - a);
  }
  ms.sort((x, y) => x - y);
  return { p50: ms[Math.floor(ms.length / 2)] as number, p99: ms[Math.floor(ms.length * 0.99)] as number };
};
const useLite = await one((t) => embedder.embed([t]));
const ngram = await one((t) => featurize(t));
console.log(
  `single query: USE-lite p50 ${useLite.p50.toFixed(2)} ms, p99 ${useLite.p99.toFixed(2)} ms; n-gram featurise p50 ${ngram.p50.toFixed(3)} ms, p99 ${ngram.p99.toFixed(3)} ms; ratio p50 ${(useLite.p50 / ngram.p50).toFixed(0)}x`,
);
