import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { memoryIO } from '../src/command.js';
import { main } from '../src/main.js';

const FIXTURES = new URL('../../core/test/fixtures/harmony/', import.meta.url);
const inline = JSON.parse(readFileSync(new URL('inline_cases.json', FIXTURES), 'utf8'));
const derived: Record<string, number[]> = JSON.parse(
  readFileSync(new URL('derived_tokens.json', FIXTURES), 'utf8'),
).files;
const renderCase = (id: string) => inline.render_cases.find((c: { id: string }) => c.id === id);

async function run(args: string[], stdin: string) {
  const t = memoryIO(stdin);
  const code = await main(['harmony', ...args], t.io);
  return { code, out: t.stdout(), err: t.stderr() };
}

describe('harmonia harmony render', () => {
  it('defaults to completion for the assistant, no dropping (test_simple_convo)', async () => {
    const c = renderCase('simple_convo');
    const r = await run(['render'], JSON.stringify({ messages: c.conversation }));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(derived['test_simple_convo.txt']);
  });

  it('--auto-drop-analysis drops analysis before the first final; default keeps it', async () => {
    const c = renderCase('dropping_cot_by_default');
    const stdin = JSON.stringify({ messages: c.conversation });
    const dropped = await run(['render', '--auto-drop-analysis'], stdin);
    expect(JSON.parse(dropped.out)).toEqual(derived['test_dropping_cot_by_default.txt']);
    const kept = await run(['render'], JSON.stringify({ messages: renderCase('preserve_cot').conversation }));
    expect(JSON.parse(kept.out)).toEqual(derived['test_preserve_cot.txt']);
  });

  it('--api conversation / training and --next-role', async () => {
    const messages = [
      { role: 'user', content: 'hi' },
      { role: 'assistant', channel: 'final', content: 'hello' },
    ];
    const stdin = JSON.stringify({ messages });
    const conv = JSON.parse((await run(['render', '--api', 'conversation'], stdin)).out) as number[];
    const train = JSON.parse((await run(['render', '--api', 'training'], stdin)).out) as number[];
    expect(conv.at(-1)).toBe(200007);
    expect(train).toEqual([...conv.slice(0, -1), 200002]);
    const user = JSON.parse((await run(['render', '--next-role', 'user'], stdin)).out) as number[];
    expect(user).toEqual([...conv, 200006, 1428]);
  });

  it('bad flags exit 2, bad input exits 1 with the field named', async () => {
    expect((await run(['render', '--api', 'chat'], '{}')).code).toBe(2);
    expect((await run(['render', '--next-role', 'robot'], '{}')).code).toBe(2);
    const bad = await run(['render'], JSON.stringify({ messages: [{ role: 'wizard', content: 'x' }] }));
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('messages[0].role');
    const notJson = await run(['render'], '{nope');
    expect(notJson.code).toBe(1);
    expect(notJson.err).toContain('not valid JSON');
  });
});

describe('harmonia harmony parse', () => {
  const refusal = '[40,2804,41897,200007]';
  it('parses model output with --role assistant (test_simple_reasoning_response)', async () => {
    const ids = readFileSync(new URL('test_simple_reasoning_response.txt', FIXTURES), 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    const r = await run(['parse', '--role', 'assistant', '--strict'], JSON.stringify(ids));
    expect(r.code).toBe(0);
    const c = inline.parse_cases.find((p: { id: string }) => p.id === 'simple_reasoning_response');
    expect(JSON.parse(r.out)).toEqual(c.expected.messages);
  });

  it('--strict: official error on stderr, exit 1; lenient: repaired', async () => {
    const strict = await run(['parse', '--role', 'assistant', '--strict'], refusal);
    expect(strict.code).toBe(1);
    expect(strict.err).toContain('Unexpected EOS while waiting for message header to complete');
    const lenient = await run(['parse', '--role', 'assistant'], refusal);
    expect(lenient.code).toBe(0);
    expect(JSON.parse(lenient.out)).toEqual([
      {
        role: 'assistant',
        name: null,
        recipient: null,
        channel: null,
        content_type: null,
        content: [{ type: 'text', text: 'I must refuse' }],
      },
    ]);
  });

  it('rejects input that is not an array of ids', async () => {
    const r = await run(['parse'], '[1, "x"]');
    expect(r.code).toBe(1);
    expect(r.err).toContain('item 1');
  });
});

describe('harmonia harmony encode / decode', () => {
  it('encodes special-token text as ordinary text unless --allow-special', async () => {
    expect(JSON.parse((await run(['encode'], '<|start|>')).out)).toEqual([27, 91, 5236, 91, 29]);
    expect(JSON.parse((await run(['encode', '--allow-special'], '<|start|>')).out)).toEqual([200006]);
    expect(JSON.parse((await run(['encode'], 'hello world')).out)).toEqual([24912, 2375]);
  });

  it('decodes text; special ids need --allow-special', async () => {
    expect((await run(['decode'], '[24912,2375]')).out).toBe('hello world');
    const refused = await run(['decode'], '[200006]');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('--allow-special');
    expect((await run(['decode', '--allow-special'], '[200006,201088]')).out).toBe(
      '<|start|><|reserved_201088|>',
    );
    const invalid = await run(['decode', '--allow-special'], '[99999999]');
    expect(invalid.code).toBe(1);
  });

  it('has --help for every subcommand', async () => {
    for (const sub of ['render', 'parse', 'encode', 'decode']) {
      const r = await run([sub, '--help'], '');
      expect(r.code).toBe(0);
      expect(r.out).toContain(`harmonia harmony ${sub}`);
    }
  });
});
