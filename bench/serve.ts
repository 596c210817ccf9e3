/**
 * `harmonia serve` benchmark.
 *  1. Overhead per request (goal < 2 ms p50): the same one-call turn (reasoning + answer, ~40 tokens) on an
 *     instant scripted backend, run (a) in process with `run(agent, input)` — the peer: calling the backend
 *     directly through the agent loop — and (b) through the HTTP server with the official `openai` client
 *     (`responses.create`, `chat.completions.create`) and with plain `fetch`. Overhead = p50(b) − p50(a).
 *  2. 200 concurrent streamed requests (`responses.create({stream: true})`) on a scripted backend that yields a
 *     token every 2 ms (~50 tokens), counting errors and checking every answer is its own; the peer is 200
 *     concurrent in-process `runStream` calls on the same backend.
 * Run from the repo root after `pnpm -s build`:  node --import tsx bench/serve.ts
 */
import {
  Agent,
  decode,
  encode,
  run,
  runStream,
  type TokenBackend,
  type TokenChunk,
  type TokenRequest,
} from '@harmonia/core';
import { createHarmoniaServer } from '@harmonia/server';
import OpenAI from 'openai';

/** Answers `<reasoning> <final: echo of the last user message>`, a token per `delayMs` (0: all at once). */
class EchoBackend implements TokenBackend {
  readonly kind = 'tokens' as const;
  readonly id = 'echo';
  constructor(private readonly delayMs: number) {}
  async generate(): Promise<never> {
    throw new Error('stream only');
  }
  async *stream(request: TokenRequest): AsyncIterable<TokenChunk> {
    const prompt = decode(request.prompt);
    const user = [...prompt.matchAll(/<\|start\|>user<\|message\|>([\s\S]*?)<\|end\|>/g)].at(-1)?.[1] ?? '';
    const tokens = encode(
      `<|channel|>analysis<|message|>The user wants an echo of their message, so I repeat it.<|end|><|start|>assistant<|channel|>final<|message|>echo: ${user}<|return|>`,
      { allowSpecial: true },
    );
    if (this.delayMs === 0) yield { type: 'tokens', tokens };
    else {
      for (const t of tokens) {
        if (request.signal?.aborted) break;
        await new Promise((r) => setTimeout(r, this.delayMs));
        yield { type: 'tokens', tokens: [t] };
      }
    }
    yield {
      type: 'finish',
      finishReason: request.signal?.aborted ? 'abort' : 'stop',
      usage: { promptTokens: request.prompt.length, completionTokens: tokens.length },
    };
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const ms = (x: number) => `${x.toFixed(3)} ms`;

async function timeIt(n: number, warm: number, f: (i: number) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < warm; i++) await f(i);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f(i);
    out.push(performance.now() - t0);
  }
  return out;
}

