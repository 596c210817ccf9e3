/**
 * Plain URLs to whole-server fakes (written from each server's route table and handlers, see fakes/servers.ts):
 * each is identified as the right server, gets the right protocol, and runs a tool call whose reasoning goes back
 * in the form that server reads. Retries, timeouts and keys are checked against the same fakes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  Agent,
  apiKeyFor,
  type Backend,
  BackendError,
  backendForms,
  backendHelp,
  ChatCompletionsBackend,
  CompletionsBackend,
  decode,
  defineFunction,
  identifyServer,
  OllamaGenerateBackend,
  parseBackendSpec,
  ResponsesBackend,
  resolveSpec,
  run,
  runStream,
  TextTokenStream,
  Tok,
} from '../src/index.js';
import { FakeServer, type RecordedRequest } from './fakes/server.js';
import {
  groqServer,
  llamaCppServer,
  lmStudioServer,
  ollamaServer,
  openRouterServer,
  type ServerFake,
  vllmServer,
} from './fakes/servers.js';
import type { FakeTurn } from './fakes/wire.js';

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function serve(
  f: ServerFake | FakeServer['handler'] extends never ? never : ServerFake,
): Promise<FakeServer> {
  const s = await new FakeServer(f.handler).start();
  servers.push(s);
  return s;
}

const TOOL_TURN: FakeTurn = {
  reasoning: 'Need the weather.',
  calls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }],
};
const FINAL_TURN: FakeTurn = { reasoning: 'Sunny, so answer.', content: 'It is sunny in Paris.' };
const turns = () => [TOOL_TURN, FINAL_TURN];

function weatherAgent(backend: Backend, seen: string[] = []) {
  return new Agent({
    instructions: 'Answer weather questions.',
    tools: [
      defineFunction({
        name: 'get_weather',
        description: 'Current weather for a city.',
        parameters: z.object({ city: z.string() }),
        execute: ({ city }) => {
          seen.push(city);
          return { city, sky: 'sunny' };
        },
      }),
    ],
    backend,
    effort: 'low',
    currentDate: '2026-01-15',
  });
}

const modelCalls = (s: FakeServer) => s.requests.filter((r) => r.method === 'POST');
const promptOf = (r: RecordedRequest) =>
  typeof r.body.prompt === 'string' ? r.body.prompt : decode(r.body.prompt as number[]);

interface UrlCase {
  name: string;
  fake: (t: FakeTurn[]) => ServerFake;
  backend: new (...a: never[]) => Backend;
  idPrefix: string;
  modelPath: string;
  /** The reasoning of the tool-call turn as the second model call carried it. */
  passedBack: (r: RecordedRequest) => string | undefined;
}

const URL_CASES: UrlCase[] = [
  {
    name: 'llama.cpp',
    fake: (t) => llamaCppServer(t),
    backend: CompletionsBackend,
    idPrefix: 'llamacpp:',
    modelPath: '/completion',
    passedBack: (r) => /<\|channel\|>analysis<\|message\|>(.*?)<\|end\|>/.exec(promptOf(r))?.[1],
  },
  {
    name: 'vLLM',
    fake: (t) => vllmServer(t),
    backend: CompletionsBackend,
    idPrefix: 'completions:',
    modelPath: '/v1/completions',
    passedBack: (r) => /<\|channel\|>analysis<\|message\|>(.*?)<\|end\|>/.exec(promptOf(r))?.[1],
  },
  {
    name: 'Ollama',
    fake: (t) => ollamaServer(t),
    backend: OllamaGenerateBackend,
    idPrefix: 'ollama:',
    modelPath: '/api/generate',
    passedBack: (r) => /<\|channel\|>analysis<\|message\|>(.*?)<\|end\|>/.exec(promptOf(r))?.[1],
  },
  {
    name: 'LM Studio',
    fake: (t) => lmStudioServer(t),
    backend: ChatCompletionsBackend,
    idPrefix: 'chat:lmstudio:',
    modelPath: '/v1/chat/completions',
    passedBack: (r) =>
      (r.body.messages as Record<string, unknown>[]).find((m) => m.tool_calls)?.reasoning_content as string,
  },
];

