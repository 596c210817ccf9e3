/**
 * Property tests for the lenient parser with a seeded PRNG: (1) random token soup never makes it throw;
 * (2) well-formed messages embedded between random garbage always come out intact; (3) mutations of a rendered
 * conversation never make it throw and never damage the messages the mutation did not touch.
 */
import { describe, expect, it } from 'vitest';
import { encodeText, messageToJson, renderMessage, StreamParser, Tok } from '../../src/harmony/api.js';
import type { Message } from '../../src/harmony/types.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPECIALS = [
  Tok.start,
  Tok.end,
  Tok.message,
  Tok.channel,
  Tok.constrain,
  Tok.return,
  Tok.call,
  Tok.endoftext,
  Tok.startoftext,
  200000,
  200014,
  201088,
];
const WORDS = [
  'the',
  ' answer',
  ' is',
  ' 42',
  '.',
  '\n',
  '  ',
  'héllo',
  ' 日本語',
  ' 😊',
  '👨‍👩‍👧',
  ' <|end|>',
  ' to=functions.x',
  ' commentary',
  ' analysis',
  '{"a": 1}',
  ' json',
  ' code',
];

function randomText(r: () => number): string {
  let s = '';
  const n = 1 + Math.floor(r() * 12);
  for (let i = 0; i < n; i++) s += WORDS[Math.floor(r() * WORDS.length)];
  return s;
}

function garbage(r: () => number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = r();
    if (k < 0.35) out.push(SPECIALS[Math.floor(r() * SPECIALS.length)] as number);
    else if (k < 0.9) out.push(Math.floor(r() * 199998));
    else if (k < 0.95) out.push(...encodeText(randomText(r)));
    else out.push([201089, 4294967295, -1, 1.5][Math.floor(r() * 4)] as number);
  }
  return out;
}

function wellFormed(r: () => number): Message {
  const k = Math.floor(r() * 6);
  const content = [{ type: 'text' as const, text: randomText(r) }];
  switch (k) {
    case 0:
      return { role: 'assistant', channel: 'analysis', content };
    case 1:
      return { role: 'assistant', channel: 'final', content };
    case 2:
      return {
        role: 'assistant',
        recipient: 'functions.lookup',
        channel: 'commentary',
        content_type: '<|constrain|>json',
        content,
      };
    case 3:
      return {
        role: 'assistant',
        recipient: 'browser.search',
        channel: 'analysis',
        content_type: 'code',
        content,
      };
    case 4:
      return {
        role: 'tool',
        name: 'functions.lookup',
        recipient: 'assistant',
        channel: 'commentary',
        content,
      };
    default:
      return { role: 'user', content };
  }
}

function parseAll(tokens: readonly number[], role: 'assistant' | null): Message[] {
  const p = new StreamParser({ role });
  for (const t of tokens) p.push(t);
  p.end();
  return p.messages;
}

/** `wanted` appear in `got` in order (other messages may sit between them). */
function containsInOrder(got: Message[], wanted: Message[]): boolean {
  let i = 0;
  for (const m of got) {
    if (i < wanted.length && JSON.stringify(m) === JSON.stringify(messageToJson(wanted[i] as Message))) i++;
  }
  return i === wanted.length;
}

describe('lenient parser properties (seeded)', () => {
  it('never throws on 3000 random token sequences, and deltas always add up to each message', () => {
    const r = mulberry32(1);
    for (let n = 0; n < 3000; n++) {
      const toks = garbage(r, Math.floor(r() * 60));
      const p = new StreamParser({ role: r() < 0.5 ? 'assistant' : null });
      let text = '';
      const done: string[] = [];
      const onEvents = (evs: ReturnType<StreamParser['push']>) => {
        for (const e of evs) {
          if (e.type === 'content_delta') text += e.delta;
          if (e.type === 'message_done') {
            done.push(text);
            text = '';
          }
        }
      };
      for (const t of toks) onEvents(p.push(t));
      onEvents(p.end());
      expect(done).toEqual(p.messages.map((m) => (m.content[0] as { text: string }).text));
    }
  });

  it('keeps every well-formed message found between garbage (2000 sequences)', () => {
    const r = mulberry32(2);
    for (let n = 0; n < 2000; n++) {
      const wanted: Message[] = [];
      const toks: number[] = [];
      const parts = 1 + Math.floor(r() * 4);
      for (let i = 0; i < parts; i++) {
        toks.push(...garbage(r, Math.floor(r() * 12)));
        const m = wellFormed(r);
        wanted.push(m);
        toks.push(...renderMessage(m));
      }
      toks.push(...garbage(r, Math.floor(r() * 6)));
      const got = parseAll(toks, r() < 0.5 ? 'assistant' : null);
      if (!containsInOrder(got, wanted)) {
        throw new Error(`seed 2 case ${n}: lost a well-formed message\ntokens ${JSON.stringify(toks)}`);
      }
    }
  });

  it('mutations of a rendered conversation leave untouched messages intact (2000 mutants)', () => {
    const r = mulberry32(3);
    for (let n = 0; n < 2000; n++) {
      const msgs = Array.from({ length: 2 + Math.floor(r() * 4) }, () => wellFormed(r));
      const spans: [number, number][] = [];
      let toks: number[] = [];
      for (const m of msgs) {
        const ids = renderMessage(m);
        spans.push([toks.length, toks.length + ids.length - 1]);
        toks = toks.concat(ids);
      }
      expect(parseAll(toks, null)).toEqual(msgs.map(messageToJson));
      // One mutation: delete, duplicate, replace with a special or random id, or insert garbage.
      const at = Math.floor(r() * toks.length);
      const kind = Math.floor(r() * 4);
      const mutated = toks.slice();
      if (kind === 0) mutated.splice(at, 1);
      else if (kind === 1) mutated.splice(at, 0, toks[at] as number);
      else if (kind === 2) mutated[at] = SPECIALS[Math.floor(r() * SPECIALS.length)] as number;
      else mutated.splice(at, 0, ...garbage(r, 1 + Math.floor(r() * 3)));
      const untouched = msgs.filter((_, i) => {
        const [a, b] = spans[i] as [number, number];
        return at < a || at > b;
      });
      const got = parseAll(mutated, null);
      if (!containsInOrder(got, untouched)) {
        throw new Error(
          `seed 3 case ${n}: mutation ${kind} at ${at} damaged another message\ntokens ${JSON.stringify(mutated)}`,
        );
      }
    }
  });
});
