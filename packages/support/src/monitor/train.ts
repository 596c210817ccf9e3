import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { chunkDocument, formatOf } from '../chunk.js';
import type { Embedder } from '../embedders.js';
import { supportInstructions } from '../policy.js';
import { DENSE_FEATURES, Domain, type DomainSources, type HiddenLayer, MonitorModel } from './model.js';
import {
  ANSWER_FRAMES,
  ATTACKS,
  HELD_OUT_ATTACK_KINDS,
  HELD_OUT_OFF_GROUPS,
  LEAK_FRAMES,
  OFF_TASK,
  OFF_TASK_FRAMES,
  OFF_TASK_TASKS,
  ON_TASK_TEMPLATES,
  PRODUCT_ATTACK_TEMPLATES,
  PRODUCT_OFF_TASK_TEMPLATES,
  REFUSAL_TEMPLATES,
  SMALL_TALK,
} from './seed.js';
import { fnv1a, plain, sentences, words } from './text.js';
import { dot, WordVectors } from './vectors.js';

/** Sources of seeds shared by every domain (their fold is decided by text, not by product). */
const SHARED_SOURCE = /^(small-talk|off:|off-task:|attack:)/;

export type ExampleLabel = 'on' | 'off' | 'attack';

/** One training or evaluation example. `domain` names the docs it is judged against. */
export interface MonitorExample {
  text: string;
  label: ExampleLabel;
  /** Where it came from: `doc:<file>`, `template:<file>`, `small-talk`, `off:<domain>`, `attack:<kind>`. */
  source: string;
  domain: string;
  split: 'train' | 'heldout';
}

/** A folder of docs, read as the FAQ index reads it: one text per section. */
export async function readDocSections(
  dir: string,
): Promise<{ file: string; heading: string; text: string }[]> {
  const out: { file: string; heading: string; text: string }[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        const fmt = formatOf(e.name);
        if (!fmt) continue;
        const file = relative(dir, p);
        for (const c of chunkDocument(await readFile(p, 'utf8'), fmt, e.name))
          out.push({ file, heading: c.heading || c.title, text: `${c.heading}\n${c.body}` });
      }
    }
  };
  await walk(dir);
  return out;
}

/** On-task text generated from doc sections: their sentences, and questions and reasoning about their headings. */
export function onTaskExamples(
  sections: readonly { file: string; heading: string; text: string }[],
  product = 'the product',
): { text: string; source: string; template?: number }[] {
  const out: { text: string; source: string; template?: number }[] = [];
  for (const s of sections) {
    for (const sent of sentences(s.text.split('\n').slice(1).join('\n'))) {
      if (words(sent).length < 3) continue;
      out.push({ text: sent, source: `doc:${s.file}` });
      // Some sentences again as an answer would open them (template numbers after the question templates).
      const h = fnv1a(sent);
      if (h % 3) continue;
      const j = (h >>> 2) % ANSWER_FRAMES.length;
      const lower = sent.charAt(0).toLowerCase() + sent.slice(1);
      out.push({
        text: ANSWER_FRAMES[j]!.replace('{s}', j === 2 || j === 5 ? lower : sent),
        source: `answer:${s.file}`,
        template: ON_TASK_TEMPLATES.length + j,
      });
    }
    const parts = s.heading.split(' › ');
    const h = (parts.at(-1) ?? '').toLowerCase();
    const t = parts[0] ?? '';
    // Four templates per section, chosen by hash so every template is used across the docs.
    const n = ON_TASK_TEMPLATES.length;
    const k = fnv1a(s.heading) % n;
    for (const j of [k, (k + 5) % n, (k + 11) % n, (k + 17) % n])
      out.push({
        text: fill(ON_TASK_TEMPLATES[j]!, { h, t, p: product }),
        source: `template:${s.file}`,
        template: j,
      });
  }
  return out;
}

