/**
 * Rebuilds data/benchmarks.jsonl.gz from the shared proxy-label set (MMLU/GSM8K with weak/strong correctness,
 * MATH-500 with levels), adding the effort labels of data/RUBRIC.md. `subject` is kept: training smooths the size
 * labels towards each subject's rate (see TrainOptions.subjectSmoothing).
 *
 *   node --import tsx packages/router/scripts/prepare-data.ts [/work/shared/data/router/train.jsonl]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const input = process.argv[2] ?? '/work/shared/data/router/train.jsonl';
const output = new URL('../data/benchmarks.jsonl.gz', import.meta.url);

// MMLU subjects whose questions need multi-step calculation or formal reasoning: medium effort (RUBRIC.md).
const REASONING_SUBJECTS = new Set([
  'abstract_algebra',
  'college_chemistry',
  'college_computer_science',
  'college_mathematics',
  'college_physics',
  'econometrics',
  'elementary_mathematics',
  'formal_logic',
  'high_school_chemistry',
  'high_school_computer_science',
  'high_school_mathematics',
  'high_school_physics',
  'high_school_statistics',
  'machine_learning',
]);

interface SharedRow {
  id: string;
  source: 'mmlu' | 'gsm8k' | 'math500';
  subject: string;
  prompt: string;
  weak_correct?: boolean;
  strong_correct?: boolean;
  level?: number;
}

const out: string[] = [];
for (const line of readFileSync(input, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const r = JSON.parse(line) as SharedRow;
  const row: Record<string, unknown> = { id: r.id, source: r.source, subject: r.subject, prompt: r.prompt };
  if (r.source === 'math500') row.level = r.level;
  else {
    row.weak_correct = r.weak_correct;
    row.strong_correct = r.strong_correct;
    row.effort = r.source === 'gsm8k' || REASONING_SUBJECTS.has(r.subject) ? 'medium' : 'low';
  }
  out.push(JSON.stringify(row));
}
writeFileSync(output, gzipSync(`${out.join('\n')}\n`, { level: 9 }));
console.log(`wrote ${out.length} rows to ${output.pathname}`);
