/**
 * `harmonia serve` driven by the official `openai` npm client, unchanged. The model is scripted; every test
 * checks what the model was sent as well as what the client got back.
 */
import { fileURLToPath } from 'node:url';
import {
  type BackendChooser,
  decode,
  harmonyScript as H,
  McpNamespace,
  ScriptedBackend,
  type ScriptStep,
  type TokenBackend,
  type TokenChunk,
  type TokenRequest,
} from '@harmonia/core';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarmoniaServer, type HarmoniaServer, type HarmoniaServerOptions } from '../src/index.js';

let server: HarmoniaServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(
  steps: ScriptStep[] | TokenBackend,
  opts: Partial<HarmoniaServerOptions> = {},
): Promise<{ client: OpenAI; backend: ScriptedBackend | TokenBackend; url: string }> {
  const backend = Array.isArray(steps) ? new ScriptedBackend(steps) : steps;
  server = createHarmoniaServer({ backend, ...opts });
  const url = await server.listen(0, '127.0.0.1');
  const client = new OpenAI({
    baseURL: `${url}/v1`,
    apiKey: opts.apiKey ?? 'sk-unused',
    maxRetries: 0,
    timeout: 15_000,
  });
  return { client, backend, url };
}

const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Current weather for a city.',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
    additionalProperties: false,
  },
  strict: false,
};

