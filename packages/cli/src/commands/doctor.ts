/**
 * `harmonia doctor --backend URL|ollama:MODEL`: probes a model server the way Harmonia will use it and prints
 * what to fix: reachable, which models, token ids on /v1/completions, whether reasoning and tool calls come back
 * in the fields we read (vLLM's parser flags), and whether reasoning effort changes the output length
 * (Ollama's `think` levels). Exit code 0 when nothing needs fixing, 1 otherwise.
 */
import {
  listModels,
  ollamaHost,
  renderConversationForCompletion,
  STOP_TOKENS_FOR_ASSISTANT_ACTIONS,
  systemContent,
} from '@harmonia/core';
import { type CliIO, type Command, type FlagOptions, parseFlags, UsageError } from '../command.js';

const flags = <const T extends FlagOptions>(args: string[], options: T) => parseFlags(args, options).values;

const HELP = `Usage: harmonia doctor --backend URL|ollama:MODEL [--model NAME] [--timeout SECONDS]

Probes a gpt-oss server and prints what to fix.

  --backend SPEC     an OpenAI-compatible server URL (vLLM, llama.cpp, LM Studio) or ollama:MODEL
  --model NAME       model to probe on a URL (default: the first listed)
  --timeout SECONDS  per request (default 120)
`;

interface Report {
  ok(msg: string): void;
  warn(msg: string): void;
  fail(msg: string, fix: string): void;
  failures: number;
}

function reporter(io: CliIO): Report {
  const r: Report = {
    failures: 0,
    ok: (m) => io.stdout.write(`✓ ${m}\n`),
    warn: (m) => io.stdout.write(`! ${m}\n`),
    fail: (m, fix) => {
      r.failures++;
      io.stdout.write(`✗ ${m}\n    fix: ${fix}\n`);
    },
  };
  return r;
}

interface Posted {
  status: number;
  json: Record<string, unknown>;
}

async function post(url: string, body: unknown, timeoutMs: number): Promise<Posted> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json };
}

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city.',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const TOOL_PROMPT = 'What is the weather in Paris right now? Use the get_weather tool.';
const EFFORT_PROMPT = 'How many times does the letter r occur in "strawberry"? Answer with one number.';

interface ChatMessage {
  content?: string | null;
  reasoning?: string | null;
  reasoning_content?: string | null;
  thinking?: string | null;
  tool_calls?: unknown[] | null;
}

