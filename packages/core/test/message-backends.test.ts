import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  Agent,
  ChatCompletionsBackend,
  defineFunction,
  defineNamespace,
  PROFILES,
  ResponsesBackend,
  run,
} from '../src/index.js';
import { FakeServer } from './fakes/server.js';
import { CHAT_FLAVORS, chatCompletions, responsesApi } from './fakes/wire.js';
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