describe('Responses API', () => {
  it('responses.create: reasoning item with its text, the answer, usage; instructions and effort reach the prompt', async () => {
    const { client, backend } = await serve([H.analysis('The user greets.') + H.final('Hello there!')]);
    const r = await client.responses.create({
      model: 'gpt-oss-120b',
      input: 'Hi',
      instructions: 'Be brief.',
      reasoning: { effort: 'high' },
    });
    expect(r.status).toBe('completed');
    expect(r.output_text).toBe('Hello there!');
    expect(r.model).toBe('gpt-oss-120b');
    const reasoning = r.output.find((o) => o.type === 'reasoning');
    expect(reasoning?.content?.[0]).toEqual({ type: 'reasoning_text', text: 'The user greets.' });
    expect(r.usage?.input_tokens).toBeGreaterThan(10);
    expect(r.usage?.output_tokens).toBeGreaterThan(3);
    const prompt = (backend as ScriptedBackend).promptText(0);
    expect(prompt).toContain('Reasoning: high');
    expect(prompt).toContain('# Instructions\n\nBe brief.');
    expect(prompt).toContain('<|start|>user<|message|>Hi<|end|>');
  });

  it('responses.stream + finalResponse(): the full event sequence with increasing sequence numbers', async () => {
    const { client } = await serve([H.analysis('Think.') + H.final('Streamed answer.')], {});
    const stream = client.responses.stream({ model: 'gpt-oss-20b', input: 'Say something' });
    const types: string[] = [];
    const seqs: number[] = [];
    let deltas = '';
    for await (const ev of stream) {
      types.push(ev.type);
      seqs.push(ev.sequence_number);
      if (ev.type === 'response.output_text.delta') deltas += ev.delta;
    }
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('Streamed answer.');
    expect(deltas).toBe('Streamed answer.');
    expect(seqs).toEqual(seqs.map((_, i) => i));
    // Order as the hosted API and the reference server send it.
    const order = [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.reasoning_text.delta',
      'response.reasoning_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ];
    expect(types.filter((t, i) => t !== types[i - 1] || !t.endsWith('.delta'))).toEqual(order);
    const reasoning = final.output.find((o) => o.type === 'reasoning');
    expect(reasoning?.content?.[0]?.text).toBe('Think.');
  });

  it('a function-call round trip through previous_response_id; reasoning is passed back per Harmony', async () => {
    const { client, backend } = await serve([
      H.analysis('Need weather for Oslo.') + H.call('functions.get_weather', '{"city":"Oslo"}'),
      H.final('It snows in Oslo.'),
    ]);
    const first = await client.responses.create({
      model: 'gpt-oss-20b',
      input: 'Weather in Oslo?',
      tools: [weatherTool],
    });
    const call = first.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Oslo"}' });
    if (call?.type !== 'function_call') throw new Error('no call');
    const second = await client.responses.create({
      model: 'gpt-oss-20b',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"sky":"snow"}' }],
      tools: [weatherTool],
    });
    expect(second.output_text).toBe('It snows in Oslo.');
    expect(second.previous_response_id).toBe(first.id);
    const p1 = (backend as ScriptedBackend).promptText(1);
    expect(p1).toContain('type get_weather = (_: {\ncity: string,\n}) => any;');
    expect(p1).toContain('<|channel|>analysis<|message|>Need weather for Oslo.<|end|>');
    expect(p1).toContain(
      '<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>{"sky":"snow"}<|end|>',
    );
    // One user message: the continuation adds none.
    expect(p1.match(/<\|start\|>user/g)).toHaveLength(1);
    // The stored response can be read back.
    const again = await client.responses.retrieve(second.id);
    expect(again.output_text ?? again.output.find((o) => o.type === 'message')).toBeTruthy();
  });

  it('a stateless round trip (store: false): the client sends the items back', async () => {
    const { client, backend } = await serve([
      H.analysis('Look it up.') + H.call('functions.get_weather', '{"city":"Rome"}'),
      H.final('Sunny in Rome.'),
    ]);
    const first = await client.responses.create({
      model: 'm',
      input: 'Rome?',
      tools: [weatherTool],
      store: false,
    });
    const call = first.output.find((o) => o.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error('no call');
    const second = await client.responses.create({
      model: 'm',
      store: false,
      tools: [weatherTool],
      input: [
        { role: 'user', content: 'Rome?' },
        ...first.output,
        { type: 'function_call_output', call_id: call.call_id, output: 'sunny' },
      ] as OpenAI.Responses.ResponseInput,
    });
    expect(second.output_text).toBe('Sunny in Rome.');
    const p1 = (backend as ScriptedBackend).promptText(1);
    expect(p1).toContain('<|channel|>analysis<|message|>Look it up.<|end|>');
    expect(p1).toContain(
      'to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>{"city":"Rome"}<|call|>',
    );
    await expect(
      client.responses.create({ model: 'm', input: 'x', previous_response_id: first.id }),
    ).rejects.toMatchObject({
      status: 404,
    });
  });

  it('hides reasoning when asked (public deployments)', async () => {
    const { client } = await serve([H.analysis('secret plan') + H.final('Done.')], { hideReasoning: true });
    const r = await client.responses.create({ model: 'm', input: 'go' });
    expect(r.output_text).toBe('Done.');
    expect(JSON.stringify(r)).not.toContain('secret plan');
  });
});

describe('Chat Completions', () => {
  it('chat.completions.create: answer, reasoning in `reasoning`, reasoning_effort and system prompt reach the model', async () => {
    const { client, backend } = await serve([H.analysis('Simple math.') + H.final('4')]);
    const c = await client.chat.completions.create({
      model: 'gpt-oss-20b',
      reasoning_effort: 'low',
      messages: [
        { role: 'system', content: 'You are a calculator.' },
        { role: 'user', content: '2+2?' },
      ],
    });
    expect(c.choices[0]?.message.content).toBe('4');
    expect(c.choices[0]?.finish_reason).toBe('stop');
    expect((c.choices[0]!.message as unknown as { reasoning: string }).reasoning).toBe('Simple math.');
    const prompt = (backend as ScriptedBackend).promptText(0);
    expect(prompt).toContain('Reasoning: low');
    expect(prompt).toContain('You are a calculator.');
  });

  it('streams content and reasoning deltas, then a tool call; the tool result continues the turn', async () => {
    const { client, backend } = await serve([
      H.analysis('Call the tool.') + H.call('functions.get_weather', '{"city":"Oslo"}'),
      H.final('Snowy.'),
    ]);
    const tools = [
      {
        type: 'function' as const,
        function: { name: 'get_weather', description: 'Weather', parameters: weatherTool.parameters },
      },
    ];
    const stream = await client.chat.completions.create({
      model: 'gpt-oss-20b',
      stream: true,
      stream_options: { include_usage: true },
      tools,
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
    });
    let reasoning = '';
    let finish: string | null = null;
    const calls: { id?: string; name?: string; args: string }[] = [];
    let usage = 0;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage.total_tokens;
      const choice = chunk.choices[0];
      if (!choice) continue;
      reasoning += (choice.delta as { reasoning?: string }).reasoning ?? '';
      for (const tc of choice.delta.tool_calls ?? []) {
        calls[tc.index] ??= { args: '' };
        const slot = calls[tc.index]!;
        if (tc.id) slot.id = tc.id;
        if (tc.function?.name) slot.name = tc.function.name;
        slot.args += tc.function?.arguments ?? '';
      }
      finish = choice.finish_reason ?? finish;
    }
    expect(reasoning).toBe('Call the tool.');
    expect(finish).toBe('tool_calls');
    expect(usage).toBeGreaterThan(0);
    expect(calls).toEqual([{ id: expect.any(String), name: 'get_weather', args: '{"city":"Oslo"}' }]);
    const next = await client.chat.completions.create({
      model: 'gpt-oss-20b',
      stream: true,
      tools,
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: calls[0]!.id!,
              type: 'function',
              function: { name: 'get_weather', arguments: calls[0]!.args },
            },
          ],
          reasoning,
        } as OpenAI.Chat.ChatCompletionAssistantMessageParam,
        { role: 'tool', tool_call_id: calls[0]!.id!, content: 'snow' },
      ],
    });
    let text = '';
    for await (const chunk of next) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Snowy.');
    const p1 = (backend as ScriptedBackend).promptText(1);
    expect(p1).toContain('<|channel|>analysis<|message|>Call the tool.<|end|>');
    expect(p1).toContain(
      '<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>snow<|end|>',
    );
  });
});

