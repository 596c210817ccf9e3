import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  Agent,
  ChatCompletionsBackend,
  defineFunction,
  defineNamespace,
  OllamaChatBackend,
  PROFILES,
  ResponsesBackend,
  type RunEvent,
  run,
  runStream,
} from '../src/index.js';
import { FakeServer } from './fakes/server.js';
import { CHAT_FLAVORS, chatCompletions, type FakeTurn, ollamaChat, responsesApi } from './fakes/wire.js';
import { weatherTool } from './helpers.js';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const faq = defineNamespace({
  name: 'faq',
  functions: [
    defineFunction({
      name: 'search',
      description: 'Search the FAQ.',
      parameters: z.object({ query: z.string() }),
      execute: ({ query }) => `hits for ${query}`,
    }),
  ],
});

describe('message-level backends map tool calls both ways', () => {
  it('chat: parallel calls across namespaces, results tied to their call ids', async () => {
    server = await new FakeServer(
      chatCompletions(CHAT_FLAVORS.vllm, [
        {
          reasoning: 'Two lookups.',
          calls: [
            { name: 'get_weather', arguments: '{"city":"Oslo"}' },
            { name: 'faq__search', arguments: '{"query":"refunds"}' },
          ],
        },
        { content: 'Snow, and refunds take 5 days.' },
      ]),
    ).start();
    const cities: string[] = [];
    const agent = new Agent({
      tools: [weatherTool({ cities }), faq],
      backend: new ChatCompletionsBackend({
        baseURL: `${server.url}/v1`,
        model: 'm',
        profile: PROFILES.vllm,
      }),
    });
    const res = await run(agent, 'Oslo weather and refunds?');
    expect(res.finalText).toBe('Snow, and refunds take 5 days.');
    expect(cities).toEqual(['Oslo']);
    const first = server.requests[0]!.body;
    expect((first.tools as { function: { name: string } }[]).map((t) => t.function.name).sort()).toEqual([
      'faq__search',
      'get_weather',
    ]);
    const msgs = server.requests[1]!.body.messages as Record<string, unknown>[];
    const asst = msgs.find((m) => Array.isArray(m.tool_calls))!;
    const ids = (asst.tool_calls as { id: string; function: { name: string } }[]).map((c) => [
      c.id,
      c.function.name,
    ]);
    const tools = msgs.filter((m) => m.role === 'tool').map((m) => [m.tool_call_id, m.content]);
    expect(ids.map(([, n]) => n)).toEqual(['get_weather', 'faq__search']);
    expect(tools).toEqual([
      [ids[0]![0], '{"city":"Oslo","sky":"snow"}'],
      [ids[1]![0], 'hits for refunds'],
    ]);
    expect(asst.reasoning).toBe('Two lookups.');
    expect(res.newMessages.filter((m) => m.role === 'tool').map((m) => m.name)).toEqual([
      'functions.get_weather',
      'faq.search',
    ]);
  });

  it('responses: an unknown function name goes back to the model as a tool error', async () => {
    server = await new FakeServer(
      responsesApi([{ calls: [{ name: 'nope', arguments: '{}' }] }, { content: 'Sorry.' }]),
    ).start();
    const agent = new Agent({
      tools: [weatherTool({ cities: [] })],
      backend: new ResponsesBackend({ baseURL: `${server.url}/v1`, model: 'm' }),
    });
    const res = await run(agent, 'hi');
    expect(res.finalText).toBe('Sorry.');
    const input = server.requests[1]!.body.input as Record<string, unknown>[];
    const out = input.find((i) => i.type === 'function_call_output');
    expect(String(out?.output)).toContain("Unknown tool 'functions.nope'");
  });
});

