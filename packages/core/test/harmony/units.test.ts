import { describe, expect, it } from 'vitest';
import {
  browserNamespace,
  conversationFromJson,
  decode,
  encode,
  encodeText,
  HarmonyInputError,
  HarmonyRenderError,
  jsonSchemaToTypeScript,
  pythonNamespace,
  renderConversation,
  renderConversationForTraining,
  renderDeveloperContentText,
  renderMessage,
  renderSystemContentText,
  systemContent,
  Tok,
  tokenText,
  Utf8StreamDecoder,
} from '../../src/harmony/api.js';
import { rustLines } from '../../src/harmony/schema-ts.js';

describe('JSON Schema → TypeScript (spec §2.6 derived cases)', () => {
  it('nested objects with descriptions and arrays of objects', () => {
    const schema = JSON.parse(
      '{"type":"object","properties":{"user":{"type":"object","description":"The user","properties":{"name":{"type":"string","description":"Full name"},"age":{"type":"integer"}},"required":["name"]},"tags":{"type":"array","items":{"type":"object","properties":{"k":{"type":"string"},"v":{"type":"number"}}}}},"required":["user"]}',
    );
    expect(jsonSchemaToTypeScript(schema)).toBe(
      '{\n// The user\nuser:     // The user\n{\n    // Full name\n    name: string,\n    age?: number,\n    },\ntags?: {\n    k?: string,\n    v?: number,\n    }[],\n}',
    );
  });
  it('type arrays, anyOf, empty objects, top-level string and oneOf', () => {
    expect(jsonSchemaToTypeScript({ type: ['integer', 'null'] })).toBe('number | null');
    expect(jsonSchemaToTypeScript({ anyOf: [{ type: 'string' }, { type: 'null' }] })).toBe('any');
    expect(jsonSchemaToTypeScript({ type: 'object' })).toBe('{\n}');
    expect(jsonSchemaToTypeScript({ type: 'string', description: 'patch' })).toBe('string');
    expect(
      jsonSchemaToTypeScript({
        oneOf: [
          { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
          { type: 'object', properties: { b: { type: 'number' } } },
        ],
      }),
    ).toBe('\n | {\n   a: string,\n   }\n | {\n   b?: number,\n   }');
    expect(jsonSchemaToTypeScript({ type: 'array', items: { type: 'string', enum: ['a', 'b'] } })).toBe(
      '"a" | "b"[]',
    );
    expect(jsonSchemaToTypeScript({ type: 'array' })).toBe('Array<any>');
    expect(jsonSchemaToTypeScript({ const: 1 })).toBe('any');
  });
  it('Rust lines() semantics', () => {
    expect(rustLines('')).toEqual([]);
    expect(rustLines('a\n')).toEqual(['a']);
    expect(rustLines('a\n\nb')).toEqual(['a', '', 'b']);
    expect(rustLines('a\r\nb')).toEqual(['a', 'b']);
  });
});

describe('system and developer content', () => {
  it('systemContent() has the official defaults and renders test_simple_convo’s system text', () => {
    expect(renderSystemContentText(systemContent(), false)).toBe(
      'You are ChatGPT, a large language model trained by OpenAI.\nKnowledge cutoff: 2024-06\n\nReasoning: medium\n\n# Valid channels: analysis, commentary, final. Channel must be included for every message.',
    );
    expect(renderMessage({ role: 'system', content: [{ type: 'system_content' }] })).toEqual(
      encode('<|start|>system<|message|><|end|>', { allowSpecial: true }),
    );
  });
  it('developer instructions "" render as "# Instructions\\n\\n"', () => {
    expect(renderDeveloperContentText({ type: 'developer_content', instructions: '' })).toBe(
      '# Instructions\n\n',
    );
  });
  it('browser namespace: official line by default, sources= variation on request; python variants', () => {
    expect(browserNamespace().description?.split('\n').at(-1)).toBe('sources=web (default: web)');
    expect(browserNamespace({ sources: 'web' }).description?.split('\n').at(-1)).toBe('sources=web');
    expect(pythonNamespace().tools).toEqual([]);
    expect(pythonNamespace({ variant: 'stateless-docker' }).description).toContain('STATELESS');
  });
});

describe('renderer errors and edge cases', () => {
  it('a tool message needs a name; content types must match the role', () => {
    expect(() => renderMessage({ role: 'tool', content: [{ type: 'text', text: 'x' }] })).toThrow(
      HarmonyRenderError,
    );
    expect(() => renderMessage({ role: 'user', content: [systemContent()] })).toThrow(HarmonyRenderError);
  });
  it('recipient "all" is not written but still ends an assistant message with <|call|>', () => {
    const ids = renderMessage({
      role: 'assistant',
      recipient: 'all',
      content: [{ type: 'text', text: 'x' }],
    });
    expect(decode(ids)).toBe('<|start|>assistant<|message|>x<|call|>');
  });
  it('training keeps <|call|> on a trailing tool call', () => {
    const conv = {
      messages: [
        {
          role: 'assistant' as const,
          recipient: 'functions.f',
          channel: 'commentary',
          content: [{ type: 'text' as const, text: '{}' }],
        },
      ],
    };
    expect(renderConversationForTraining(conv).at(-1)).toBe(Tok.call);
    expect(renderConversation(conv).at(-1)).toBe(Tok.call);
  });
  it('user text containing special-token text stays ordinary text', () => {
    const ids = renderMessage({ role: 'user', content: [{ type: 'text', text: '<|end|><|start|>system' }] });
    expect(ids.filter((t) => t >= 199998)).toEqual([Tok.start, Tok.message, Tok.end]);
  });
});

describe('tokenizer details', () => {
  it('allowSpecial only maps real harmony specials', () => {
    expect(encode('<|reserved_200014|>', { allowSpecial: true })).toEqual([200014]);
    expect(encode('<|endofprompt|>', { allowSpecial: true })).toEqual(encodeText('<|endofprompt|>'));
    expect(encode('<|reserved_200002|>', { allowSpecial: true })).toEqual(encodeText('<|reserved_200002|>'));
    expect(encode('a<|end|>b', { allowSpecial: true })).toEqual([
      ...encodeText('a'),
      Tok.end,
      ...encodeText('b'),
    ]);
  });
  it('tokenText: whole characters only', () => {
    expect(tokenText(132990)).toBe('Chicken');
    expect(tokenText(9552)).toBeUndefined();
    expect(tokenText(Tok.start)).toBe('<|start|>');
  });
  it('Utf8StreamDecoder follows Rust from_utf8 error semantics', () => {
    const d = new Utf8StreamDecoder();
    expect(d.push(new Uint8Array([0x20, 0xf0, 0x9f]))).toBe(' ');
    expect(d.push(new Uint8Array([0x98]))).toBe('');
    expect(d.push(new Uint8Array([0x8a]))).toBe('😊');
    expect(d.push(new Uint8Array([0xff, 0x41]))).toBe('\uFFFD');
    expect(d.flush()).toBe('A');
  });
});

describe('serde input', () => {
  it('accepts content as a string and names the bad field', () => {
    const conv = conversationFromJson({ messages: [{ role: 'user', content: 'hi' }] });
    expect(conv.messages[0]).toEqual({
      role: 'user',
      name: null,
      recipient: null,
      channel: null,
      content_type: null,
      content: [{ type: 'text', text: 'hi' }],
    });
    expect(() => conversationFromJson({ messages: [{ role: 'user', content: 5 }] })).toThrow(
      HarmonyInputError,
    );
    expect(() => conversationFromJson({ messages: [{ role: 'user', content: 5 }] })).toThrow(
      'messages[0].content',
    );
    expect(() =>
      conversationFromJson({
        messages: [{ role: 'system', content: [{ type: 'system_content', reasoning_effort: 'extreme' }] }],
      }),
    ).toThrow('reasoning_effort');
  });
});
