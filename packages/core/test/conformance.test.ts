/**
 * One conformance suite for every backend adapter, each against a local replay of its server's wire format.
 * The same agent scenario runs on each: a tool call with reasoning, the tool's answer, a final answer, then a
 * second user turn. Per adapter we check what reached the server: effort in that server's form, reasoning
 * replayed in the field it expects (or not at all for Groq), the tool result tied to its call, and reasoning
 * of the finished turn dropped.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  Agent,
  type Backend,
  BackendError,
  ChatCompletionsBackend,
  CompletionsBackend,
  decode,
  defineFunction,
  OllamaChatBackend,
  OllamaGenerateBackend,
  PROFILES,
  ResponsesBackend,
  RunAbortedError,
  type RunEvent,
  run,
  runStream,
  TruncatedTurnError,
} from '../src/index.js';
import { FakeServer, type RecordedRequest } from './fakes/server.js';
import { llamaCppServer } from './fakes/servers.js';
import {
  CHAT_FLAVORS,
  type ChatFlavor,
  chatCompletions,
  type FakeTurn,
  ollamaChat,
  ollamaGenerate,
  responsesApi,
  vllmCompletions,
} from './fakes/wire.js';

interface Replayed {
  /** Reasoning of the tool-call turn as the server received it (undefined: not sent). */
  reasoning: string | undefined;
  /** The tool result as the server received it. */
  toolResult: string;
}

interface AdapterCase {
  name: string;
  handler: (turns: FakeTurn[]) => ConstructorParameters<typeof FakeServer>[0];
  make: (url: string) => Backend;
  effortSent: (req: RecordedRequest) => unknown;
  replayed: (req: RecordedRequest) => Replayed;
  /** Whether the request text contains `s` anywhere (reasoning-dropped check). */
  contains: (req: RecordedRequest, s: string) => boolean;
  expectReasoningReplay: boolean;
}

const promptText = (req: RecordedRequest) =>
  typeof req.body.prompt === 'string' ? req.body.prompt : decode(req.body.prompt as number[]);

/** Token backends: the rendered Harmony prompt carries everything. */
function tokenCase(name: string, handler: AdapterCase['handler'], make: AdapterCase['make']): AdapterCase {
  return {
    name,
    handler,
    make,
    effortSent: (req) => /Reasoning: (\w+)/.exec(promptText(req))?.[1],
    replayed: (req) => {
      const p = promptText(req);
      const reasoning = /<\|channel\|>analysis<\|message\|>(.*?)<\|end\|>/.exec(p)?.[1];
      const toolResult =
        /<\|start\|>functions\.get_weather to=assistant<\|channel\|>commentary<\|message\|>(.*?)<\|end\|>/.exec(
          p,
        )?.[1] ?? '';
      return { reasoning, toolResult };
    },
    contains: (req, s) => promptText(req).includes(s),
    expectReasoningReplay: true,
  };
}

function chatCase(flavor: ChatFlavor, profile: (typeof PROFILES)[keyof typeof PROFILES]): AdapterCase {
  return {
    name: `${flavor.name} chat completions`,
    handler: (turns) => chatCompletions(flavor, turns),
    make: (url) =>
      new ChatCompletionsBackend({ baseURL: `${url}/v1`, model: 'gpt-oss-20b', profile, retry: FAST }),
    effortSent: (req) =>
      profile.effortAs === 'reasoning_effort'
        ? req.body.reasoning_effort
        : (req.body.reasoning as { effort?: string } | undefined)?.effort,
    replayed: (req) => {
      const msgs = req.body.messages as Record<string, unknown>[];
      const asst = msgs.find((m) => m.role === 'assistant' && Array.isArray(m.tool_calls));
      const call = (asst!.tool_calls as { id: string; function: { name: string } }[])[0]!;
      expect(call.function.name).toBe('get_weather');
      const tool = msgs.find((m) => m.role === 'tool');
      expect(tool?.tool_call_id).toBe(call.id);
      const field = profile.replayReasoningAs;
      for (const other of ['reasoning', 'reasoning_content', 'thinking']) {
        if (other !== field) expect(asst).not.toHaveProperty(other);
      }
      return {
        reasoning: field ? (asst?.[field] as string | undefined) : undefined,
        toolResult: String(tool?.content),
      };
    },
    contains: (req, s) => JSON.stringify(req.body.messages).includes(s),
    expectReasoningReplay: profile.replayReasoningAs !== null,
  };
}

