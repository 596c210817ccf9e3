// What a user sees while the addon builds on first use: the build says it started and how long it took, and the
// compiler's file lines; the rest of node-gyp's chatter is left out.
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { addonCurrent, buildProgressLine, sourcesDigest } from '../src/index.js';

describe('the first-use build progress', () => {
  it('shows its own first and last lines, file lines and errors; not the rest', () => {
    expect(buildProgressLine('building the native engine (first use; about 1-2 minutes)', 0)).toBe(
      '[engine build 0s] building the native engine (first use; about 1-2 minutes)',
    );
    expect(buildProgressLine('native engine built in 39 s', 39.2)).toBe(
      '[engine build 39s] native engine built in 39 s',
    );
    expect(buildProgressLine('  CXX(target) Release/obj.target/harmonia_engine/native/model.o', 2.4)).toBe(
      '[engine build 2s] CXX(target) Release/obj.target/harmonia_engine/native/model.o',
    );
    expect(buildProgressLine('../native/model.cc:1:10: fatal error: x.h: No such file', 5)).toContain(
      'fatal error',
    );
    expect(buildProgressLine('gyp info spawn args [ ... ]', 1)).toBeUndefined();
    expect(buildProgressLine("make: Entering directory '/x/build'", 1)).toBeUndefined();
  });
});

describe('a built addon is rebuilt when its sources change (an updated checkout or package)', () => {
  it('is current without a record, or with the digest of the sources now there; stale after a source edit', () => {
    const pkg = mkdtempSync(join(tmpdir(), 'harmonia-engine-src-'));
    const here = join(dirname(fileURLToPath(import.meta.url)), '..');
    cpSync(join(here, 'native'), join(pkg, 'native'), { recursive: true });
    cpSync(join(here, 'binding.gyp'), join(pkg, 'binding.gyp'));
    const addon = join(pkg, 'harmonia_engine.node');
    const stamp = `${addon}.sources`;
    expect(addonCurrent(addon, stamp, pkg)).toBe(false);
    writeFileSync(addon, 'built');
    expect(addonCurrent(addon, stamp, pkg)).toBe(true);
    writeFileSync(stamp, `${sourcesDigest(pkg)}\n`);
    expect(addonCurrent(addon, stamp, pkg)).toBe(true);
    writeFileSync(join(pkg, 'native', 'model.cc'), '// changed\n', { flag: 'a' });
    expect(addonCurrent(addon, stamp, pkg)).toBe(false);
    expect(sourcesDigest(pkg)).not.toBe(sourcesDigest(here));
  });
});