function fill(tpl: string, v: Record<string, string>): string {
  return tpl.replace(/\{(\w)\}/g, (m, k: string) => v[k] ?? m);
}

export interface DatasetDomain {
  name: string;
  /** The product the docs are about (default: `name`). */
  product?: string;
  sections: { file: string; heading: string; text: string }[];
  /** Every example of a held-out domain is held out: it measures how the monitor does on docs it never saw. */
  heldout?: boolean;
}

/**
 * The dataset: on-task examples from each domain's docs, small talk and refusals, off-task and attack seeds, and
 * off-task and attack text generated with each product's words. Held out, never trained on: whole off-task groups
 * and attack kinds, every fourth seed text, template and task of the rest, every fifth doc sentence, and whole
 * held-out domains. A text of the training split is never evaluated on in a held-out domain. Shared seeds are
 * paired with two training domains (by hash), and held-out seeds with every domain.
 */
export function buildDataset(domains: readonly DatasetDomain[]): MonitorExample[] {
  const rows: MonitorExample[] = [];
  const trainDomains = domains.filter((d) => !d.heldout).map((d) => d.name);
  const push = (text: string, label: ExampleLabel, source: string, domain: string, held: boolean) =>
    rows.push({ text, label, source, domain, split: held ? 'heldout' : 'train' });
  // Shared seeds: a held-out text goes to every domain; a training text to two training domains.
  const shared = (text: string, label: ExampleLabel, source: string, held: boolean) => {
    if (held) for (const d of domains) push(text, label, source, d.name, true);
    else if (trainDomains.length) {
      const k = fnv1a(text) % trainDomains.length;
      push(text, label, source, trainDomains[k]!, false);
      if (trainDomains.length > 1)
        push(text, label, source, trainDomains[(k + 1) % trainDomains.length]!, false);
    }
  };
  SMALL_TALK.forEach((text, i) => {
    shared(text, 'on', 'small-talk', i % 4 === 3);
  });
  for (const [g, texts] of Object.entries(OFF_TASK))
    texts.forEach((text, i) => {
      shared(text, 'off', `off:${g}`, HELD_OUT_OFF_GROUPS.has(g) || i % 4 === 3);
    });
  // Framed tasks: a held-out task or frame is never seen in training, in any combination.
  for (const [g, tasks] of Object.entries(OFF_TASK_TASKS))
    tasks.forEach((task, i) => {
      OFF_TASK_FRAMES.forEach((frame, k) => {
        if ((i + k) % 2) return;
        shared(frame.replace('{x}', task), 'off', `off-task:${g}`, i % 4 === 3 || k % 4 === 3);
      });
    });
  for (const [g, texts] of Object.entries(ATTACKS))
    texts.forEach((text, i) => {
      shared(text, 'attack', `attack:${g}`, HELD_OUT_ATTACK_KINDS.has(g) || i % 4 === 3);
    });
  for (const d of domains) {
    const product = d.product ?? d.name;
    const held = (x: boolean) => d.heldout === true || x;
    // In a held-out domain only held-out templates are used: no training text is evaluated on.
    const ok = (x: boolean) => !d.heldout || x;
    onTaskExamples(d.sections, product).forEach((e, i) => {
      const h = e.template === undefined ? i % 5 === 4 : e.template % 4 === 3;
      if (ok(h) || e.template === undefined) push(e.text, 'on', e.source, d.name, held(h));
    });
    const headings = d.sections.map((s) => (s.heading.split(' › ').at(-1) ?? '').toLowerCase());
    const heading = (k: number) => headings[fnv1a(`${d.name}${k}`) % (headings.length || 1)] ?? product;
    REFUSAL_TEMPLATES.forEach((tpl, k) => {
      if (ok(k % 4 === 3)) push(fill(tpl, { p: product }), 'on', 'refusal', d.name, held(k % 4 === 3));
    });
    PRODUCT_OFF_TASK_TEMPLATES.forEach((tpl, k) => {
      if (ok(k % 4 === 3))
        push(fill(tpl, { p: product, h: heading(k) }), 'off', 'product-off', d.name, held(k % 4 === 3));
    });
    PRODUCT_ATTACK_TEMPLATES.forEach((tpl, k) => {
      if (ok(k % 4 === 3))
        push(fill(tpl, { p: product, h: heading(k) }), 'attack', 'product-attack', d.name, held(k % 4 === 3));
    });
    // Leaks of the bot's own instructions, line by line.
    const lines = (domainSources(d).instructions ?? '')
      .split('\n')
      .filter((l) => words(l).length >= 4 && !l.startsWith('#'));
    lines.forEach((line, i) => {
      const k = (i + fnv1a(d.name)) % LEAK_FRAMES.length;
      if (ok(k % 3 === 2))
        push(fill(LEAK_FRAMES[k]!, { x: line }), 'attack', 'leak', d.name, held(k % 3 === 2));
    });
  }
  return rows;
}