/** Quick retries so the HTTP-error case stays fast. */
const FAST = { retries: 2, baseDelayMs: 5, maxDelayMs: 20 };

/** llama-server's model endpoints (fakes/servers.ts), without its GET routes. */
const llamaModelEndpoints = (turns: FakeTurn[]) => llamaCppServer(turns).handler;

const CASES: AdapterCase[] = [
  tokenCase(
    'vLLM /v1/completions (token ids)',
    vllmCompletions,
    (url) => new CompletionsBackend({ baseURL: url, model: 'gpt-oss-20b', retry: FAST }),
  ),
  tokenCase(
    'llama.cpp /completion (token ids, EOG left out)',
    llamaModelEndpoints,
    (url) => new CompletionsBackend({ baseURL: url, model: 'gpt-oss-20b', dialect: 'llamacpp', retry: FAST }),
  ),
  tokenCase(
    'Ollama /api/generate (raw)',
    ollamaGenerate,
    (url) => new OllamaGenerateBackend({ baseURL: url, model: 'gpt-oss:20b', retry: FAST }),
  ),
  chatCase(CHAT_FLAVORS.vllm, PROFILES.vllm),
  chatCase(CHAT_FLAVORS.llamacpp, PROFILES.llamacpp),
  chatCase({ name: 'openai', reasoningField: 'reasoning' }, PROFILES.openai),
  chatCase(CHAT_FLAVORS.ollama, PROFILES.ollama),
  chatCase(CHAT_FLAVORS.openrouter, PROFILES.openrouter),
  chatCase(CHAT_FLAVORS.groq, PROFILES.groq),
  chatCase(CHAT_FLAVORS.lmstudio, PROFILES.lmstudio),
  {
    name: 'Ollama /api/chat (native, thinking)',
    handler: ollamaChat,
    make: (url) => new OllamaChatBackend({ baseURL: url, model: 'gpt-oss:20b', retry: FAST }),
    effortSent: (req) => req.body.think,
    replayed: (req) => {
      const msgs = req.body.messages as Record<string, unknown>[];
      const asst = msgs.find((m) => m.role === 'assistant' && Array.isArray(m.tool_calls));
      const call = (asst!.tool_calls as { function: { name: string; arguments: unknown } }[])[0]!;
      expect(call.function).toEqual({ name: 'get_weather', arguments: { city: 'Paris' } });
      const tool = msgs.find((m) => m.role === 'tool');
      expect(tool?.tool_name).toBe('get_weather');
      expect(asst).not.toHaveProperty('reasoning');
      return { reasoning: asst?.thinking as string | undefined, toolResult: String(tool?.content) };
    },
    contains: (req, s) => JSON.stringify(req.body.messages).includes(s),
    expectReasoningReplay: true,
  },
  {
    name: 'Responses API (vLLM, OpenAI, LM Studio)',
    handler: responsesApi,
    make: (url) => new ResponsesBackend({ baseURL: `${url}/v1`, model: 'gpt-oss-20b', retry: FAST }),
    effortSent: (req) => (req.body.reasoning as { effort?: string }).effort,
    replayed: (req) => {
      const input = req.body.input as Record<string, unknown>[];
      const rs = input.find((i) => i.type === 'reasoning') as { content: { text: string }[] } | undefined;
      const fc = input.find((i) => i.type === 'function_call');
      const out = input.find((i) => i.type === 'function_call_output');
      expect(fc?.name).toBe('get_weather');
      expect(out?.call_id).toBe(fc?.call_id);
      expect(req.body.store).toBe(false);
      return { reasoning: rs?.content[0]?.text, toolResult: String(out?.output) };
    },
    contains: (req, s) => JSON.stringify(req.body.input).includes(s),
    expectReasoningReplay: true,
  },
  {
    name: 'llama.cpp Responses API (output_text history)',
    handler: llamaModelEndpoints,
    make: (url) => new ResponsesBackend({ baseURL: `${url}/v1`, model: 'gpt-oss-20b', retry: FAST }),
    effortSent: (req) => (req.body.reasoning as { effort?: string }).effort,
    replayed: (req) => {
      const input = req.body.input as Record<string, unknown>[];
      const rs = input.find((i) => i.type === 'reasoning') as { content: { text: string }[] } | undefined;
      const fc = input.find((i) => i.type === 'function_call');
      const out = input.find((i) => i.type === 'function_call_output');
      expect(fc?.name).toBe('get_weather');
      expect(out?.call_id).toBe(fc?.call_id);
      expect(req.body.store).toBe(false);
      return { reasoning: rs?.content[0]?.text, toolResult: String(out?.output) };
    },
    contains: (req, s) => JSON.stringify(req.body.input).includes(s),
    expectReasoningReplay: true,
  },
];

