import { describe, expect, it } from 'vitest';
import {
  encode,
  HarmonyParseError,
  type ParserEvent,
  parseMessagesFromCompletionTokens,
  StreamParser,
  Tok,
} from '../../src/harmony/api.js';
import type { Message } from '../../src/harmony/types.js';

const ids = (s: string) => encode(s, { allowSpecial: true });
const text = (m: Message | undefined) => (m?.content[0] as { text: string } | undefined)?.text;

function run(s: string | number[], role: 'assistant' | null = 'assistant') {
  const p = new StreamParser({ role });
  const events: ParserEvent[] = [];
  for (const t of typeof s === 'string' ? ids(s) : s) events.push(...p.push(t));
  events.push(...p.end());
  const repairs = events.filter((e): e is Extract<ParserEvent, { type: 'repair' }> => e.type === 'repair');
  return { messages: p.messages, events, repairs: repairs.map((r) => r.kind) };
}
const strict =
  (s: string, role: 'assistant' | null = 'assistant') =>
  () =>
    parseMessagesFromCompletionTokens(ids(s), { role, strict: true });

describe('stream events', () => {
  it('emits message_start, header, deltas adding up to the text, message_done with its stop token', () => {
    const { events } = run('<|channel|>final<|message|>Hello, wörld 😊<|return|>');
    expect(events[0]).toEqual({ type: 'message_start' });
    expect(events[1]).toEqual({
      type: 'header',
      role: 'assistant',
      name: null,
      channel: 'final',
      recipient: null,
      content_type: null,
    });
    const deltas = events
      .filter((e) => e.type === 'content_delta')
      .map((e) => (e as { delta: string }).delta);
    expect(deltas.join('')).toBe('Hello, wörld 😊');
    const done = events.at(-1) as Extract<ParserEvent, { type: 'message_done' }>;
    expect(done.type).toBe('message_done');
    expect(done.stop_token).toBe(Tok.return);
    expect(text(done.message)).toBe('Hello, wörld 😊');
  });

  it('a message cut off by the end of stream is kept with stop_token null', () => {
    const { events, messages } = run('<|channel|>final<|message|>partial');
    expect(text(messages[0])).toBe('partial');
    expect((events.at(-1) as { stop_token?: number | null }).stop_token).toBeNull();
  });
});

