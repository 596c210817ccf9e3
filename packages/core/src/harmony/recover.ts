/**
 * Recovery of Harmony output that lost its special tokens or gained garbage: the flattened form a server returns
 * when it strips special tokens (`analysisThe user asks…assistantfinalfour`), and JSON arguments followed by the
 * debris of dropped tokens.
 */
import type { Message } from './types.js';

const CHANNELS = '(analysis|commentary|final)';
/** Where a flattened `<|end|><|start|>assistant<|channel|>NAME<|message|>` was: `assistant` glued to a channel. */
const BOUNDARY = new RegExp(`assistant${CHANNELS}`, 'g');
const LEADING = new RegExp(`^${CHANNELS}`);
/** Header words a flattened call keeps between its channel and its arguments. */
const CALL_HEAD = /^\s*to=([A-Za-z0-9_.-]+)\s*(?:<\|constrain\|>\s*)?(?:json|code)?\s*/;
const SPECIAL = /<\|[a-z_0-9]+\|>/;

/**
 * Whether `text` may be the flattened form: no special token, and either it starts with a channel name glued to
 * what follows, or an `assistant<channel>` boundary occurs anywhere (a server or a cut stream lost the first
 * header: the text before the boundary is reasoning, never an answer).
 */
export function looksFlattened(text: string): boolean {
  if (SPECIAL.test(text)) return false;
  BOUNDARY.lastIndex = 0;
  if (BOUNDARY.test(text)) return true;
  const m = LEADING.exec(text);
  // The name glued to a capitalised word / a call header: not an English sentence.
  return !!m && /^[A-Z0-9"'*#]|^\s*to=/.test(text.slice(m[0].length));
}

/**
 * Splits flattened Harmony (special tokens stripped by a server) into assistant messages, or `undefined` when
 * `text` is not in that form: it holds no special token and starts with a channel name, and either a later
 * `assistant<channel>` boundary or a capitalised word glued to the name shows it is not plain prose.
 */
export function parseFlattened(text: string): Message[] | undefined {
  if (!looksFlattened(text)) return undefined;
  const cuts: { at: number; channel: string; len: number }[] = [];
  const first = LEADING.exec(text);
  // Text before the first boundary with no channel name of its own is reasoning.
  cuts.push({ at: 0, channel: first?.[1] ?? 'analysis', len: first?.[0].length ?? 0 });
  BOUNDARY.lastIndex = 0;
  for (let m = BOUNDARY.exec(text); m; m = BOUNDARY.exec(text)) {
    cuts.push({ at: m.index, channel: m[1] as string, len: m[0].length });
  }
  const out: Message[] = [];
  for (const [i, c] of cuts.entries()) {
    let body = text.slice(c.at + c.len, cuts[i + 1]?.at ?? text.length);
    let recipient: string | null = null;
    let contentType: string | null = null;
    const head = CALL_HEAD.exec(body);
    if (head && c.channel !== 'final') {
      recipient = head[1] as string;
      contentType = '<|constrain|>json';
      body = body.slice(head[0].length);
      const end = balancedJsonEnd(body);
      if (end !== undefined) body = body.slice(0, end);
    }
    out.push({
      role: 'assistant',
      channel: c.channel,
      ...(recipient ? { recipient, content_type: contentType } : {}),
      content: [{ type: 'text', text: body }],
    });
  }
  return out;
}

/**
 * The end of the JSON object or array `text` starts with (after leading whitespace), when it is balanced and
 * parses; `undefined` when `text` does not start with one.
 */
export function balancedJsonEnd(text: string): number | undefined {
  let i = 0;
  while (i < text.length && /\s/.test(text[i] as string)) i++;
  const open = text[i];
  if (open !== '{' && open !== '[') return undefined;
  let depth = 0;
  let inString = false;
  for (let j = i; j < text.length; j++) {
    const ch = text[j];
    if (inString) {
      if (ch === '\\') j++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) {
        try {
          JSON.parse(text.slice(i, j + 1));
          return j + 1;
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}

/**
 * Call arguments with garbage after a complete JSON value (`{"a":1}commentary…`): the JSON value alone, or
 * `undefined` when the text is valid as it is or holds no balanced JSON value at its start.
 */
export function trimJsonArguments(text: string): string | undefined {
  const t = text.trim();
  if (t === '' || (t[0] !== '{' && t[0] !== '[')) return undefined;
  try {
    JSON.parse(t);
    return undefined;
  } catch {
    const end = balancedJsonEnd(t);
    return end === undefined ? undefined : t.slice(0, end);
  }
}