describe.each([CHAT_FLAVORS.vllm, CHAT_FLAVORS.lmstudio, CHAT_FLAVORS.openrouter])(
  'chat streaming: a preamble is never shown as the answer ($name)',
  (flavor) => {
    const turns: FakeTurn[] = [
      {
        reasoning: 'Look it up.',
        content: 'Let me check the weather for you.',
        calls: [{ name: 'get_weather', arguments: '{"city":"Oslo"}' }],
      },
      { reasoning: 'Snow.', content: 'It is snowing in Oslo.' },
    ];
    const backendFor = (url: string) =>
      new ChatCompletionsBackend({ baseURL: `${url}/v1`, model: 'm', profile: PROFILES[flavor.name] });

    it('runStream: preamble_delta before the call, final_delta only for the answer', async () => {
      server = await new FakeServer(chatCompletions(flavor, turns)).start();
      const agent = new Agent({ tools: [weatherTool({ cities: [] })], backend: backendFor(server.url) });
      const events: RunEvent[] = [];
      for await (const ev of runStream(agent, 'Oslo?')) events.push(ev);
      const userFacing = events
        .filter(
          (e) => e.type === 'preamble_delta' || e.type === 'final_delta' || e.type === 'tool_call_started',
        )
        .map((e) => [e.type, e.turn, 'delta' in e ? e.delta : e.recipient]);
      // Text deltas of one kind are merged: how the server split them is not part of the contract.
      const merged: (string | number)[][] = [];
      for (const [type, turn, text] of userFacing) {
        const last = merged.at(-1);
        if (last && last[0] === type && type !== 'tool_call_started') last[2] += String(text);
        else merged.push([type!, turn!, text!]);
      }
      expect(merged).toEqual([
        ['preamble_delta', 0, 'Let me check the weather for you.'],
        ['tool_call_started', 0, 'functions.get_weather'],
        ['final_delta', 1, 'It is snowing in Oslo.'],
      ]);
      const done = events.at(-1);
      expect(done?.type === 'done' && done.result.finalText).toBe('It is snowing in Oslo.');
      const stored = done?.type === 'done' ? done.result.newMessages : [];
      expect(stored.filter((m) => m.role === 'assistant' && !m.recipient).map((m) => m.channel)).toEqual([
        'analysis',
        'commentary',
        'analysis',
        'final',
      ]);
    });

    it('backend.stream: held text is released on the first tool call delta, or as final at the finish', async () => {
      server = await new FakeServer(chatCompletions(flavor, turns)).start();
      const backend = backendFor(server.url);
      const req = {
        messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Oslo?' }] }],
        tools: [],
        effort: 'low' as const,
      };
      for (const expected of [
        ['analysis', 'commentary', 'done'],
        ['analysis', 'final', 'done'],
      ]) {
        const kinds: string[] = [];
        const texts: Record<string, string> = {};
        for await (const ch of backend.stream(req)) {
          const kind = ch.type === 'done' ? 'done' : ch.channel;
          if (kinds.at(-1) !== kind) kinds.push(kind);
          if (ch.type === 'delta') texts[ch.channel] = (texts[ch.channel] ?? '') + ch.delta;
        }
        expect(kinds).toEqual(expected);
        expect(texts[expected[1]!]).toBe(
          expected[1] === 'commentary' ? turns[0]!.content : turns[1]!.content,
        );
      }
    });
  },
);

const preambleTurns: FakeTurn[] = [
  {
    reasoning: 'Look it up.',
    content: 'Let me check the weather for you.',
    calls: [{ name: 'get_weather', arguments: '{"city":"Oslo"}' }],
  },
  { reasoning: 'Snow.', content: 'It is snowing in Oslo.' },
];

describe.each([
  {
    name: 'ollama chat',
    start: () => new FakeServer(ollamaChat(preambleTurns)).start(),
    backend: (url: string) => new OllamaChatBackend({ baseURL: url, model: 'gpt-oss:20b' }),
  },
  {
    name: 'responses',
    start: () => new FakeServer(responsesApi(preambleTurns)).start(),
    backend: (url: string) => new ResponsesBackend({ baseURL: `${url}/v1`, model: 'gpt-oss-20b' }),
  },
])('$name streaming: a preamble is never shown as the answer', ({ start, backend }) => {
  it('runStream: preamble_delta before the call, final_delta only for the answer; stored as commentary', async () => {
    server = await start();
    const agent = new Agent({ tools: [weatherTool({ cities: [] })], backend: backend(server.url) });
    const events: RunEvent[] = [];
    for await (const ev of runStream(agent, 'Oslo?')) events.push(ev);
    const text = (type: string, turn: number) =>
      events
        .filter((e) => e.type === type && 'turn' in e && e.turn === turn && 'delta' in e)
        .map((e) => ('delta' in e ? e.delta : ''))
        .join('');
    expect(text('final_delta', 0)).toBe('');
    expect(text('preamble_delta', 0)).toBe('Let me check the weather for you.');
    expect(text('final_delta', 1)).toBe('It is snowing in Oslo.');
    const firstPreamble = events.findIndex((e) => e.type === 'preamble_delta');
    const call = events.findIndex((e) => e.type === 'tool_call_started');
    expect(firstPreamble).toBeGreaterThanOrEqual(0);
    expect(firstPreamble).toBeLessThan(call);
    const done = events.at(-1);
    const stored = done?.type === 'done' ? done.result.newMessages : [];
    expect(
      stored.find((m) => m.role === 'assistant' && m.channel === 'commentary' && !m.recipient),
    ).toBeDefined();
  });
});
