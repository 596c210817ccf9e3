/**
 * The `o200k_harmony` tokenizer: o200k_base BPE (gpt-tokenizer, chosen by measurement — see
 * docs/benchmarks/harmony.md) plus the Harmony special tokens, which we insert by id ourselves. The BPE library is
 * only ever asked to encode ordinary text, so text such as `<|start|>` written by a user can never become a
 * special token.
 */
import bpeRanks from 'gpt-tokenizer/bpeRanks/o200k_base';
import { encode as bpeEncode } from 'gpt-tokenizer/encoding/o200k_base';
import { HarmonyTokenError } from './errors.js';
import { FIRST_SPECIAL_ID, isSpecialToken, specialTokenId, specialTokenText } from './tokens.js';

const NO_SPECIALS = { allowedSpecial: new Set<string>(), disallowedSpecial: new Set<string>() };

/** Encodes text as ordinary text: `<|start|>` written by a user becomes plain tokens, never a special id. */
export function encodeText(text: string): number[] {
  if (text.length === 0) return [];
  return bpeEncode(text, NO_SPECIALS);
}

const SPECIAL_TEXT = /<\|[a-z0-9_]+\|>/g;

/** Encodes text; with `allowSpecial` the literal special-token strings become their ids. */
export function encode(text: string, opts?: { allowSpecial?: boolean }): number[] {
  if (!opts?.allowSpecial) return encodeText(text);
  const out: number[] = [];
  let last = 0;
  for (const m of text.matchAll(SPECIAL_TEXT)) {
    const id = specialTokenId(m[0]);
    if (id === undefined) continue;
    const at = m.index ?? 0;
    if (at > last) for (const t of encodeText(text.slice(last, at))) out.push(t);
    out.push(id);
    last = at + m[0].length;
  }
  if (last < text.length) for (const t of encodeText(text.slice(last))) out.push(t);
  return out;
}

// ---- id → bytes table, built once on first use ----
const utf8 = new TextEncoder();
let tableBytes: Uint8Array | undefined;
let tableOffsets: Uint32Array | undefined;
/** Per id: the token's text when its bytes are valid UTF-8 on their own (the fast path of every decoder). */
let tableText: (string | undefined)[] | undefined;

function buildTable(): void {
  const n = bpeRanks.length;
  const parts: Uint8Array[] = new Array(n);
  const text: (string | undefined)[] = new Array(n);
  let total = 0;
  for (let id = 0; id < n; id++) {
    const r = bpeRanks[id];
    let b: Uint8Array;
    if (typeof r === 'string') {
      b = utf8.encode(r);
      text[id] = r;
    } else if (r) {
      b = Uint8Array.from(r);
    } else {
      b = new Uint8Array(0);
    }
    parts[id] = b;
    total += b.length;
  }
  const bytes = new Uint8Array(total);
  const offsets = new Uint32Array(n + 1);
  let at = 0;
  for (let id = 0; id < n; id++) {
    offsets[id] = at;
    const p = parts[id] as Uint8Array;
    bytes.set(p, at);
    at += p.length;
  }
  offsets[n] = at;
  tableBytes = bytes;
  tableOffsets = offsets;
  tableText = text;
}

/** Whether `id` is an id of o200k_harmony (0..201088). */
export function isValidToken(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && (id < bpeRanks.length || isSpecialToken(id));
}

/**
 * The text of one token if it decodes to valid UTF-8 by itself (special ids give their `<|...|>` text),
 * `undefined` for a token that holds part of a multi-byte character or an id outside the vocabulary.
 */
export function tokenText(id: number): string | undefined {
  if (!tableText) buildTable();
  if (id >= FIRST_SPECIAL_ID) return specialTokenText(id);
  return (tableText as (string | undefined)[])[id];
}

/** The raw bytes of one token, or `undefined` if `id` is not in the vocabulary. */
export function tokenBytes(id: number): Uint8Array | undefined {
  if (!tableBytes) buildTable();
  if (!Number.isInteger(id) || id < 0) return undefined;
  if (id < bpeRanks.length) {
    const o = tableOffsets as Uint32Array;
    return (tableBytes as Uint8Array).subarray(o[id] as number, o[id + 1] as number);
  }
  const s = specialTokenText(id);
  return s === undefined ? undefined : utf8.encode(s);
}

/** Concatenated bytes of `ids`; throws `HarmonyTokenError` on an id outside the vocabulary. */
export function decodeBytes(ids: readonly number[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (const id of ids) {
    const b = tokenBytes(id);
    if (b === undefined) throw new HarmonyTokenError(`Invalid token for decoding: ${id}`);
    chunks.push(b);
    total += b.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const lossy = new TextDecoder('utf-8');
const fatal = new TextDecoder('utf-8', { fatal: true });

/** Decodes ids to text (special and reserved ids as their `<|...|>` strings; invalid UTF-8 as U+FFFD). */
export function decode(ids: readonly number[]): string {
  return lossy.decode(decodeBytes(ids));
}

/** Like `decode`, but throws `HarmonyTokenError` ("Invalid utf-8") where the bytes are not valid UTF-8. */
export function decodeUtf8(ids: readonly number[]): string {
  try {
    return fatal.decode(decodeBytes(ids));
  } catch (e) {
    if (e instanceof HarmonyTokenError) throw e;
    throw new HarmonyTokenError('Invalid utf-8 in the decoded tokens');
  }
}

/** Lossy UTF-8 decode of raw bytes (invalid sequences become U+FFFD, as Rust `from_utf8_lossy`). */
export function bytesToText(bytes: Uint8Array): string {
  return lossy.decode(bytes);
}
