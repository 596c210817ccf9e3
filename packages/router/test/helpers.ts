import { fileURLToPath } from 'node:url';
import { type Dataset, readDataset } from '../src/index.js';

export const DATA_DIR = fileURLToPath(new URL('../data/', import.meta.url));

let benchmarks: Dataset | undefined;
let support: Dataset | undefined;
export const benchmarkData = () => (benchmarks ??= readDataset(`${DATA_DIR}benchmarks.jsonl.gz`));
export const supportData = () => (support ??= readDataset(`${DATA_DIR}support.jsonl`));

/** Every n-th row of a dataset: a small, stable training set for fast tests. */
export function everyNth(d: Dataset, n: number): Dataset {
  return { ...d, rows: d.rows.filter((_, i) => i % n === 0) };
}
