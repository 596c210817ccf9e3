/**
 * Splits a long answer into messages of at most `max` characters, preferring (in order) a paragraph break, the
 * end of a code block, a line break, a sentence end, a space. A split inside a fenced code block closes the fence
 * at the end of one message and reopens it (same language) at the start of the next, so each message renders.
 * Greedy and prefix-stable: while an answer streams in, messages before the last one never change.
 */
export function splitMessage(text: string, max: number): string[] {
  if (max < 40) throw new RangeError(`splitMessage: max must be at least 40 (got ${max})`);
  const out: string[] = [];
  let rest = text;
  let reopen = '';
  while ((reopen + rest).length > max) {
    const body = reopen + rest;
    // Room for a closing fence if we end up inside a code block.
    const limit = max - 4;
    const cut = bestCut(body, limit, reopen.length);
    let chunk = body.slice(0, cut);
    const fence = openFence(chunk);
    if (fence !== undefined) chunk = `${chunk.replace(/\s+$/, '')}\n\`\`\``;
    out.push(chunk.replace(/\s+$/, ''));
    rest = body.slice(cut).replace(/^[ \t]*\n?/, '');
    reopen = fence !== undefined ? `\`\`\`${fence}\n` : '';
  }
  const last = reopen + rest;
  if (last.trim() || out.length === 0) out.push(last);
  return out;
}

/** Where to cut `body` at or before `limit`, never inside the reopened fence header. */
function bestCut(body: string, limit: number, minimum: number): number {
  const window = body.slice(0, limit);
  const floor = Math.max(minimum + 1, Math.floor(limit / 3));
  const tries: RegExp[] = [/\n\s*\n/g, /\n```[ \t]*\n/g, /\n/g, /[.!?…][)"'\]]*\s/g, /\s/g];
  for (const re of tries) {
    let best = -1;
    for (const m of window.matchAll(re)) {
      const end = m.index + m[0].length;
      if (end <= limit && end >= floor) best = end;
    }
    if (best > 0) return best;
  }
  return limit;
}

/** The language of the fenced code block still open at the end of `text`, or undefined. */
function openFence(text: string): string | undefined {
  let open: string | undefined;
  for (const m of text.matchAll(/^```([^\n`]*)$/gm))
    open = open === undefined ? (m[1] ?? '').trim() : undefined;
  return open;
}
