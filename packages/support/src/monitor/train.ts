import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { chunkDocument, formatOf } from '../chunk.js';
import type { Embedder } from '../embedders.js';
import { supportInstructions } from '../policy.js';
import { DENSE_FEATURES, Domain, type DomainSources, MonitorModel } from './model.js';
import { ATTACKS, OFF_TASK, OFF_TASK_FRAMES, OFF_TASK_TASKS, ON_TASK_TEMPLATES, SMALL_TALK } from './seed.js';
import { fnv1a, plain, sentences, words } from './text.js';
import { WordVectors } from './vectors.js';

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
): { text: string; source: string }[] {
  const out: { text: string; source: string }[] = [];
  for (const s of sections) {
    for (const sent of sentences(s.text.split('\n').slice(1).join('\n')))
      if (words(sent).length >= 3) out.push({ text: sent, source: `doc:${s.file}` });
    const parts = s.heading.split(' › ');
    const h = (parts.at(-1) ?? '').toLowerCase();
    const t = parts[0] ?? '';
    // Two templates per section, chosen by hash so every template is used across the docs.
    const k = fnv1a(s.heading) % ON_TASK_TEMPLATES.length;
    for (const tpl of [ON_TASK_TEMPLATES[k]!, ON_TASK_TEMPLATES[(k + 3) % ON_TASK_TEMPLATES.length]!])
      out.push({ text: tpl.replaceAll('{h}', h).replaceAll('{t}', t), source: `template:${s.file}` });
  }
  return out;
}

export interface DatasetDomain {
  name: string;
  sections: { file: string; heading: string; text: string }[];
  /** Every example of a held-out domain is held out: it measures how the monitor does on docs it never saw. */
  heldout?: boolean;
}

/**
 * The dataset: on-task examples from each domain's docs, small talk, and the seed off-task and attack examples
 * (every fourth of each group held out, and whole held-out domains). Off-task and attack examples are paired
 * with every domain: they are off task for all of them.
 */
export function buildDataset(domains: readonly DatasetDomain[]): MonitorExample[] {
  const rows: MonitorExample[] = [];
  for (const d of domains) {
    const on = onTaskExamples(d.sections);
    on.forEach((e, i) => {
      rows.push({ ...e, label: 'on', domain: d.name, split: d.heldout || i % 5 === 4 ? 'heldout' : 'train' });
    });
    SMALL_TALK.forEach((text, i) => {
      const split = i % 4 === 3 ? 'heldout' : 'train';
      if (!d.heldout || split === 'heldout')
        rows.push({
          text,
          label: 'on',
          source: 'small-talk',
          domain: d.name,
          split: d.heldout ? 'heldout' : split,
        });
    });
    // A held-out domain gets only the held-out seeds: no text of the training split is ever evaluated on.
    const seeded = (
      groups: Readonly<Record<string, readonly string[]>>,
      label: ExampleLabel,
      tag: string,
    ) => {
      for (const [g, texts] of Object.entries(groups))
        texts.forEach((text, i) => {
          const split = i % 4 === 3 ? 'heldout' : 'train';
          if (d.heldout && split === 'train') return;
          rows.push({
            text,
            label,
            source: `${tag}:${g}`,
            domain: d.name,
            split: d.heldout ? 'heldout' : split,
          });
        });
    };
    seeded(OFF_TASK, 'off', 'off');
    // Framed tasks: the task decides the split, so a held-out task is never seen in any frame.
    for (const [g, tasks] of Object.entries(OFF_TASK_TASKS))
      tasks.forEach((task, i) => {
        const split = i % 4 === 3 ? 'heldout' : 'train';
        if (d.heldout && split === 'train') return;
        OFF_TASK_FRAMES.forEach((frame, k) => {
          if ((i + k) % 2) return;
          rows.push({
            text: frame.replace('{x}', task),
            label: 'off',
            source: `off-task:${g}`,
            domain: d.name,
            split: d.heldout ? 'heldout' : split,
          });
        });
      });
    seeded(ATTACKS, 'attack', 'attack');
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
  /** Largest share of on-task training sentences the threshold may flag (default 0.04). */
  maxOnTaskFlagRate?: number;
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
  const prototypes = {
    attack: unique(train.filter((r) => r.label === 'attack').map((r) => r.text)),
    offTask: unique(train.filter((r) => r.label === 'off').map((r) => r.text)),
    smallTalk: unique(train.filter((r) => r.source === 'small-talk').map((r) => r.text)),
  };
  const buckets = opts.buckets ?? 2048;
  const model = new MonitorModel(
    wv,
    prototypes,
    new Float64Array(DENSE_FEATURES.length + buckets),
    buckets,
    0.5,
  );
  const doms = new Map(domains.map((d) => [d.name, new Domain(domainSources(d), wv)]));
  const feats = (rs: readonly MonitorExample[]) =>
    rs.map((r) => ({
      f: model.features(r.text, doms.get(r.domain)!, r.text),
      y: r.label === 'on' ? 0 : 1,
      // Small talk is a handful of examples against hundreds of doc sentences; it must still count.
      w: r.source === 'small-talk' ? 4 : 1,
    }));
  const data = feats(train);
  fitLogistic(model, data, opts.epochs ?? 300);
  // Threshold: the lowest that flags at most maxOnTaskFlagRate of the on-task training sentences.
  const onScores = data
    .filter((d) => d.y === 0)
    .map((d) => model.prob(d.f))
    .sort((a, b) => a - b);
  const rate = opts.maxOnTaskFlagRate ?? 0.04;
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
    instructions: supportInstructions({ product: d.name, allowed: [`using and troubleshooting ${d.name}`] }),
    docs: d.sections.map((s) => s.text),
  };
}

function fitLogistic(
  model: MonitorModel,
  data: { f: { idx: number[]; val: number[] }; y: number; w: number }[],
  epochs: number,
): void {
  const w = model.weights;
  const pos = data.filter((d) => d.y === 1).length;
  const neg = data.length - pos;
  const cw = [data.length / (2 * (neg || 1)), data.length / (2 * (pos || 1))];
  const m = new Float64Array(w.length);
  const v = new Float64Array(w.length);
  const lr = 0.05;
  // Hashed word features are many and fit the training docs' words; a stronger penalty keeps the decision on
  // the domain-relative features, which carry over to docs never seen in training.
  const l2Dense = 1e-4;
  const l2Hashed = 3e-3;
  const dense = DENSE_FEATURES.length;
  for (let ep = 1; ep <= epochs; ep++) {
    const g = new Float64Array(w.length);
    for (const d of data) {
      const err = (model.prob(d.f) - d.y) * cw[d.y]! * d.w;
      for (let k = 0; k < d.f.idx.length; k++) g[d.f.idx[k]!]! += err * d.f.val[k]!;
    }
    for (let i = 0; i < w.length; i++) {
      const gi = g[i]! / data.length + (i === 0 ? 0 : (i < dense ? l2Dense : l2Hashed) * w[i]!);
      m[i] = 0.9 * m[i]! + 0.1 * gi;
      v[i] = 0.999 * v[i]! + 0.001 * gi * gi;
      w[i]! -= (lr * (m[i]! / (1 - 0.9 ** ep))) / (Math.sqrt(v[i]! / (1 - 0.999 ** ep)) + 1e-8);
    }
  }
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
