import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { ModelSize, ReasoningEffort } from '@harmonia/core';
import { fnv1a, mix32 } from './hash.js';

/**
 * One training/eval row, as users log it. `prompt` is required; labels are any of: `weak_correct` +
 * `strong_correct` (did 20b / 120b answer correctly), `level` (1–5 difficulty), explicit `model` and `effort`, and
 * per-effort outcomes of one model: `correct_low|medium|high` (was the answer at that effort correct) or
 * `answer_low|medium|high` (the final answer at that effort, when no grader is at hand).
 */
export interface RouterRow {
  id?: string;
  source?: string;
  subject?: string;
  prompt: string;
  weak_correct?: boolean;
  strong_correct?: boolean;
  level?: number;
  model?: ModelSize;
  effort?: ReasoningEffort;
  correct_low?: boolean;
  correct_medium?: boolean;
  correct_high?: boolean;
  answer_low?: string;
  answer_medium?: string;
  answer_high?: string;
}

export interface Dataset {
  name: string;
  sha256: string;
  rows: RouterRow[];
}

/** A row with its labels resolved. */
export interface Example {
  key: string;
  source: string;
  subject?: string;
  prompt: string;
  /** 1 = 120b needed. */
  size?: 0 | 1;
  /** The size label came from weak/strong outcomes (noisy), not from an explicit `model` label. */
  sizeFromOutcome?: boolean;
  /** 0 = low, 1 = medium, 2 = high. */
  effort?: 0 | 1 | 2;
  weakCorrect?: boolean;
  strongCorrect?: boolean;
}

/** Bad training/eval data: names the file and line so nothing is silently dropped. */
export class RouterDataError extends Error {
  override name = 'RouterDataError';
}

const EFFORT_INDEX: Record<ReasoningEffort, 0 | 1 | 2> = { low: 0, medium: 1, high: 2 };

/** Level 1 → low, 2–3 → medium, 4–5 → high (see data/RUBRIC.md). */
export function effortFromLevel(level: number): 0 | 1 | 2 {
  return level <= 1 ? 0 : level <= 3 ? 1 : 2;
}

const EFFORT_NAMES = ['low', 'medium', 'high'] as const;

function normalAnswer(a: string): string {
  return a
    .trim()
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/[.\s]+$/, '');
}

/**
 * The effort a row needs, from one model's answers at low / medium / high effort:
 *   - with graded answers (`correct_*`): the lowest effort whose answer was correct; none correct → no label
 *     (more effort did not help, so the row says nothing about effort);
 *   - with answers only (`answer_*`, `answer_high` required): the lowest effort from which every higher effort
 *     gives the same answer as high — where the answers stop differing. An effort left out is skipped.
 * Returns undefined when the row carries neither.
 */
export function effortFromOutcomes(row: RouterRow): 0 | 1 | 2 | undefined {
  const graded = EFFORT_NAMES.map((e) => row[`correct_${e}`]);
  if (graded.some((c) => c !== undefined)) {
    const first = graded.indexOf(true);
    return first < 0 ? undefined : (first as 0 | 1 | 2);
  }
  const answers = EFFORT_NAMES.map((e) => row[`answer_${e}`]);
  const high = answers[2];
  if (high === undefined) return undefined;
  let need: 0 | 1 | 2 = 2;
  for (let i = 1; i >= 0; i--) {
    const a = answers[i];
    if (a === undefined) continue;
    if (normalAnswer(a) !== normalAnswer(high)) break;
    need = i as 0 | 1;
  }
  return need;
}

