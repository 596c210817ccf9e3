// What a user sees while the addon builds on first use: the build says it started and how long it took, and the
// compiler's file lines; the rest of node-gyp's chatter is left out.
import { describe, expect, it } from 'vitest';
import { buildProgressLine } from '../src/index.js';

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
