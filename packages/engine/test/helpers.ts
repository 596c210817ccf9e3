import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADDON_PATH, nativeAvailable, writeSyntheticCheckpoint } from '../src/index.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Builds the addon once if this checkout has not built it yet (CI runs `tsc -b` only). Test files run in
 * parallel workers, so a lock directory makes the others wait for the one that builds.
 */
export function ensureNative(): void {
  if (existsSync(ADDON_PATH) && nativeAvailable()) return;
  const lock = join(pkg, 'build.lock');
  try {
    mkdirSync(lock);
  } catch {
    for (let i = 0; i < 600 && existsSync(lock); i++) sleep(500);
    if (!nativeAvailable())
      throw new Error(
        `the native addon did not build (see 'pnpm --filter @harmonia/engine run build:native')`,
      );
    return;
  }
  try {
    execFileSync('pnpm', ['run', 'build:native'], { cwd: pkg, stdio: 'ignore' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
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
