import { describe, expect, it } from 'vitest';
import {
  decode,
  decodeUtf8,
  encode,
  encodeText,
  HarmonyParseError,
  isSpecialToken,
  parseMessagesFromCompletionTokens,
  renderConversation,
  renderConversationForCompletion,
  renderConversationForTraining,
  renderMessage,
  STOP_TOKENS,
  STOP_TOKENS_FOR_ASSISTANT_ACTIONS,
  StreamParser,
} from '../../src/harmony/api.js';
import {
  derivedTokens,
  inlineCases,
  type ParseCase,
  type RenderCase,
  type Segment,
  vectorFiles,
  vectorText,
} from './vectors.js';

const cases = inlineCases();
const derived = derivedTokens();

function render(c: RenderCase): number[] {
  const conv = { messages: c.conversation };
  const opts = { autoDropAnalysis: c.config?.auto_drop_analysis ?? false };
  switch (c.api) {
    case 'render_conversation_for_completion':
      return renderConversationForCompletion(conv, c.next_turn_role ?? 'assistant', opts);
    case 'render_conversation':
      return renderConversation(conv, opts);
    case 'render_conversation_for_training':
      return renderConversationForTraining(conv, opts);
    case 'render':
      return renderMessage(c.conversation[0] as (typeof c.conversation)[0]);
  }
}

describe('official vector files', () => {
  it('has all 23 files', () => {
    expect(vectorFiles()).toHaveLength(23);
  });
  // Every rendering .txt file: our tokenizer reproduces the derived ids of encode(text, allowed_special=all).
  for (const [file, ids] of Object.entries(derived)) {
    it(`encodes ${file} to its derived ids`, () => {
      expect(encode(vectorText(file), { allowSpecial: true })).toEqual(ids);
      expect(decode(ids)).toBe(vectorText(file));
    });
  }
});

describe('render cases (inline_cases.json)', () => {
  expect(cases.render_cases).toHaveLength(24);
  for (const c of cases.render_cases) {
    it(`${c.id} (${c.api}, compare ${c.compare})`, () => {
      const got = render(c);
      const expectedText = c.expected_file ? vectorText(c.expected_file) : (c.expected_text as string);
      const expectedIds = c.expected_file
        ? (derived[c.expected_file] as number[])
        : encode(expectedText, { allowSpecial: true });
      if (c.compare === 'text') expect(decode(got)).toBe(expectedText);
      // The spec verified the official renderer's ids equal these for every case; we hold ourselves to ids everywhere.
      expect(got).toEqual(expectedIds);
    });
  }
  it('render(msg) == render_conversation([msg]) and completion appends <|start|>assistant', () => {
    const msg = { role: 'user' as const, content: [{ type: 'text' as const, text: 'Hello' }] };
    const one = renderMessage(msg);
    expect(renderConversation({ messages: [msg] })).toEqual(one);
    expect(renderConversationForCompletion({ messages: [msg] }, 'assistant')).toEqual([
      ...one,
      200006,
      173781,
    ]);
  });
});

function segmentTokens(s: Segment): number[] {
  if ('text_with_specials' in s) return encode(s.text_with_specials, { allowSpecial: true });
  if ('text_ordinary' in s) return encodeText(s.text_ordinary);
  if ('tokens' in s) return s.tokens;
  if ('tokens_file' in s) return vectorText(s.tokens_file).split(/\s+/).map(Number);
  return encode(vectorText(s.text_file), { allowSpecial: true });
}

function runParse(c: ParseCase, tokens: number[], strict: boolean) {
  const p = new StreamParser({ role: c.role, strict });
  const deltas: string[] = [];
  for (const t of tokens) {
    p.push(t);
    if (p.lastContentDelta !== null) deltas.push(p.lastContentDelta);
  }
  const withEos = c.api !== 'StreamableParser.process (no process_eos)';
  if (withEos) p.end();
  return { p, deltas };
}