describe.each(URL_CASES)('plain URL to $name', (c) => {
  it('is detected and runs a tool call with its reasoning passed back', async () => {
    const s = await serve(c.fake(turns()));
    const r = await resolveSpec(s.url);
    expect(r.backend).toBeInstanceOf(c.backend);
    expect(r.backend.id.startsWith(c.idPrefix)).toBe(true);
    const seen: string[] = [];
    const result = await run(weatherAgent(r.backend, seen), 'Weather in Paris?');
    expect(result.finalText).toBe('It is sunny in Paris.');
    expect(seen).toEqual(['Paris']);
    const calls = modelCalls(s);
    expect(calls.map((q) => q.path)).toEqual([c.modelPath, c.modelPath]);
    expect(c.passedBack(calls[1]!)).toBe('Need the weather.');
  });

  it('streams the same run', async () => {
    const s = await serve(c.fake(turns()));
    const agent = weatherAgent((await resolveSpec(s.url)).backend);
    let text = '';
    for await (const ev of runStream(agent, 'Weather in Paris?'))
      if (ev.type === 'final_delta') text += ev.delta;
    expect(text).toBe('It is sunny in Paris.');
    expect(c.passedBack(modelCalls(s)[1]!)).toBe('Need the weather.');
  });
});

describe('server identification', () => {
  it('does not take llama-server for Ollama although it answers /api/tags', async () => {
    const s = await serve(llamaCppServer([]));
    const tags = await fetch(`${s.url}/api/tags`).then((r) => r.json());
    expect(tags.models[0].name).toBe('gpt-oss-20b-mxfp4.gguf');
    const r = await identifyServer(s.url);
    expect(r.identity?.kind).toBe('llamacpp');
    expect(r.identity?.evidence).toContain('/props');
  });

  it('tells each server apart with and without /v1 in the URL', async () => {
    for (const [fake, kind] of [
      [llamaCppServer([]), 'llamacpp'],
      [vllmServer([]), 'vllm'],
      [ollamaServer([]), 'ollama'],
      [lmStudioServer([]), 'lmstudio'],
    ] as const) {
      const s = await serve(fake);
      expect((await identifyServer(`${s.url}/v1/`)).identity?.kind).toBe(kind);
    }
  });
});

