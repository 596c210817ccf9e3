import { readFile } from 'node:fs/promises';
import { FaqIndexError } from './errors.js';
import type { FaqIndex, Fusion, SearchMode } from './store.js';

export interface EvalQuestion {
  question: string;
  /** File name (relative to the docs folder) of the document that answers the question. */
  answer_doc: string;
}

/** One retrieval setup to score: a search mode, and for hybrid the fusion. */
export interface EvalVariant {
  /** Printed name: `vector`, `fulltext`, `hybrid`, `hybrid-rrf`. */
  name: string;
  mode: SearchMode;
  fusion?: Fusion;
}

export interface ModeScore {
  mode: string;
  /** Share of questions whose answer document is among the first `k` distinct documents. */
  recallAtK: number;
  /** Mean reciprocal rank of the answer document (0 when it is not in the first 20). */
  mrr: number;
  questions: number;
  /** Questions whose answer document was not in the first `k`. */
  misses: { question: string; expected: string; got: string[] }[];
}

export const EVAL_VARIANTS: readonly EvalVariant[] = [
  { name: 'vector', mode: 'vector' },
  { name: 'fulltext', mode: 'fulltext' },
  { name: 'hybrid', mode: 'hybrid', fusion: 'relative' },
  { name: 'hybrid-rrf', mode: 'hybrid', fusion: 'rrf' },
];

/** Reads a JSONL file of `{"question", "answer_doc"}` rows; a bad row names its line. */
export async function loadQuestions(file: string): Promise<EvalQuestion[]> {
  const text = await readFile(file, 'utf8').catch((err: Error) => {
    throw new FaqIndexError(`cannot read questions file ${file}: ${err.message}`);
  });
  const out: EvalQuestion[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new FaqIndexError(`${file}:${i + 1}: not valid JSON`);
    }
    const r = row as Partial<EvalQuestion>;
    if (typeof r?.question !== 'string' || typeof r.answer_doc !== 'string') {
      throw new FaqIndexError(`${file}:${i + 1}: expected {"question": string, "answer_doc": string}`);
    }
    out.push({ question: r.question, answer_doc: r.answer_doc });
  });
  if (out.length === 0) throw new FaqIndexError(`${file}: no questions`);
  return out;
}

/** Document-level retrieval quality of each search mode over an indexed folder. */
export async function evaluate(
  index: FaqIndex,
  questions: readonly EvalQuestion[],
  options: { k?: number; variants?: readonly EvalVariant[] } = {},
): Promise<ModeScore[]> {
  const k = options.k ?? 5;
  const scores: ModeScore[] = [];
  for (const variant of options.variants ?? EVAL_VARIANTS) {
    const { mode, fusion } = variant;
    let found = 0;
    let rr = 0;
    const misses: ModeScore['misses'] = [];
    for (const q of questions) {
      const docs = (await index.search(q.question, { mode, fusion, limit: 20, distinctDocs: true })).map(
        (h) => h.doc,
      );
      const rank = docs.indexOf(q.answer_doc);
      if (rank >= 0 && rank < k) found++;
      else misses.push({ question: q.question, expected: q.answer_doc, got: docs.slice(0, k) });
      if (rank >= 0) rr += 1 / (rank + 1);
    }
    scores.push({
      mode: variant.name,
      recallAtK: found / questions.length,
      mrr: rr / questions.length,
      questions: questions.length,
      misses,
    });
  }
  return scores;
}

/** `hybrid recall@5 0.94 mrr 0.81` */
export function formatScore(s: ModeScore, k = 5): string {
  return `${s.mode} recall@${k} ${s.recallAtK.toFixed(2)} mrr ${s.mrr.toFixed(2)}`;
}
