/**
 * The native addon is built on first use (or by `harmonia engine build`), not on every install: building takes a
 * minute or two and needs a C++ toolchain that most users of Harmonia, who run a model server, never need.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeUnavailableError } from './errors.js';
import { ADDON_PATH } from './native.js';

const SCRIPT = fileURLToPath(new URL('../scripts/build-native.mjs', import.meta.url));
const PKG = fileURLToPath(new URL('..', import.meta.url));
/** Next to the addon: the digest of the sources it was built from (written by `ensureNativeBuilt`). */
const STAMP = `${ADDON_PATH}.sources`;

/** A digest of what the addon is compiled from: binding.gyp and every file in native/. */
export function sourcesDigest(pkgDir: string = PKG): string {
  const h = createHash('sha256');
  const native = readdirSync(join(pkgDir, 'native'), { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => `native/${e.name}`)
    .sort();
  for (const f of ['binding.gyp', ...native])
    h.update(`${f}\0`)
      .update(readFileSync(join(pkgDir, f)))
      .update('\0');
  return h.digest('hex');
}

/**
 * Whether an addon is there and current: built from the sources now in the package when its build recorded them
 * (an update of the checkout or the package changes them); one built without a record counts as current.
 */
export function addonCurrent(addon: string, stamp: string, pkgDir: string = PKG): boolean {
  if (!existsSync(addon)) return false;
  if (!existsSync(stamp)) return true;
  try {
    return readFileSync(stamp, 'utf8').trim() === sourcesDigest(pkgDir);
  } catch {
    return true;
  }
}

/** Receives a line of the build's output, with the seconds since it started. */
export type BuildProgress = (line: string, seconds: number) => void;

/**
 * What the default progress shows of a build output line: the compiler's file lines, errors, and the build's own
 * first and last lines ("building the native engine …", "native engine built in N s"); undefined for the rest.
 */
export function buildProgressLine(line: string, seconds: number): string | undefined {
  if (!/(CXX|SOLINK|CC)\(|gyp info ok|error|native engine/i.test(line)) return undefined;
  return `[engine build ${seconds.toFixed(0)}s] ${line.trim()}`;
}

/** Whether the addon is built, from the sources now in the package. */
export const nativeBuilt = (): boolean => addonCurrent(ADDON_PATH, STAMP);

/**
 * Builds the addon unless it is there. `onProgress` sees every output line of the compiler (default: one line on
 * stderr per compiled file, with the elapsed time). A failed build throws `NativeUnavailableError` with its last
 * lines.
 */
export async function ensureNativeBuilt(
  opts: { force?: boolean; onProgress?: BuildProgress } = {},
): Promise<void> {
  if (!opts.force && nativeBuilt()) return;
  const t0 = Date.now();
  const report: BuildProgress =
    opts.onProgress ??
    ((line, s) => {
      const shown = buildProgressLine(line, s);
      if (shown) process.stderr.write(`${shown}\n`);
    });
  report(
    existsSync(ADDON_PATH) && !opts.force
      ? 'rebuilding the native engine: its sources changed since it was built (about 1-2 minutes)'
      : 'building the native engine (first use; about 1-2 minutes)',
    0,
  );
  const tail: string[] = [];
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (buf: Buffer) => {
      for (const line of buf.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        report(line, (Date.now() - t0) / 1000);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => {
      tail.push(e.message);
      resolve(1);
    });
    child.on('close', (c) => resolve(c ?? 1));
  });
  if (code !== 0 || !existsSync(ADDON_PATH)) {
    throw new NativeUnavailableError(
      `building the native engine failed (exit ${code}); it needs a C++ compiler, make and python3:\n${tail.join('\n')}`,
    );
  }
  writeFileSync(STAMP, `${sourcesDigest()}\n`);
  report(`native engine built in ${((Date.now() - t0) / 1000).toFixed(0)} s`, (Date.now() - t0) / 1000);
}
