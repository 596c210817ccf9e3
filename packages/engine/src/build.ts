/**
 * The native addon is built on first use (or by `harmonia engine build`), not on every install: building takes a
 * minute or two and needs a C++ toolchain that most users of Harmonia, who run a model server, never need.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NativeUnavailableError } from './errors.js';
import { ADDON_PATH } from './native.js';

const SCRIPT = fileURLToPath(new URL('../scripts/build-native.mjs', import.meta.url));

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

/** Whether the addon is already built. */
export const nativeBuilt = (): boolean => existsSync(ADDON_PATH);

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
  report('building the native engine (first use; about 1-2 minutes)', 0);
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
  if (code !== 0 || !nativeBuilt()) {
    throw new NativeUnavailableError(
      `building the native engine failed (exit ${code}); it needs a C++ compiler, make and python3:\n${tail.join('\n')}`,
    );
  }
  report(`native engine built in ${((Date.now() - t0) / 1000).toFixed(0)} s`, (Date.now() - t0) / 1000);
}