describe('lenient repairs of real model output (spec §7)', () => {
  it('recipient after the channel, constrain glued or spaced', () => {
    for (const h of [
      '<|channel|>commentary to=functions.get_weather <|constrain|>json',
      '<|channel|>commentary to=functions.get_weather<|constrain|>json',
      ' to=functions.get_weather<|channel|>commentary <|constrain|>json',
      '<|channel|>commentary to=functions.get_weather <|constrain|> json',
    ]) {
      const { messages } = run(`${h}<|message|>{"city":"Paris"}<|call|>`);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({
        recipient: 'functions.get_weather',
        channel: 'commentary',
        content_type: '<|constrain|>json',
      });
      expect(text(messages[0])).toBe('{"city":"Paris"}');
    }
    // The spaced form is an error for the official parser.
    expect(strict('<|channel|>commentary to=functions.x <|constrain|> json<|message|>{}<|call|>')).toThrow(
      'unexpected tokens remaining in message header',
    );
  });

  it('calls on the analysis channel stay calls and are reported', () => {
    const { messages, repairs } = run(
      '<|channel|>analysis to=functions.grep code<|message|>{"pattern":"foo"}<|call|>',
    );
    expect(messages[0]).toMatchObject({
      recipient: 'functions.grep',
      channel: 'analysis',
      content_type: 'code',
    });
    expect(repairs).toContain('call_on_analysis');
  });

  it('`<|constrain|>json` without a recipient is a content type, not a recipient', () => {
    const { messages, repairs } = run('<|channel|>final <|constrain|>json<|message|>{"a":1}<|return|>');
    expect(messages[0]).toMatchObject({
      recipient: null,
      channel: 'final',
      content_type: '<|constrain|>json',
    });
    expect(repairs).toContain('constrain_as_recipient');
  });

  it('stray tokens after a stop token: strict fails like the official parser, lenient drops or reads them', () => {
    const s = '<|channel|>final<|message|>4<|return|><|end|><|call|>';
    expect(strict(s)).toThrow(`Unexpected token ${Tok.end} while expecting start token 200006`);
    const r = run(s);
    expect(r.messages.map(text)).toEqual(['4']);
    expect(r.repairs.filter((k) => k === 'stray_stop_token')).toHaveLength(2);

    // The model skipped `<|start|>assistant` after <|end|>: "commentary to=functions.x json<|message|>...".
    const skipped = `<|channel|>analysis<|message|>Need weather.<|end|>commentary to=functions.get_weather json<|message|>{"city":"Oslo"}<|call|>`;
    expect(strict(skipped)).toThrow('Unexpected token 12606 while expecting start token 200006');
    const r2 = run(skipped);
    expect(r2.messages).toHaveLength(2);
    expect(r2.messages[1]).toMatchObject({
      role: 'assistant',
      recipient: 'functions.get_weather',
      channel: 'commentary',
      content_type: 'json',
    });
    expect(text(r2.messages[1])).toBe('{"city":"Oslo"}');
    expect(r2.repairs).toContain('missing_start');
  });

  it('missing headers: refusal text without a header, content without <|start|>', () => {
    const refusal = run('I must refuse<|end|><|start|>assistant<|channel|>final<|message|>Sorry.<|return|>');
    expect(refusal.messages.map(text)).toEqual(['I must refuse', 'Sorry.']);
    const bare = run([Tok.message, ...ids('Hi there'), Tok.end], null);
    expect(bare.messages[0]).toMatchObject({ role: 'assistant', channel: null });
    expect(text(bare.messages[0])).toBe('Hi there');
    expect(bare.repairs).toContain('missing_header');
    // A later message whose header never reached <|message|> is kept too (the official parser drops it silently).
    const later = run(
      '<|channel|>analysis<|message|>a<|end|><|start|>assistant<|channel|>final keep  this\ntext<|return|>',
    );
    expect(later.messages.map(text)).toEqual(['a', 'keep  this\ntext']);
    expect(later.messages[1]?.channel).toBe('final');
  });

  it('a missing <|end|> before the next <|start|> or <|channel|> ends the message there', () => {
    const r = run(
      '<|channel|>analysis<|message|>think<|start|>assistant<|channel|>final<|message|>answer<|return|>',
    );
    expect(r.messages.map((m) => [m.channel, text(m)])).toEqual([
      ['analysis', 'think'],
      ['final', 'answer'],
    ]);
    const r2 = run('<|channel|>analysis<|message|>think<|channel|>final<|message|>answer<|return|>');
    expect(r2.messages.map((m) => [m.role, m.channel, text(m)])).toEqual([
      ['assistant', 'analysis', 'think'],
      ['assistant', 'final', 'answer'],
    ]);
    expect(r2.repairs).toContain('missing_end');
  });

  it('a repeated <|start|>assistant at the beginning is ignored (official: recipient "<|start|>assistant")', () => {
    const s = '<|start|>assistant<|channel|>final<|message|>ok<|return|>';
    expect(parseMessagesFromCompletionTokens(ids(s), { role: 'assistant', strict: true })[0]?.recipient).toBe(
      '<|start|>assistant',
    );
    const r = run(s);
    expect(r.messages[0]).toMatchObject({ role: 'assistant', recipient: null, channel: 'final' });
  });

  it('malformed channels: doubled marker, trailing junk, marker without value', () => {
    const r = run('<|channel|>commentary to=functions.f<|channel|>commentary?<|message|>{}<|call|>');
    expect(r.messages[0]).toMatchObject({ recipient: 'functions.f', channel: 'commentary' });
    const q = run('<|channel|>commentary?<|message|>hello<|end|>');
    expect(q.messages[0]?.channel).toBe('commentary');
    expect(q.repairs).toContain('channel_normalized');
    const empty = run('<|channel|><|message|>x<|end|>');
    expect(text(empty.messages[0])).toBe('x');
    expect(() =>
      parseMessagesFromCompletionTokens(ids('<|channel|><|message|>x<|end|>'), {
        role: 'assistant',
        strict: true,
      }),
    ).toThrow('channel marker present but no channel value found in header');
  });

  it('tool results without to=: strict "Unknown role", lenient reads a tool message', () => {
    const s = '<|start|>functions.lookup<|message|>{"t":20}<|end|>';
    expect(strict(s, null)).toThrow('Unknown role: functions.lookup');
    const r = run(s, null);
    expect(r.messages[0]).toMatchObject({ role: 'tool', name: 'functions.lookup' });
  });

  it('an id outside the vocabulary: strict swallows the rest of the message, lenient replaces just that token', () => {
    const toks = [...ids('<|channel|>final<|message|>a'), 4294967295, ...ids('b<|end|>')];
    expect(text(parseMessagesFromCompletionTokens(toks, { role: 'assistant', strict: true })[0])).toBe(
      'a\uFFFD',
    );
    const r = run(toks);
    expect(text(r.messages[0])).toBe('a\uFFFDb');
    expect(r.repairs).toContain('invalid_token');
  });

  it('end of stream inside a header: strict error, lenient keeps any text', () => {
    expect(() =>
      parseMessagesFromCompletionTokens(ids('<|channel|>final'), { role: 'assistant', strict: true }),
    ).toThrow(HarmonyParseError);
    expect(run('<|channel|>final').messages).toEqual([]);
    expect(run('<|start|>assistant', null).messages).toEqual([]);
  });

  it('text that looks like special tokens stays text', () => {
    const toks = [...ids('<|channel|>final<|message|>'), ...encode('say <|end|> and <|start|>'), Tok.return];
    expect(text(run(toks).messages[0])).toBe('say <|end|> and <|start|>');
  });
});
