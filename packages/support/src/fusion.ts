/**
 * Reciprocal-rank fusion of several ranked lists. Ties are frequent on small tables (the top hit of each list
 * both score 1/(k+1)), and LanceDB's built-in RRF reranker then keeps whichever came first. Here a tie goes to
 * the item found by more lists, then to the item with the better best rank, then to the earlier list's order
 * (`lists[0]` is the tie-breaker of last resort, so pass the more precise ranking first).
 */
export function reciprocalRankFusion(lists: readonly (readonly string[])[], k = 60): string[] {
  const acc = new Map<
    string,
    { score: number; hits: number; best: number; firstList: number; firstRank: number }
  >();
  lists.forEach((list, li) => {
    list.forEach((id, rank) => {
      const a = acc.get(id);
      const s = 1 / (k + rank + 1);
      if (a) {
        a.score += s;
        a.hits += 1;
        a.best = Math.min(a.best, rank);
      } else {
        acc.set(id, { score: s, hits: 1, best: rank, firstList: li, firstRank: rank });
      }
    });
  });
  return [...acc.entries()]
    .sort(
      ([, a], [, b]) =>
        b.score - a.score ||
        b.hits - a.hits ||
        a.best - b.best ||
        a.firstList - b.firstList ||
        a.firstRank - b.firstRank,
    )
    .map(([id]) => id);
}

/**
 * Relative score fusion: each list's scores are min-max scaled to [0, 1] and summed with weights, so that a
 * confident leader (a BM25 score far above the rest) keeps its lead, which rank-only fusion throws away.
 */
export function relativeScoreFusion(
  lists: readonly (readonly { id: string; score: number }[])[],
  weights: readonly number[] = lists.map(() => 1),
): string[] {
  const acc = new Map<string, number>();
  lists.forEach((list, li) => {
    if (list.length === 0) return;
    const scores = list.map((h) => h.score);
    const max = Math.max(...scores);
    const min = Math.min(...scores);
    for (const h of list) {
      const scaled = max > min ? (h.score - min) / (max - min) : 1;
      acc.set(h.id, (acc.get(h.id) ?? 0) + (weights[li] ?? 1) * scaled);
    }
  });
  return [...acc.entries()].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)).map(([id]) => id);
}