describe('parse cases (inline_cases.json)', () => {
  expect(cases.parse_cases).toHaveLength(27);
  for (const c of cases.parse_cases) {
    const strict = c.strict;
    it(`${c.id} (${strict ? 'strict' : 'lenient'})`, () => {
      const tokens = c.input.flatMap(segmentTokens);
      expect(tokens).toEqual(c.derived_input_tokens);
      const e = c.expected;
      if (e.error_contains) {
        expect(() => runParse(c, tokens, true)).toThrow(HarmonyParseError);
        expect(() => runParse(c, tokens, true)).toThrow(e.error_contains);
        // Lenient mode never throws on the same input.
        expect(() => runParse(c, tokens, false)).not.toThrow();
        return;
      }
      const { p, deltas } = runParse(c, tokens, strict);
      if (e.messages) expect(p.messages).toEqual(e.messages);
      if (e.message_count !== undefined) expect(p.messages).toHaveLength(e.message_count);
      if (e.current_content !== undefined) expect(p.currentContent).toBe(e.current_content);
      if (e.concatenated_last_content_deltas !== undefined)
        expect(deltas.join('')).toBe(e.concatenated_last_content_deltas);
      if (e.then_process_token_of !== undefined) {
        const [t] = encodeText(e.then_process_token_of);
        p.push(t as number);
        expect(p.lastContentDelta).toBe(e.then_last_content_delta);
        expect(p.currentContent).toBe(e.then_current_content);
      }
      if ('after_eos_current_content' in e) {
        expect(p.lastContentDelta).toBe(e.after_eos_last_content_delta);
        expect(p.currentContent).toBe(e.after_eos_current_content);
      }
      // Strict cases that succeed give the same messages in lenient mode.
      if (strict && e.messages && c.api !== 'StreamableParser.process (no process_eos)') {
        expect(parseMessagesFromCompletionTokens(tokens, { role: c.role })).toEqual(e.messages);
      }
    });
  }

  it('waits for a multi-token UTF-8 character (step by step)', () => {
    const p = new StreamParser({ strict: true });
    for (const t of encode('<|start|>assistant<|message|>', { allowSpecial: true })) p.push(t);
    p.push(31446);
    expect(p.lastContentDelta).toBeNull();
    expect(p.currentContent).toBe('');
    p.push(244);
    expect(p.lastContentDelta).toBe('💖');
    expect(p.currentContent).toBe('💖');
  });
});

describe('tokenizer cases (inline_cases.json)', () => {
  const byId = Object.fromEntries(cases.tokenizer_cases.map((c) => [c.id, c]));
  it('encode plain / special allowed / special as text', () => {
    expect(encodeText('hello world')).toEqual(byId.encode_plain?.expected_tokens);
    expect(encode('<|start|>', { allowSpecial: true })).toEqual(byId.encode_special_all?.expected_tokens);
    expect(encode('<|start|>', { allowSpecial: true })).toEqual(byId.encode_special_allowed?.expected_tokens);
    expect(encode('<|start|>')).toEqual(byId.encode_special_as_text?.expected_tokens);
    expect(encodeText('<|start|>')).toEqual([27, 91, 5236, 91, 29]);
  });
  it('is_special', () => {
    for (const [id, want] of Object.entries(byId.is_special?.expected ?? {}))
      expect(isSpecialToken(Number(id))).toBe(want);
  });
  it('reserved decoding', () => {
    for (const [id, want] of Object.entries(byId.reserved_decoding?.expected_decode ?? {}))
      expect(decode([Number(id)])).toBe(want);
  });
  it('invalid token', () => {
    expect(() => decode([99999999])).toThrow('Invalid token for decoding: 99999999');
  });
  it('invalid utf-8: strict decode throws, lossy keeps the text', () => {
    expect(() => decodeUtf8([132990, 9552])).toThrow('Invalid utf-8');
    expect(decode([132990, 9552])).toContain('Chicken');
  });
  it('stop tokens', () => {
    expect([...STOP_TOKENS].sort()).toEqual([...(byId.stop_tokens?.stop_tokens ?? [])].sort());
    expect([...STOP_TOKENS_FOR_ASSISTANT_ACTIONS].sort()).toEqual(
      [...(byId.stop_tokens?.stop_tokens_for_assistant_actions ?? [])].sort(),
    );
  });
});
