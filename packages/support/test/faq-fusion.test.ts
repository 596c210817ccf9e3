import { describe, expect, it } from 'vitest';
import { reciprocalRankFusion } from '../src/index.js';

describe('reciprocalRankFusion', () => {
  it('ranks items found by both lists first', () => {
    expect(
      reciprocalRankFusion([
        ['a', 'b', 'c'],
        ['c', 'd', 'a'],
      ])[0],
    ).toBe('a');
  });

  it('breaks the top-1 tie between two lists by the first list, not by arrival order', () => {
    // Both tops score 1/61: the known LanceDB pitfall. The first list decides.
    expect(reciprocalRankFusion([['fts-hit'], ['vec-hit']])).toEqual(['fts-hit', 'vec-hit']);
    expect(reciprocalRankFusion([['vec-hit'], ['fts-hit']])).toEqual(['vec-hit', 'fts-hit']);
  });
});