async function doctorUrl(
  base: string,
  model: string | undefined,
  timeoutMs: number,
  r: Report,
): Promise<void> {
  const root = base.replace(/\/+$/, '').replace(/\/v1$/, '');
  let models: string[];
  try {
    models = await listModels(root);
  } catch (err) {
    r.fail(
      `cannot reach ${root}/v1/models (${(err as Error).message})`,
      'start the server, or check the URL and port',
    );
    return;
  }
  r.ok(`reachable: ${root} serves ${models.length ? models.join(', ') : 'no models'}`);
  const m = model ?? models[0];
  if (!m) {
    r.fail('the server lists no models', 'load a gpt-oss model, or pass --model');
    return;
  }
  if (!/gpt-oss/i.test(m))
    r.warn(`model '${m}' does not look like gpt-oss; Harmonia speaks Harmony to it anyway`);

  // Token level: what `--backend URL` uses.
  const prompt = renderConversationForCompletion(
    {
      messages: [
        { role: 'system', content: [systemContent({ reasoning_effort: 'Low' })] },
        { role: 'user', content: [{ type: 'text', text: 'Say hi.' }] },
      ],
    },
    'assistant',
  );
  const comp = await post(
    `${root}/v1/completions`,
    {
      model: m,
      prompt,
      max_tokens: 256,
      temperature: 0,
      stop_token_ids: STOP_TOKENS_FOR_ASSISTANT_ACTIONS,
      skip_special_tokens: false,
      return_token_ids: true,
      return_tokens: true,
    },
    timeoutMs,
  ).catch((err: Error): Posted => ({ status: 0, json: { error: err.message } }));
  const choice = (
    comp.json.choices as { text?: string; token_ids?: unknown; tokens?: unknown }[] | undefined
  )?.[0];
  if (comp.status !== 200 || !choice) {
    r.fail(
      `/v1/completions with token ids failed (HTTP ${comp.status})`,
      'use --backend chat:URL (the server applies Harmony), or a server that takes token-id prompts (vLLM, llama.cpp)',
    );
  } else if (Array.isArray(choice.token_ids) || Array.isArray(choice.tokens)) {
    r.ok('token level: /v1/completions takes token ids and returns token ids');
  } else if (choice.text?.includes('<|channel|>') || choice.text?.includes('<|message|>')) {
    r.warn(
      'token level: only text comes back (with special tokens); Harmonia re-encodes it. vLLM ≥ 0.10.2 returns ids',
    );
  } else {
    r.fail(
      'token level: the answer has no Harmony markup (special tokens are stripped)',
      'vLLM: it needs skip_special_tokens=false (sent by Harmonia; upgrade vLLM); otherwise use --backend chat:URL',
    );
  }

  // Message level: reasoning and tool-call fields.
  const chat = await post(
    `${root}/v1/chat/completions`,
    {
      model: m,
      messages: [{ role: 'user', content: TOOL_PROMPT }],
      tools: [WEATHER_TOOL],
      reasoning_effort: 'low',
    },
    timeoutMs,
  ).catch((err: Error): Posted => ({ status: 0, json: { error: err.message } }));
  const msg = (chat.json.choices as { message?: ChatMessage }[] | undefined)?.[0]?.message;
  if (chat.status !== 200 || !msg) {
    r.fail(
      `/v1/chat/completions failed (HTTP ${chat.status}: ${JSON.stringify(chat.json).slice(0, 200)})`,
      'check the server log',
    );
    return;
  }
  const content = msg.content ?? '';
  if (content.includes('<|channel|>') || /^\s*analysis/.test(content)) {
    r.fail(
      'raw Harmony (reasoning) leaks into message.content',
      'vLLM: start with --reasoning-parser openai_gptoss; LM Studio: enable separate reasoning_content',
    );
  } else if (msg.reasoning) r.ok('reasoning comes back in message.reasoning (profile: vllm/openai)');
  else if (msg.reasoning_content)
    r.ok('reasoning comes back in message.reasoning_content (profile: lmstudio)');
  else
    r.warn('no reasoning field in the answer; multi-turn tool use works better when reasoning is returned');
  if (msg.tool_calls?.length) r.ok('tool calls come back in message.tool_calls');
  else if (/get_weather|"city"/.test(content)) {
    r.fail(
      'the tool call came back as text in message.content, tool_calls is empty',
      'vLLM: start with --tool-call-parser openai --enable-auto-tool-choice',
    );
  } else r.warn('the model answered without calling the tool; rerun doctor to confirm tool calling');

  // Reasoning effort.
  const lengths: Record<string, number> = {};
  for (const effort of ['low', 'high']) {
    const res = await post(
      `${root}/v1/chat/completions`,
      {
        model: m,
        messages: [{ role: 'user', content: EFFORT_PROMPT }],
        reasoning_effort: effort,
        temperature: 0,
      },
      timeoutMs,
    ).catch(() => ({ status: 0, json: {} as Record<string, unknown> }));
    const cm = (res.json.choices as { message?: ChatMessage }[] | undefined)?.[0]?.message;
    const usage = res.json.usage as { completion_tokens?: number } | undefined;
    lengths[effort] = usage?.completion_tokens ?? (cm?.reasoning ?? cm?.reasoning_content ?? '').length;
  }
  if ((lengths.high ?? 0) > (lengths.low ?? 0)) {
    r.ok(`reasoning effort is honoured (low ${lengths.low}, high ${lengths.high} completion tokens)`);
  } else {
    r.fail(
      `reasoning effort seems ignored (low ${lengths.low}, high ${lengths.high} completion tokens)`,
      'send effort in the form the server reads (reasoning_effort); with the token-level backend Harmonia sets it in the system message',
    );
  }
}