describe('profiles from the server', () => {
  it('chat:URL to llama.cpp sends past reasoning as reasoning_content', async () => {
    const s = await serve(llamaCppServer(turns()));
    const r = await resolveSpec(`chat:${s.url}/v1`);
    expect((r.backend as ChatCompletionsBackend).profile.name).toBe('llamacpp');
    await run(weatherAgent(r.backend), 'Weather in Paris?');
    const asst = (modelCalls(s)[1]!.body.messages as Record<string, unknown>[]).find((m) => m.tool_calls)!;
    expect(asst.reasoning_content).toBe('Need the weather.');
    expect(asst).not.toHaveProperty('reasoning');
  });

  it('chat:URL to vLLM sends past reasoning as reasoning', async () => {
    const s = await serve(vllmServer(turns()));
    const r = await resolveSpec(`chat:${s.url}`);
    expect((r.backend as ChatCompletionsBackend).profile.name).toBe('vllm');
    await run(weatherAgent(r.backend), 'Weather in Paris?');
    const asst = (modelCalls(s)[1]!.body.messages as Record<string, unknown>[]).find((m) => m.tool_calls)!;
    expect(asst.reasoning).toBe('Need the weather.');
  });

  it('responses:URL to llama.cpp sends assistant history as output_text parts', async () => {
    const s = await serve(llamaCppServer([FINAL_TURN, { content: 'Bye.' }]));
    const r = await resolveSpec(`responses:${s.url}`);
    expect(r.backend).toBeInstanceOf(ResponsesBackend);
    const agent = weatherAgent(r.backend);
    await run(agent, 'Weather?', { conversationId: 'c' });
    const second = await run(agent, 'Thanks', { conversationId: 'c' });
    expect(second.finalText).toBe('Bye.');
    const input = modelCalls(s)[1]!.body.input as Record<string, unknown>[];
    expect(input.find((i) => i.role === 'assistant')?.content).toEqual([
      { type: 'output_text', text: 'It is sunny in Paris.', annotations: [] },
    ]);
  });

  it('OpenRouter gets reasoning_details back on a tool-call turn', async () => {
    const s = await serve(openRouterServer(turns()));
    const backend = new ChatCompletionsBackend({
      baseURL: `${s.url}/api/v1`,
      model: 'openai/gpt-oss-120b',
      profile: (await import('../src/index.js')).PROFILES.openrouter,
    });
    const result = await run(weatherAgent(backend), 'Weather in Paris?');
    expect(result.finalText).toBe('It is sunny in Paris.');
    const asst = (modelCalls(s)[1]!.body.messages as Record<string, unknown>[]).find((m) => m.tool_calls)!;
    expect(asst.reasoning_details).toEqual([
      { type: 'reasoning.text', text: 'Need the weather.', format: 'unknown', index: 0 },
    ]);
  });

  it('Groq gets no reasoning in history', async () => {
    const s = await serve(groqServer(turns()));
    const { PROFILES } = await import('../src/index.js');
    const backend = new ChatCompletionsBackend({
      baseURL: `${s.url}/openai/v1`,
      model: 'openai/gpt-oss-20b',
      profile: PROFILES.groq,
    });
    expect((await run(weatherAgent(backend), 'Weather in Paris?')).finalText).toBe('It is sunny in Paris.');
  });
});

describe('Ollama context size', () => {
  it('sets num_ctx from the conversation so a long one is not cut to 4096 tokens', async () => {
    const long = 'lorem ipsum dolor sit amet '.repeat(1200); // ~6k tokens
    const fake = ollamaServer([{ content: 'Read it.' }]);
    const s = await serve(fake);
    const r = await resolveSpec(s.url);
    await run(weatherAgent(r.backend), long);
    expect(fake.contexts).toHaveLength(1);
    const c = fake.contexts[0]!;
    expect(c.promptTokens).toBeGreaterThan(4096);
    expect(c.truncated).toBe(false);
    expect(c.numCtx).toBe(16384);
  });
});

describe('split special tokens in streamed text', () => {
  it('re-encodes <|call|> split over pieces as the special token', () => {
    const t = new TextTokenStream();
    const ids = [...t.push('<|channel|>final<|message|>hi<|ca'), ...t.push('ll|>'), ...t.end()];
    expect(ids).toContain(Tok.call);
    expect(decode(ids)).toBe('<|channel|>final<|message|>hi<|call|>');
  });

  it('the /v1/completions text path uses the guard', async () => {
    const text = '<|channel|>final<|message|>Hello there.';
    const s = await serve({
      name: 'text-only',
      handler: (req) => {
        if (req.path !== '/v1/completions') return { status: 404, json: {} };
        const chunks = [];
        for (let i = 0; i < text.length; i += 3)
          chunks.push({ choices: [{ index: 0, text: text.slice(i, i + 3), finish_reason: null }] });
        chunks.push({ choices: [{ index: 0, text: '', finish_reason: 'stop' }] });
        return { sse: chunks };
      },
    });
    const b = new CompletionsBackend({ baseURL: s.url, model: 'm' });
    const ids: number[] = [];
    for await (const ch of b.stream({ prompt: [1], stop: [Tok.return, Tok.call] }))
      if (ch.type === 'tokens') ids.push(...ch.tokens);
    expect(ids).toContain(Tok.channel);
    expect(ids).toContain(Tok.message);
    expect(ids.at(-1)).toBe(Tok.return);
    expect(decode(ids)).toBe(`${text}<|return|>`);
  });
});

