/**
 * Raw gpt-oss outputs pasted in public bug reports (fixtures/real-outputs, each with its source), run through the
 * agent loop as a token completion or as a server's chat content: the agent acts on the answer or tool call the
 * model meant, and no reasoning reaches what a user sees.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  Agent,
  ChatCompletionsBackend,
  defineFunction,
  encode,
  messageText,
  PROFILES,
  parseMessagesFromCompletionTokens,
  ScriptedBackend,
  StreamParser,
} from '../src/index.js';
import { FakeServer } from './fakes/server.js';
import { CHAT_FLAVORS, chatCompletions } from './fakes/wire.js';
import { collect, deltas } from './helpers.js';

interface Fixture {
  source: string;
  what: string;
  via: 'tokens' | 'chat';
  raw: string;
  expect: {
    final?: string;
    call?: { recipient: string; arguments: Record<string, unknown>; internal?: boolean };
    hidden: string[];
  };
}

const dir = join(import.meta.dirname, 'fixtures/real-outputs');
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, ...(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Fixture) }));

function agentFor(backend: Agent['backend']) {
  const calls: { recipient: string; args: unknown }[] = [];
  const record = (recipient: string) => (args: unknown) => {
    calls.push({ recipient, args });
    return { ok: true };
  };
  const agent = new Agent({
    backend,
    currentDate: '2026-01-15',
    tools: [
      defineFunction({
        name: 'get_weather',
        description: 'Weather for a city.',
        parameters: z.object({ city: z.string() }),
        execute: record('functions.get_weather'),
      }),
      defineFunction({
        name: 'ffgrep',
        description: 'Search files.',
        parameters: z.object({ path: z.string(), pattern: z.string() }),
        execute: record('functions.ffgrep'),
      }),
    ],
  });
  return { agent, calls };
}

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('real outputs from public reports', () => {
  expect(fixtures.length).toBeGreaterThanOrEqual(8);
  for (const fx of fixtures) {
    it(`${fx.file} (${fx.source})`, async () => {
      expect(fx.source).toMatch(/^https:\/\/github\.com\//);
      // After a call the model is asked again: it answers plainly.
      const followUp = fx.expect.call ? ['<|channel|>final<|message|>Done.<|return|>'] : [];
      let backend: Agent['backend'];
      if (fx.via === 'tokens') backend = new ScriptedBackend([fx.raw, ...followUp]);
      else {
        server = await new FakeServer(
          chatCompletions(CHAT_FLAVORS.vllm, [
            { content: fx.raw },
            ...(fx.expect.call ? [{ content: 'Done.' }] : []),
          ]),
        ).start();
        backend = new ChatCompletionsBackend({
          baseURL: `${server.url}/v1`,
          model: 'm',
          profile: PROFILES.vllm,
        });
      }
      const { agent, calls } = agentFor(backend);
      const { events, result } = await collect(agent, 'hi');
      expect(result.status).toBe('completed');
      const visible = [
        deltas(events, 'final_delta'),
        deltas(events, 'preamble_delta'),
        result.finalText,
        ...events.map((e) => (e.type === 'tool_call_started' && !e.internal ? e.arguments : '')),
      ].join('\n');
      for (const h of fx.expect.hidden) expect(visible).not.toContain(h);
      expect(visible).not.toMatch(/<\|[a-z_]+\|>/);
      if (fx.expect.final !== undefined) {
        expect(result.finalText).toBe(fx.expect.final);
        expect(deltas(events, 'final_delta')).toBe(fx.expect.final);
        expect(calls).toEqual([]);
      }
      if (fx.expect.call) {
        expect(calls).toEqual([{ recipient: fx.expect.call.recipient, args: fx.expect.call.arguments }]);
        const started = events.find((e) => e.type === 'tool_call_started');
        expect(started).toMatchObject({
          recipient: fx.expect.call.recipient,
          internal: fx.expect.call.internal ?? false,
        });
        expect(result.finalText).toBe('Done.');
      }
    });
  }
});

describe('shapes of dropped special tokens', () => {
  const lenient = (s: string) =>
    parseMessagesFromCompletionTokens(encode(s, { allowSpecial: true }), { role: 'assistant' });

  it('JSON arguments followed by the debris of dropped tokens end at the JSON value', async () => {
    const { agent } = agentFor(
      new ScriptedBackend([
        '<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city":"Oslo"}commentary<|message|>We need to read file.<|channel|>',
        '<|channel|>final<|message|>Snow.<|return|>',
      ]),
    );
    const { events, result } = await collect(agent, 'Oslo?');
    expect(events.find((e) => e.type === 'tool_call_started')).toMatchObject({
      arguments: '{"city":"Oslo"}',
    });
    expect(events.some((e) => e.type === 'harmony_repair' && e.kind === 'json_garbage')).toBe(true);
    expect(result.finalText).toBe('Snow.');
    // The parser alone keeps the text (deltas add up); the runtime trims the arguments.
    expect(
      messageText(lenient('<|channel|>commentary to=functions.x<|message|>{"a":1}junk<|call|>')[0]!),
    ).toBe('{"a":1}junk');
  });

  it('a recipient glued to its arguments at the end of the stream is a call', () => {
    const [m] = lenient('<|channel|>commentary to=repo_browser.run_command{"command":"ls"}');
    expect(m).toMatchObject({ recipient: 'repo_browser.run_command', channel: 'commentary' });
    expect(messageText(m!)).toBe('{"command":"ls"}');
  });

  it('a plain reply with no header from a server that split the channels itself is the answer', async () => {
    server = await new FakeServer(chatCompletions(CHAT_FLAVORS.vllm, [{ content: 'Hello there.' }])).start();
    const { agent } = agentFor(
      new ChatCompletionsBackend({ baseURL: `${server.url}/v1`, model: 'm', profile: PROFILES.vllm }),
    );
    const { result } = await collect(agent, 'hi');
    expect(result.finalText).toBe('Hello there.');
  });

  it('the flattened form is read only without special tokens and when the text starts with a channel name', () => {
    expect(lenient('analysis of the data shows growth')[0]?.channel).toBeNull();
    expect(lenient('finally, four')[0]?.channel).toBeNull();
    expect(lenient('analysisThink.assistantfinalFour.').map((m) => [m.channel, messageText(m)])).toEqual([
      ['analysis', 'Think.'],
      ['final', 'Four.'],
    ]);
    // One special token anywhere: the ordinary lenient reading applies.
    expect(lenient('analysisThink.assistantfinalFour.<|end|>').map((m) => m.channel)).toEqual([null]);
  });

  it('strict mode still reproduces the official errors on these shapes', () => {
    const strict = (s: string) => () => {
      const p = new StreamParser({ role: 'assistant', strict: true });
      for (const t of encode(s, { allowSpecial: true })) p.push(t);
      p.end();
    };
    expect(strict('<|channel|>final<|message|>Answer<|end|><|return|>')).toThrow(
      'Unexpected token 200002 while expecting start token 200006',
    );
    expect(strict('<|channel|>commentary to=repo_browser.run_command{"command":"ls"}')).toThrow(
      'Unexpected EOS while waiting for message header to complete',
    );
  });
});