async function doctorOllama(model: string, timeoutMs: number, r: Report): Promise<void> {
  const host = ollamaHost();
  let names: string[];
  try {
    const res = await fetch(`${host}/api/tags`, { signal: AbortSignal.timeout(timeoutMs) });
    names = (((await res.json()) as { models?: { name: string }[] }).models ?? []).map((x) => x.name);
  } catch (err) {
    r.fail(
      `cannot reach Ollama at ${host} (${(err as Error).message})`,
      'run `ollama serve`, or set OLLAMA_HOST',
    );
    return;
  }
  r.ok(`reachable: Ollama at ${host} has ${names.length ? names.join(', ') : 'no models'}`);
  if (!names.includes(model) && !names.includes(`${model}:latest`)) {
    r.fail(`model '${model}' is not pulled`, `ollama pull ${model}`);
    return;
  }
  const show = await post(`${host}/api/show`, { model }, timeoutMs);
  const caps = (show.json.capabilities as string[] | undefined) ?? [];
  if (caps.includes('tools')) r.ok('model supports tools');
  else r.warn(`Ollama does not list 'tools' for ${model} (capabilities: ${caps.join(', ') || 'none'})`);
  if (!caps.includes('thinking'))
    r.warn(`Ollama does not list 'thinking' for ${model}; think levels may be ignored`);

  const lengths: Record<string, number> = {};
  for (const think of ['low', 'high']) {
    const res = await post(
      `${host}/api/chat`,
      {
        model,
        stream: false,
        think,
        messages: [{ role: 'user', content: EFFORT_PROMPT }],
        options: { temperature: 0 },
      },
      timeoutMs,
    );
    const msg = res.json.message as ChatMessage | undefined;
    lengths[think] = (res.json.eval_count as number | undefined) ?? (msg?.thinking ?? '').length;
    if (think === 'low' && !msg?.thinking) {
      r.warn(
        "no message.thinking with think:'low'; gpt-oss needs think as 'low'|'medium'|'high' (booleans are ignored)",
      );
    }
  }
  if ((lengths.high ?? 0) > (lengths.low ?? 0)) {
    r.ok(`think levels are honoured (low ${lengths.low}, high ${lengths.high} tokens)`);
  } else {
    r.fail(
      `think levels seem ignored (low ${lengths.low}, high ${lengths.high} tokens)`,
      'update Ollama and re-pull the model (ollama#12589); Harmonia also sets effort in the raw Harmony prompt',
    );
  }
  const tool = await post(
    `${host}/api/chat`,
    {
      model,
      stream: false,
      think: 'low',
      messages: [{ role: 'user', content: TOOL_PROMPT }],
      tools: [WEATHER_TOOL],
    },
    timeoutMs,
  );
  const tmsg = tool.json.message as ChatMessage | undefined;
  if (tmsg?.tool_calls?.length) r.ok('tool calls come back in message.tool_calls');
  else r.warn('the model answered without calling the tool; rerun doctor to confirm tool calling');

  const raw = await post(
    `${host}/api/generate`,
    {
      model,
      raw: true,
      stream: false,
      prompt: `<|start|>user<|message|>Say hi.<|end|><|start|>assistant`,
      options: { num_predict: 128, stop: ['<|return|>', '<|call|>'] },
    },
    timeoutMs,
  );
  const text = String(raw.json.response ?? '');
  if (text.includes('<|channel|>') || text.includes('<|message|>'))
    r.ok('raw mode returns Harmony markup (ollama:MODEL backend works)');
  else
    r.warn(
      `raw mode returned no Harmony markup (${JSON.stringify(text.slice(0, 80))}); prefer chat:${host}/v1`,
    );
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Probe a model server and print what to fix.',
  async run(args: string[], io: CliIO): Promise<number> {
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout.write(HELP);
      return 0;
    }
    const v = flags(args, {
      backend: { type: 'string' },
      model: { type: 'string' },
      timeout: { type: 'string', default: '120' },
    });
    const timeoutMs = Number(v.timeout) * 1000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
      throw new UsageError('--timeout must be a positive number of seconds');
    const spec = v.backend;
    if (!spec) throw new UsageError('--backend is required (URL or ollama:MODEL)');
    const r = reporter(io);
    const ollama = /^ollama(-chat)?:(.+)$/.exec(spec);
    if (ollama) await doctorOllama(ollama[2]!, timeoutMs, r);
    else if (/^(chat:|responses:)?https?:\/\//.test(spec))
      await doctorUrl(spec.replace(/^(chat|responses):/, ''), v.model, timeoutMs, r);
    else throw new UsageError(`doctor probes servers: --backend URL or ollama:MODEL, got '${spec}'`);
    io.stdout.write(r.failures ? `\n${r.failures} problem(s) to fix.\n` : '\nAll checks passed.\n');
    return r.failures ? 1 : 0;
  },
};