describe('server-side MCP tools', () => {
  it('runs an MCP tool the model calls while reasoning; the answer carries an mcp_call item', async () => {
    const kb = new McpNamespace({
      name: 'kb',
      command: process.execPath,
      args: [fileURLToPath(new URL('../../core/test/fixtures/mcp-kb-server.mjs', import.meta.url))],
    });
    try {
      const { client, backend } = await serve(
        [
          H.analysis('Ask the kb.') +
            H.callAfterChannel('kb.lookup_faq', '{"question":"refund policy"}', 'analysis'),
          H.final('Refunds take 5 days.'),
        ],
        { tools: [kb] },
      );
      const stream = client.responses.stream({ model: 'm', input: 'How long for a refund?' });
      const types: string[] = [];
      for await (const ev of stream) types.push(ev.type);
      const r = await stream.finalResponse();
      expect(r.output_text).toBe('Refunds take 5 days.');
      const item = r.output.find((o) => o.type === 'mcp_call');
      expect(item).toMatchObject({ server_label: 'kb', name: 'lookup_faq', output: 'Refunds take 5 days.' });
      expect(types).toContain('response.mcp_call.completed');
      expect((backend as ScriptedBackend).promptText(1)).toContain(
        '<|start|>kb.lookup_faq to=assistant<|channel|>analysis<|message|>Refunds take 5 days.<|end|>',
      );
    } finally {
      await kb.dispose();
    }
  });
});

describe('server-side MCP tools with --hide-reasoning', () => {
  it('a call made while reasoning is hidden with the reasoning: no mcp_call item, no arguments in any event', async () => {
    const kb = new McpNamespace({
      name: 'kb',
      command: process.execPath,
      args: [fileURLToPath(new URL('../../core/test/fixtures/mcp-kb-server.mjs', import.meta.url))],
    });
    try {
      const { client } = await serve(
        [
          H.analysis('secret plan: ask the kb.') +
            H.callAfterChannel('kb.lookup_faq', '{"question":"refund policy secret-arg"}', 'analysis'),
          H.final('Refunds take 5 days.'),
        ],
        { tools: [kb], hideReasoning: true },
      );
      const stream = client.responses.stream({ model: 'm', input: 'How long for a refund?' });
      const events: string[] = [];
      for await (const ev of stream) events.push(JSON.stringify(ev));
      const r = await stream.finalResponse();
      expect(r.output_text).toBe('Refunds take 5 days.');
      const all = events.join('\n') + JSON.stringify(r);
      expect(all).not.toContain('secret');
      expect(r.output.some((o) => o.type === 'mcp_call')).toBe(false);
    } finally {
      await kb.dispose();
    }
  });
});

describe('router arms', () => {
  it('a model name picks its arm (by name or size); auto goes to the router, which picks per conversation', async () => {
    const small = new ScriptedBackend([H.final('from 20b'), H.final('from 20b again')], { id: '20b' });
    const big = new ScriptedBackend([H.final('from 120b-high')], { id: '120b-high' });
    let chosen = 0;
    const chooser: BackendChooser = {
      async choose() {
        chosen++;
        return { decision: { model: '20b', effort: 'low', reason: 'test router' }, backend: small };
      },
    };
    const { client } = await serve(small, {
      backend: chooser,
      arms: { '20b': { backend: small }, '120b-high': { backend: big, effort: 'high' } },
    });
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['auto', '20b', '120b-high']);
    const r1 = await client.responses.create({ model: 'gpt-oss-120b', input: 'hard question' });
    expect(r1.output_text).toBe('from 120b-high');
    expect(big.promptText(0)).toContain('Reasoning: high');
    const r2 = await client.chat.completions.create({
      model: '20b',
      messages: [{ role: 'user', content: 'easy' }],
    });
    expect(r2.choices[0]?.message.content).toBe('from 20b');
    expect(chosen).toBe(0);
    const r3 = await client.responses.create({ model: 'auto', input: 'which?' });
    expect(r3.output_text).toBe('from 20b again');
    expect(chosen).toBe(1);
  });
});