async function main(): Promise<void> {
  const N = Number(process.env.N ?? 400);
  const instant = new EchoBackend(0);
  const server = createHarmoniaServer({ backend: instant, effort: 'low' });
  const url = await server.listen(0, '127.0.0.1');
  // Time inside the server (request received → response finished), apart from the client's own cost.
  let inServer: number[] = [];
  server.http.on('request', (_req, res) => {
    const t = performance.now();
    res.on('finish', () => inServer.push(performance.now() - t));
  });
  const serverSide = async <T>(f: () => Promise<T>): Promise<{ out: T; server: number[] }> => {
    inServer = [];
    const out = await f();
    return { out, server: inServer.slice(-N) };
  };
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 });
  const agent = new Agent({ backend: instant, effort: 'low' });

  // The SDK's and the server's paths need a few hundred calls before the JIT settles: warm generously.
  const W = Number(process.env.WARM ?? 400);
  const direct = await timeIt(N, W, (i) => run(agent, `hello ${i}`));
  const resp = await serverSide(() =>
    timeIt(N, W, (i) => client.responses.create({ model: 'gpt-oss-20b', input: `hello ${i}` })),
  );
  const viaResponses = resp.out;
  const viaChat = await timeIt(N, W, (i) =>
    client.chat.completions.create({
      model: 'gpt-oss-20b',
      messages: [{ role: 'user', content: `hello ${i}` }],
    }),
  );
  const viaFetch = await timeIt(N, W, async (i) => {
    const r = await fetch(`${url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-oss-20b', input: `hello ${i}` }),
    });
    return r.json();
  });
  const d50 = pct(direct, 50);
  console.log(
    `# serve overhead per request (${N} sequential requests, instant backend, one model call each)`,
  );
  console.log('| path | p50 | p99 | overhead p50 vs direct |');
  console.log('| --- | --- | --- | --- |');
  console.log(`| direct: run(agent) in process (peer) | ${ms(d50)} | ${ms(pct(direct, 99))} | — |`);
  const s50 = pct(resp.server, 50);
  console.log(
    `| inside the server, Responses (request in → response out) | ${ms(s50)} | ${ms(pct(resp.server, 99))} | ${ms(s50 - d50)} (${(s50 / d50).toFixed(2)}×) |`,
  );
  for (const [name, xs] of [
    ['POST /v1/responses, plain fetch', viaFetch],
    ['responses.create (openai SDK)', viaResponses],
    ['chat.completions.create (openai SDK)', viaChat],
  ] as const) {
    const p = pct(xs, 50);
    console.log(`| ${name} | ${ms(p)} | ${ms(pct(xs, 99))} | ${ms(p - d50)} (${(p / d50).toFixed(2)}×) |`);
  }
  await server.close();

  // ---- 200 concurrent streamed requests ----
  const C = Number(process.env.C ?? 200);
  const slow = new EchoBackend(2);
  const server2 = createHarmoniaServer({ backend: slow, effort: 'low' });
  const url2 = await server2.listen(0, '127.0.0.1');
  const client2 = new OpenAI({ baseURL: `${url2}/v1`, apiKey: 'x', maxRetries: 0, timeout: 120_000 });
  const slowAgent = new Agent({ backend: slow, effort: 'low' });
  let errors = 0;
  let wrong = 0;
  const lat: number[] = [];
  const drain = async (i: number) => {
    for await (const _ev of runStream(slowAgent, `client ${i}`)) {
      // drain
    }
  };
  // Warm both paths once (module compile, JIT, tokenizer tables), then measure.
  await Promise.all(
    Array.from({ length: C }, async (_, i) => {
      const s = await client2.responses.create({ model: 'gpt-oss-20b', input: `warm ${i}`, stream: true });
      for await (const _ev of s) {
        // drain
      }
      await drain(i);
    }),
  );
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: C }, async (_, i) => {
      const s = performance.now();
      try {
        const stream = await client2.responses.create({
          model: 'gpt-oss-20b',
          input: `client ${i}`,
          stream: true,
        });
        let text = '';
        let completed = false;
        for await (const ev of stream) {
          if (ev.type === 'response.output_text.delta') text += ev.delta;
          if (ev.type === 'response.completed') completed = true;
        }
        if (!completed || text !== `echo: client ${i}`) wrong++;
      } catch {
        errors++;
      }
      lat.push(performance.now() - s);
    }),
  );
  const wall = performance.now() - t0;
  // The same load read with plain fetch (no SDK event parsing): what the server itself costs.
  let fetchErrors = 0;
  const fetchLat: number[] = [];
  const tf = performance.now();
  await Promise.all(
    Array.from({ length: C }, async (_, i) => {
      const s = performance.now();
      const r = await fetch(`${url2}/v1/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-oss-20b', input: `client ${i}`, stream: true }),
      });
      const body = await r.text();
      if (!body.includes('event: response.completed') || !body.includes(`echo: client ${i}`)) fetchErrors++;
      fetchLat.push(performance.now() - s);
    }),
  );
  const fetchWall = performance.now() - tf;
  const t1 = performance.now();
  const peerLat: number[] = [];
  await Promise.all(
    Array.from({ length: C }, async (_, i) => {
      const s = performance.now();
      await drain(i);
      peerLat.push(performance.now() - s);
    }),
  );
  const peerWall = performance.now() - t1;
  await server2.close();
  console.log('');
  console.log(`# ${C} concurrent streamed requests (scripted backend, a token every 2 ms, ~50 tokens each)`);
  console.log('| path | errors | wrong/incomplete answers | wall | p50 latency | p99 latency |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  console.log(
    `| serve: responses.create({stream: true}) | ${errors} | ${wrong} | ${wall.toFixed(0)} ms | ${pct(lat, 50).toFixed(0)} ms | ${pct(lat, 99).toFixed(0)} ms |`,
  );
  console.log(
    `| serve: plain fetch, body read whole | ${fetchErrors} | — | ${fetchWall.toFixed(0)} ms | ${pct(fetchLat, 50).toFixed(0)} ms | ${pct(fetchLat, 99).toFixed(0)} ms |`,
  );
  console.log(
    `| direct: runStream in process (peer) | 0 | 0 | ${peerWall.toFixed(0)} ms | ${pct(peerLat, 50).toFixed(0)} ms | ${pct(peerLat, 99).toFixed(0)} ms |`,
  );
  console.log(
    `ratio wall serve/direct: ${(wall / peerWall).toFixed(2)}× with the openai SDK reading (same process), ${(fetchWall / peerWall).toFixed(2)}× with plain fetch`,
  );
  if (errors || wrong || fetchErrors) process.exitCode = 1;
}

await main();