function checkRow(raw: unknown, where: string): RouterRow {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new RouterDataError(`${where}: not a JSON object`);
  const r = raw as Record<string, unknown>;
  if (typeof r.prompt !== 'string' || r.prompt.trim() === '')
    throw new RouterDataError(`${where}: "prompt" must be a non-empty string`);
  for (const k of ['weak_correct', 'strong_correct'])
    if (r[k] !== undefined && typeof r[k] !== 'boolean')
      throw new RouterDataError(`${where}: "${k}" must be true/false`);
  if (
    r.level !== undefined &&
    !(Number.isInteger(r.level) && (r.level as number) >= 1 && (r.level as number) <= 5)
  )
    throw new RouterDataError(`${where}: "level" must be an integer 1–5`);
  if (r.model !== undefined && r.model !== '20b' && r.model !== '120b')
    throw new RouterDataError(`${where}: "model" must be "20b" or "120b"`);
  if (r.effort !== undefined && !(typeof r.effort === 'string' && r.effort in EFFORT_INDEX))
    throw new RouterDataError(`${where}: "effort" must be "low", "medium" or "high"`);
  for (const k of ['id', 'source', 'subject', 'answer_low', 'answer_medium', 'answer_high'])
    if (r[k] !== undefined && typeof r[k] !== 'string')
      throw new RouterDataError(`${where}: "${k}" must be a string`);
  for (const k of ['correct_low', 'correct_medium', 'correct_high'])
    if (r[k] !== undefined && typeof r[k] !== 'boolean')
      throw new RouterDataError(`${where}: "${k}" must be true/false`);
  if (r.answer_high === undefined && (r.answer_low !== undefined || r.answer_medium !== undefined))
    throw new RouterDataError(`${where}: "answer_high" is required with "answer_low"/"answer_medium"`);
  return r as unknown as RouterRow;
}

/** Parses JSONL text into rows; every bad line is an error naming the line. */
export function parseRows(text: string, name: string): RouterRow[] {
  const rows: RouterRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      throw new RouterDataError(`${name}:${i + 1}: invalid JSON (${(err as Error).message})`);
    }
    rows.push(checkRow(raw, `${name}:${i + 1}`));
  }
  if (rows.length === 0) throw new RouterDataError(`${name}: no rows`);
  return rows;
}

/** Reads a `.jsonl` or `.jsonl.gz` file. */
export function readDataset(path: string): Dataset {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new RouterDataError(`cannot read ${path}: ${(err as Error).message}`);
  }
  const text = path.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
  const name = basename(path);
  return { name, sha256: createHash('sha256').update(bytes).digest('hex'), rows: parseRows(text, name) };
}

/** Resolves a row's labels. Returns undefined for a row that carries no label at all. */
export function toExample(row: RouterRow, datasetName: string, index: number): Example | undefined {
  const ex: Example = {
    key: row.id ?? `${datasetName}#${index}:${row.prompt}`,
    source: row.source ?? datasetName.replace(/\.jsonl(\.gz)?$/, ''),
    prompt: row.prompt,
  };
  if (row.subject) ex.subject = row.subject;
  if (row.model) {
    ex.size = row.model === '120b' ? 1 : 0;
    // An explicit label reads as an outcome: "20b suffices" = both answer well, "120b" = only 120b does.
    ex.weakCorrect = row.model === '20b';
    ex.strongCorrect = true;
  } else if (row.weak_correct !== undefined && row.strong_correct !== undefined) {
    // RouteLLM's "strong wins" label: only the large model got it right.
    ex.size = row.strong_correct && !row.weak_correct ? 1 : 0;
    ex.sizeFromOutcome = true;
  }
  if (!row.model && row.weak_correct !== undefined && row.strong_correct !== undefined) {
    ex.weakCorrect = row.weak_correct;
    ex.strongCorrect = row.strong_correct;
  }
  const fromOutcomes = row.effort ? undefined : effortFromOutcomes(row);
  if (row.effort) ex.effort = EFFORT_INDEX[row.effort];
  else if (fromOutcomes !== undefined) ex.effort = fromOutcomes;
  else if (row.level !== undefined) ex.effort = effortFromLevel(row.level);
  return ex.size === undefined && ex.effort === undefined ? undefined : ex;
}

export function toExamples(datasets: readonly Dataset[]): Example[] {
  const out: Example[] = [];
  for (const d of datasets)
    d.rows.forEach((r, i) => {
      const ex = toExample(r, d.name, i);
      if (ex) out.push(ex);
    });
  return out;
}

export type Split = 'train' | 'calibration' | 'holdout';

/**
 * Deterministic split by a hash of the row key, independent of the training seed: the same row is held out in
 * `train` and `eval`. `holdout` of the rows are held out; `calibration` of the rest tune the thresholds.
 */
export function splitOf(key: string, holdout: number, calibration = 0.15): Split {
  const u = mix32(fnv1a(key, fnv1a('split:'))) / 4294967296;
  if (u < holdout) return 'holdout';
  return (u - holdout) / (1 - holdout) < calibration ? 'calibration' : 'train';
}