/** A raw HTTP server for failure modes FakeServer does not script. */
async function rawServer(
  handler: Parameters<typeof createServer>[1],
): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  raws.push(server);
  return { url, server };
}
const raws: Server[] = [];
afterEach(async () => {
  for (const s of raws.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

const FAST = { retries: 3, baseDelayMs: 5, maxDelayMs: 50 };

describe('retries', () => {
  it('retries 503 and 429 (honouring retry-after-ms) on every backend kind, then succeeds', async () => {
    for (const make of [
      (url: string) => new CompletionsBackend({ baseURL: url, model: 'm', retry: FAST }),
      (url: string) => new ChatCompletionsBackend({ baseURL: `${url}/v1`, model: 'm', retry: FAST }),
      (url: string) => new ResponsesBackend({ baseURL: `${url}/v1`, model: 'm', retry: FAST }),
      (url: string) => new OllamaGenerateBackend({ baseURL: url, model: 'm', retry: FAST }),
    ]) {
      const inner = vllmServer([FINAL_TURN]).handler;
      const ollama = ollamaServer([FINAL_TURN]).handler;
      let n = 0;
      const s = await serve({
        name: 'flaky',
        handler: (req) => {
          n++;
          if (n === 1) return { status: 503, json: { error: { message: 'loading' } } };
          if (n === 2) return { status: 429, json: { error: { message: 'slow down' } } };
          return req.path === '/api/generate' ? ollama(req) : inner(req);
        },
      });
      const result = await run(weatherAgent(make(s.url)), 'Weather?');
      expect(result.finalText).toBe('It is sunny in Paris.');
      expect(n).toBe(3);
    }
  });

  it('gives up after the retries with the last error, saying how many attempts', async () => {
    let n = 0;
    const s = await serve({
      name: 'down',
      handler: () => {
        n++;
        return { status: 502, json: { error: { message: 'bad gateway' } } };
      },
    });
    const b = new CompletionsBackend({ baseURL: s.url, model: 'm', retry: FAST });
    const err = await b.generate({ prompt: [1], stop: [Tok.return] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toMatch(/502.*after 4 attempts/s);
    expect(n).toBe(4);
  });

  it('does not retry a 400', async () => {
    let n = 0;
    const s = await serve({
      name: 'bad',
      handler: () => {
        n++;
        return { status: 400, json: { error: { message: 'bad request' } } };
      },
    });
    const b = new ChatCompletionsBackend({ baseURL: `${s.url}/v1`, model: 'm', retry: FAST });
    await expect(run(weatherAgent(b), 'hi')).rejects.toBeInstanceOf(BackendError);
    expect(n).toBe(1);
  });

  it('retries a dropped connection before the answer starts', async () => {
    let n = 0;
    const ok = vllmServer([FINAL_TURN]).handler;
    const good = await serve({ name: 'good', handler: ok });
    const { url } = await rawServer(async (req, res) => {
      n++;
      if (n === 1) {
        req.socket.destroy();
        return;
      }
      const r = await fetch(`${good.url}${req.url}`, {
        method: req.method,
        headers: { 'content-type': 'application/json' },
        body: await new Promise<string>((resolve) => {
          let b = '';
          req.on('data', (d) => {
            b += d;
          });
          req.on('end', () => resolve(b));
        }),
      });
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
      res.end(await r.text());
    });
    const b = new CompletionsBackend({ baseURL: url, model: 'm', retry: FAST });
    expect((await run(weatherAgent(b), 'Weather?')).finalText).toBe('It is sunny in Paris.');
    expect(n).toBe(2);
  });

  it('never retries once the first streamed token is out', async () => {
    let n = 0;
    const { url } = await rawServer((_req, res) => {
      n++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        `data: ${JSON.stringify({ choices: [{ index: 0, token_ids: [Tok.channel], text: '' }] })}\n\n`,
      );
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const b = new CompletionsBackend({ baseURL: url, model: 'm', retry: FAST });
    const got: number[] = [];
    const err = await (async () => {
      for await (const ch of b.stream({ prompt: [1], stop: [Tok.return] }))
        if (ch.type === 'tokens') got.push(...ch.tokens);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(got).toEqual([Tok.channel]);
    expect(n).toBe(1);
  });

  it('times out a server that never answers, then retries', async () => {
    let n = 0;
    const { url } = await rawServer(() => {
      n++; // never answers
    });
    const b = new CompletionsBackend({
      baseURL: url,
      model: 'm',
      retry: { retries: 1, baseDelayMs: 5, timeoutMs: 150 },
    });
    const t0 = Date.now();
    const err = await b.generate({ prompt: [1], stop: [Tok.return] }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/no answer within 150 ms/);
    expect(n).toBe(2);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('keys', () => {
  it('sends a hosted API key only to its own host, and a given key only where it was given', () => {
    const saved = { ...process.env };
    try {
      process.env.OPENAI_API_KEY = 'sk-openai';
      process.env.OPENROUTER_API_KEY = 'sk-or';
      expect(apiKeyFor('https://api.openai.com/v1')).toBe('sk-openai');
      expect(apiKeyFor('https://openrouter.ai/api/v1')).toBe('sk-or');
      expect(apiKeyFor('http://127.0.0.1:8000')).toBeUndefined();
      expect(apiKeyFor('https://evil.example/v1')).toBeUndefined();
      expect(apiKeyFor('http://127.0.0.1:8000', 'mine')).toBe('mine');
    } finally {
      process.env = saved;
    }
  });

  it('sends the given key on probes and model calls, and OPENAI_API_KEY not at all to a local URL', async () => {
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = 'sk-must-not-leak';
    const auth: (string | undefined)[] = [];
    try {
      const inner = vllmServer([FINAL_TURN, FINAL_TURN]).handler;
      const { url } = await rawServer(async (req, res) => {
        auth.push(req.headers.authorization);
        const body = await new Promise<string>((resolve) => {
          let b = '';
          req.on('data', (d) => {
            b += d;
          });
          req.on('end', () => resolve(b));
        });
        const reply = await inner({
          method: req.method ?? 'GET',
          path: (req.url ?? '/').split('?')[0]!,
          body: body ? JSON.parse(body) : {},
        });
        if ('json' in reply) {
          res.writeHead(reply.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(reply.json));
        } else if ('sse' in reply) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          for (const ev of reply.sse) res.write(`data: ${JSON.stringify(ev)}\n\n`);
          res.end('data: [DONE]\n\n');
        } else res.end();
      });
      await run(weatherAgent((await resolveSpec(url)).backend), 'hi');
      expect(auth.length).toBeGreaterThan(2);
      expect(auth.every((a) => a === undefined)).toBe(true);
      auth.length = 0;
      await run(weatherAgent((await resolveSpec(url, { apiKey: 'local-key' })).backend), 'hi');
      expect(auth.length).toBeGreaterThan(2);
      expect(auth.every((a) => a === 'Bearer local-key')).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
  });
});

describe('the scheme table', () => {
  it('makes the parser errors and the help from one list', () => {
    expect(backendForms()).toBe(
      'a URL (http://127.0.0.1:8080), chat:URL, responses:URL, ollama:MODEL, ollama-chat:MODEL, script:FILE or native:DIR',
    );
    expect(() => parseBackendSpec('bogus:x')).toThrow(backendForms());
    expect(() => parseBackendSpec('chat:nope')).toThrow(
      'chat: needs a URL, e.g. chat:http://127.0.0.1:8000/v1',
    );
    const help = backendHelp(2);
    for (const form of ['http(s)://HOST:PORT', 'chat:URL', 'ollama-chat:MODEL', 'script:FILE', 'native:DIR'])
      expect(help).toContain(form);
  });
});
