import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeAvailable, writeSyntheticCheckpoint } from '../src/index.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Builds the addon once if this checkout has not built it yet (CI runs `tsc -b` only). */
export function ensureNative(): void {
  if (nativeAvailable()) return;
  execFileSync('pnpm', ['run', 'build:native'], { cwd: pkg, stdio: 'ignore' });
}

export function tinyCheckpoint(seed = 7, layout: 'hf' | 'both' = 'both'): string {
  const dir = mkdtempSync(join(tmpdir(), 'harmonia-engine-'));
  writeSyntheticCheckpoint({ out: dir, preset: 'tiny', layout, seed });
  return dir;
}

export function maxAbsDiff(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let m = 0;
  a.forEach((row, t) => {
    for (let i = 0; i < row.length; i++) m = Math.max(m, Math.abs(row[i]! - b[t]![i]!));
  });
  return m;
}

export const argmax = (row: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
};