const TOOL_TURN: FakeTurn = {
  reasoning: 'Need the weather.',
  calls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }],
};
const FINAL_TURN: FakeTurn = { reasoning: 'Sunny, so answer.', content: 'It is sunny in Paris.' };
const SECOND_TURN: FakeTurn = { reasoning: 'Say bye.', content: 'Goodbye!' };

function weatherAgent(backend: Backend, seen: string[]) {
  const getWeather = defineFunction({
    name: 'get_weather',
    description: 'Current weather for a city.',
    parameters: z.object({ city: z.string() }),
    execute: ({ city }) => {
      seen.push(city);
      return { city, sky: 'sunny' };
    },
  });
  return new Agent({
    instructions: 'Answer weather questions.',
    tools: [getWeather],
    backend,
    effort: 'low',
    currentDate: '2026-01-15',
  });
}

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe.each(CASES)('conformance: $name', (c) => {
  it('runs a tool call and a final answer, streaming user-facing text only', async () => {
    server = await new FakeServer(c.handler([TOOL_TURN, FINAL_TURN, SECOND_TURN])).start();
    const seen: string[] = [];
    const agent = weatherAgent(c.make(server.url), seen);
    const events: RunEvent[] = [];
    let result: Awaited<ReturnType<typeof run>> | undefined;
    for await (const ev of runStream(agent, 'Weather in Paris?', { conversationId: 'c1' })) {
      events.push(ev);
      if (ev.type === 'done') result = ev.result;
    }
    expect(result?.status).toBe('completed');
    expect(result?.finalText).toBe('It is sunny in Paris.');
    expect(seen).toEqual(['Paris']);
    const finalDeltas = events.filter((e) => e.type === 'final_delta').map((e) => e.delta);
    expect(finalDeltas.join('')).toBe('It is sunny in Paris.');
    expect(events.some((e) => e.type === 'reasoning_delta')).toBe(false);
    const started = events.find((e) => e.type === 'tool_call_started');
    expect(started).toMatchObject({ recipient: 'functions.get_weather', arguments: '{"city":"Paris"}' });
    expect(result?.reasoning).toContain('Need the weather.');

    expect(server.requests).toHaveLength(2);
    expect(c.effortSent(server.requests[0]!)).toBe('low');
    const r = c.replayed(server.requests[1]!);
    expect(JSON.parse(r.toolResult)).toEqual({ city: 'Paris', sky: 'sunny' });
    if (c.expectReasoningReplay) expect(r.reasoning).toBe('Need the weather.');
    else expect(r.reasoning).toBeUndefined();

    // Next user turn: the finished turn's reasoning is dropped, its call and answer stay.
    const second = await run(agent, 'Thanks!', { conversationId: 'c1' });
    expect(second.finalText).toBe('Goodbye!');
    const third = server.requests[2]!;
    expect(c.contains(third, 'Need the weather.')).toBe(false);
    expect(c.contains(third, 'Sunny, so answer.')).toBe(false);
    expect(c.contains(third, 'It is sunny in Paris.')).toBe(true);
  });

  it('streams reasoning to developers who ask for it', async () => {
    server = await new FakeServer(c.handler([FINAL_TURN])).start();
    const agent = weatherAgent(c.make(server.url), []);
    let reasoning = '';
    for await (const ev of runStream(agent, 'Weather?', { includeReasoning: true })) {
      if (ev.type === 'reasoning_delta') reasoning += ev.delta;
    }
    expect(reasoning).toBe('Sunny, so answer.');
  });

  it('generate and stream agree', async () => {
    server = await new FakeServer(c.handler([FINAL_TURN, FINAL_TURN])).start();
    const backend = c.make(server.url);
    if (backend.kind === 'tokens') {
      const req = { prompt: [1, 2, 3], stop: [200002, 200012] };
      const whole = await backend.generate(req);
      const streamed: number[] = [];
      for await (const ch of backend.stream(req)) if (ch.type === 'tokens') streamed.push(...ch.tokens);
      expect(decode(streamed)).toBe(decode(whole.tokens));
      expect(whole.tokens.at(-1)).toBe(200002);
      expect(whole.finishReason).toBe('stop');
    } else {
      const req = {
        messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] }],
        tools: [],
        effort: 'high' as const,
      };
      const whole = await backend.generate(req);
      let done: unknown;
      for await (const ch of backend.stream(req)) if (ch.type === 'done') done = ch.result.messages;
      expect(done).toEqual(whole.messages);
      expect(whole.messages.map((m) => m.channel)).toEqual(['analysis', 'final']);
    }
  });

  it('reports a cut-off answer as truncated and gives up after the retries', async () => {
    const cut: FakeTurn = { reasoning: 'Thinking a lot', content: 'This answer is long', finish: 'length' };
    server = await new FakeServer(c.handler([cut, cut, cut])).start();
    const agent = weatherAgent(c.make(server.url), []);
    await expect(run(agent, 'Weather?')).rejects.toBeInstanceOf(TruncatedTurnError);
    expect(server.requests).toHaveLength(3);
  });

  it('aborts a stalled stream when the caller aborts', async () => {
    const handler = c.handler([FINAL_TURN]);
    server = await new FakeServer(async (req) => {
      const reply = await handler(req);
      if ('sse' in reply) return { ...reply, sse: reply.sse.slice(0, -2), hang: true };
      if ('ndjson' in reply) return { ...reply, ndjson: reply.ndjson.slice(0, -2), hang: true };
      return reply;
    }).start();
    const agent = weatherAgent(c.make(server.url), []);
    const ac = new AbortController();
    const t0 = Date.now();
    const err = await (async () => {
      for await (const ev of runStream(agent, 'Weather?', { signal: ac.signal, includeReasoning: true })) {
        if (ev.type === 'reasoning_delta') ac.abort();
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunAbortedError);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('turns an HTTP error into a BackendError naming the server', async () => {
    server = await new FakeServer(() => ({
      status: 503,
      json: { error: { message: 'model is loading' } },
    })).start();
    const agent = weatherAgent(c.make(server.url), []);
    const err = await run(agent, 'hi').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).message).toMatch(/503|model is loading/);
    // Retried with backoff first (FAST: 2 retries).
    expect(server.requests).toHaveLength(3);
  });
});