describe('validation, auth, models', () => {
  it('answers OpenAI-style error bodies the SDK raises as typed errors', async () => {
    const { client, url } = await serve([], { apiKey: 'sk-right', models: ['gpt-oss-20b', 'gpt-oss-120b'] });
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toEqual(['gpt-oss-20b', 'gpt-oss-120b']);
    await expect(
      client.responses.create({ model: 'm', input: 'x', reasoning: { effort: 'extreme' as 'high' } }),
    ).rejects.toMatchObject({ status: 400, param: 'reasoning.effort', code: 'invalid_value' });
    await expect(
      client.responses.create({ model: 'm', input: 'x', previous_response_id: 'resp_nope' }),
    ).rejects.toMatchObject({ status: 404, code: 'previous_response_not_found' });
    await expect(
      client.responses.create({
        model: 'm',
        input: [{ type: 'function_call_output', call_id: 'call_unknown', output: 'x' }],
      }),
    ).rejects.toMatchObject({ status: 400, param: 'input[0].call_id' });
    await expect(
      client.responses.create({
        model: 'm',
        input: 'x',
        tools: [{ type: 'code_interpreter', container: { type: 'auto' } }],
      }),
    ).rejects.toMatchObject({ status: 400, param: 'tools[0].type' });
    await expect(client.chat.completions.create({ model: 'm', messages: [] })).rejects.toMatchObject({
      status: 400,
      param: 'messages',
    });
    const wrongKey = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
    await expect(wrongKey.models.list()).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    const raw = await fetch(`${url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-right', 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });
});

/** A token backend that echoes the last user message, a token at a time with a delay, honouring abort. */
export class EchoBackend implements TokenBackend {
  readonly kind = 'tokens' as const;
  readonly id = 'echo';
  aborted = 0;
  constructor(private readonly delayMs = 0) {}
  async generate(): Promise<never> {
    throw new Error('stream only');
  }
  async *stream(request: TokenRequest): AsyncIterable<TokenChunk> {
    const prompt = decode(request.prompt);
    const user = [...prompt.matchAll(/<\|start\|>user<\|message\|>([\s\S]*?)<\|end\|>/g)].at(-1)?.[1] ?? '';
    const { encode } = await import('@harmonia/core');
    const tokens = encode(`<|channel|>final<|message|>echo: ${user}<|return|>`, { allowSpecial: true });
    for (const t of tokens) {
      if (request.signal?.aborted) {
        this.aborted++;
        yield { type: 'finish', finishReason: 'abort', usage: { promptTokens: 0, completionTokens: 0 } };
        return;
      }
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      yield { type: 'tokens', tokens: [t] };
    }
    yield {
      type: 'finish',
      finishReason: 'stop',
      usage: { promptTokens: request.prompt.length, completionTokens: tokens.length },
    };
  }
}

describe('concurrency and disconnects', () => {
  it('serves concurrent requests independently', async () => {
    const { client } = await serve(new EchoBackend(1));
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2
          ? client.responses.create({ model: 'm', input: `req ${i}` }).then((r) => r.output_text)
          : client.chat.completions
              .create({ model: 'm', messages: [{ role: 'user', content: `req ${i}` }] })
              .then((c) => c.choices[0]?.message.content),
      ),
    );
    expect(answers).toEqual(Array.from({ length: 20 }, (_, i) => `echo: req ${i}`));
  });

  it('a client disconnect aborts the model call', async () => {
    const backend = new EchoBackend(50);
    const { client } = await serve(backend);
    const ac = new AbortController();
    const stream = await client.responses.create(
      { model: 'm', input: 'a long answer please', stream: true },
      { signal: ac.signal },
    );
    for await (const ev of stream) {
      if (ev.type === 'response.output_text.delta') {
        ac.abort();
        break;
      }
    }
    await expect.poll(() => backend.aborted, { timeout: 5000 }).toBe(1);
  });
});