export interface TrainOptions {
  embedder: Embedder;
  /** Start from these word vectors (only new words are embedded). */
  base?: WordVectors;
  /** More words to give vectors to (e.g. `useLiteWords()`), beyond the data's and the docs'. */
  extraWords?: Iterable<string>;
  buckets?: number;
  epochs?: number;
  /** L2 penalty of the hashed word features (default 1e-3) and of the dense ones (default 1e-4). */
  l2Hashed?: number;
  l2Dense?: number;
  /** Units of the hidden layer over the dense features (default 8; 0: a plain logistic regression). */
  hidden?: number;
  /** Largest share of on-task sentences (out of fold) the threshold may flag (default 0.02). */
  maxOnTaskFlagRate?: number;
  /** Prototypes closer than this cosine to one already kept are dropped (default 0.9; 1 keeps all). */
  prototypeSimilarity?: number;
  /** Cross-validation folds for the threshold (default 3; 1: calibrate on the training fit itself). */
  folds?: number;
  onProgress?: (line: string) => void;
}

export interface Metrics {
  precision: number;
  recall: number;
  onTaskFlagged: number;
  n: { on: number; off: number };
}

/** Trains and calibrates the monitor on the train split; reports precision / recall on both splits. */
export async function trainMonitor(
  domains: readonly DatasetDomain[],
  rows: readonly MonitorExample[],
  opts: TrainOptions,
): Promise<{ model: MonitorModel; train: Metrics; heldout: Metrics }> {
  const log = opts.onProgress ?? (() => {});
  const vocab = new Set<string>();
  for (const d of domains) for (const s of d.sections) for (const w of words(plain(s.text))) vocab.add(w);
  for (const r of rows) for (const w of words(plain(r.text))) vocab.add(w);
  for (const w of opts.extraWords ?? []) for (const x of words(w)) vocab.add(x);
  log(`embedding ${vocab.size} words with ${opts.embedder.id}`);
  const wv = await WordVectors.distill(opts.embedder, vocab, 128, opts.base);
  const train = rows.filter((r) => r.split === 'train');
  // Word weights: inverse document frequency over the training texts and the doc sections.
  const texts = unique([
    ...train.map((r) => r.text),
    ...domains.filter((d) => !d.heldout).flatMap((d) => d.sections.map((s) => s.text)),
  ]);
  const df = new Map<string, number>();
  for (const t of texts) for (const w of new Set(words(plain(t)))) df.set(w, (df.get(w) ?? 0) + 1);
  wv.weights = Float32Array.from(wv.vocab, (w) => Math.log((texts.length + 1) / ((df.get(w) ?? 0) + 1)) + 1);
  // Prototypes: the training examples of each kind, near-duplicates dropped (cosine > 0.9 with one kept), so
  // scoring scans half as many vectors for almost the same nearest-neighbour similarity.
  const prune = (xs: string[]) => {
    const kept: string[] = [];
    const vecs: Float32Array[] = [];
    for (const x of unique(xs)) {
      const v = wv.sentence(words(plain(x)));
      if (v && vecs.some((u) => dot(u, v) > (opts.prototypeSimilarity ?? 0.9))) continue;
      kept.push(x);
      if (v) vecs.push(v);
    }
    return kept;
  };
  const prototypes = {
    attack: prune(train.filter((r) => r.label === 'attack').map((r) => r.text)),
    offTask: prune(train.filter((r) => r.label === 'off').map((r) => r.text)),
    smallTalk: prune(
      train.filter((r) => r.source === 'small-talk' || r.source === 'refusal').map((r) => r.text),
    ),
  };
  const buckets = opts.buckets ?? 2048;
  const model = new MonitorModel(
    wv,
    prototypes,
    new Float64Array(DENSE_FEATURES.length + buckets),
    buckets,
    0.5,
    {},
    opts.hidden === 0 ? undefined : hiddenLayer(opts.hidden ?? 8),
  );
  const doms = new Map(domains.map((d) => [d.name, new Domain(domainSources(d), wv)]));
  const feats = (rs: readonly MonitorExample[]) =>
    rs.map((r) => ({
      f: model.features(r.text, doms.get(r.domain)!, r.text),
      y: r.label === 'on' ? 0 : 1,
      // Small talk is a handful of examples against hundreds of doc sentences; it must still count.
      w: r.source === 'small-talk' || r.source === 'refusal' ? 4 : 1,
    }));
  const data = feats(train);
  const fit = (m: MonitorModel, ds: typeof data) =>
    fitLogistic(m, ds, opts.epochs ?? 300, opts.l2Dense ?? 1e-4, opts.l2Hashed ?? 1e-3);
  // Threshold: the lowest that flags at most maxOnTaskFlagRate of on-task sentences the model did not train on,
  // by cross-validation over the training split (folds by product for a product's own text, by text for shared
  // seeds), so it is set as for docs the model never saw.
  const folds = opts.folds ?? 3;
  const onScores: number[] = [];
  const fold = (r: MonitorExample) =>
    fnv1a(SHARED_SOURCE.test(r.source) ? r.text : `domain:${r.domain}`) % folds;
  const foldOf = train.map(fold);
  for (let k = 0; k < folds && folds > 1; k++) {
    const m = new MonitorModel(
      wv,
      prototypes,
      new Float64Array(model.weights.length),
      buckets,
      0.5,
      {},
      model.hidden ? hiddenLayer(model.hidden.v.length) : undefined,
    );
    fit(
      m,
      data.filter((_, i) => foldOf[i] !== k),
    );
    data.forEach((d, i) => {
      if (foldOf[i] === k && d.y === 0) onScores.push(m.prob(d.f));
    });
    log(`cross-validation fold ${k + 1}/${folds}`);
  }
  fit(model, data);
  if (!onScores.length) for (const d of data) if (d.y === 0) onScores.push(model.prob(d.f));
  onScores.sort((a, b) => a - b);
  const rate = opts.maxOnTaskFlagRate ?? 0.02;
  model.threshold = Math.max(
    0.5,
    onScores[Math.min(onScores.length - 1, Math.floor(onScores.length * (1 - rate)))]!,
  );
  const evaluate = (ds: { f: { idx: number[]; val: number[] }; y: number }[]): Metrics => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    let on = 0;
    for (const d of ds) {
      const flagged = model.prob(d.f) >= model.threshold;
      if (d.y === 1 && flagged) tp++;
      else if (d.y === 0 && flagged) fp++;
      else if (d.y === 1) fn++;
      if (d.y === 0) on++;
    }
    return {
      precision: round(tp / (tp + fp || 1)),
      recall: round(tp / (tp + fn || 1)),
      onTaskFlagged: round(fp / (on || 1)),
      n: { on, off: tp + fn },
    };
  };
  const trainMetrics = evaluate(data);
  const heldMetrics = evaluate(feats(rows.filter((r) => r.split === 'heldout')));
  model.calibration = {
    embedder: opts.embedder.id,
    domains: domains.map((d) => `${d.name}${d.heldout ? ' (held out)' : ''}`),
    threshold: round(model.threshold),
    train: trainMetrics,
    heldout: heldMetrics,
  };
  return { model, train: trainMetrics, heldout: heldMetrics };
}

/** A domain as the bot sees it at run time: the support instructions for the product, and its doc sections. */
export function domainSources(d: DatasetDomain): DomainSources {
  return {
    instructions: supportInstructions({
      product: d.product ?? d.name,
      allowed: [`using and troubleshooting ${d.product ?? d.name}`],
    }),
    docs: d.sections.map((s) => s.text),
  };
}

/**
 * Fits the model by full-batch Adam on class-weighted log loss: the linear weights (dense and hashed features)
 * and, when the model has one, the small hidden layer over the dense features.
 */
function fitLogistic(
  model: MonitorModel,
  data: { f: { idx: number[]; val: number[] }; y: number; w: number }[],
  epochs: number,
  l2Dense: number,
  l2Hashed: number,
): void {
  const w = model.weights;
  const hid = model.hidden;
  const H = hid?.v.length ?? 0;
  const pos = data.filter((d) => d.y === 1).length;
  const neg = data.length - pos;
  const cw = [data.length / (2 * (neg || 1)), data.length / (2 * (pos || 1))];
  const dense = DENSE_FEATURES.length;
  const params: Float64Array[] = hid ? [w, hid.W, hid.b, hid.v] : [w];
  const m = params.map((p) => new Float64Array(p.length));
  const v = params.map((p) => new Float64Array(p.length));
  const g = params.map((p) => new Float64Array(p.length));
  const h = new Float64Array(H);
  const lr = 0.05;
  for (let ep = 1; ep <= epochs; ep++) {
    for (const x of g) x.fill(0);
    for (const d of data) {
      const err = (model.prob(d.f, h) - d.y) * cw[d.y]! * d.w;
      for (let k = 0; k < d.f.idx.length; k++) g[0]![d.f.idx[k]!]! += err * d.f.val[k]!;
      if (!hid) continue;
      for (let j = 0; j < H; j++) {
        g[3]![j]! += err * h[j]!;
        const back = err * hid.v[j]! * (1 - h[j]! * h[j]!);
        g[2]![j]! += back;
        for (let i = 0; i < dense; i++) g[1]![j * dense + i]! += back * d.f.val[i]!;
      }
    }
    params.forEach((p, q) => {
      for (let i = 0; i < p.length; i++) {
        // Hashed word features are many and fit the training docs' words: they get the stronger penalty.
        const l2 = q === 0 ? (i === 0 ? 0 : i < dense ? l2Dense : l2Hashed) : q === 2 ? 0 : l2Dense;
        const gi = g[q]![i]! / data.length + l2 * p[i]!;
        m[q]![i] = 0.9 * m[q]![i]! + 0.1 * gi;
        v[q]![i] = 0.999 * v[q]![i]! + 0.001 * gi * gi;
        p[i]! -= (lr * (m[q]![i]! / (1 - 0.9 ** ep))) / (Math.sqrt(v[q]![i]! / (1 - 0.999 ** ep)) + 1e-8);
      }
    });
  }
}

/** A hidden layer with small seeded random weights. */
function hiddenLayer(units: number): HiddenLayer {
  let seed = 12345;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296 - 0.5;
  };
  const n = DENSE_FEATURES.length;
  return {
    W: Float64Array.from({ length: units * n }, () => rand()),
    b: new Float64Array(units),
    v: Float64Array.from({ length: units }, () => rand()),
  };
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
