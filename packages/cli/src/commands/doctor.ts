/**
 * `harmonia doctor [--backend SPEC]`: checks a backend the way the agent uses it. It resolves the spec exactly as
 * `run`/`chat` do (same probing, same profile, same key) and prints what it picked; then it drives real agent runs —
 * Harmony rendered, sent, streamed and parsed by the same backends — through every protocol the server has: token
 * ids (vLLM /v1/completions, llama.cpp /completion, Ollama raw), Chat Completions with the server's profile, and
 * the Responses API. Each run asks for a tool call and an answer, so reasoning passback between the two is
 * exercised. Exit code 0 when the backend the agent will use works, 1 otherwise.
 */
import {
  Agent,
  type Backend,
  type BackendFlags,
  BackendSpecError,
  ChatCompletionsBackend,
  CompletionsBackend,
  defineFunction,
  OllamaChatBackend,
  OllamaGenerateBackend,
  PROFILES,
  pickModel,
  type Resolution,
  ResponsesBackend,
  type RunResult,
  runStream,
  type ServerIdentity,
} from '@harmonia/core';
import { z } from 'zod';
import { BACKEND_FLAGS, backendFlagsHelp, backendFlagsOf, specOf } from '../backend-flags.js';
import { type CliIO, type Command, parseFlags, UsageError } from '../command.js';

const HELP = `Usage: harmonia doctor [--backend SPEC] [options]

Checks a model backend the way the agent uses it: prints the server and profile it picks, then runs a small
tool-calling agent through each protocol the server offers (token ids, Chat Completions, Responses API) and says
what works and what to fix.

${backendFlagsHelp()}
  --timeout SECONDS     per model call (default 120)
  --only PICKED         check only the protocol the agent would use

Exit codes: 0 the backend the agent uses works, 1 it does not, 2 bad flags.
`;

interface Report {
  ok(msg: string): void;
  warn(msg: string): void;
  fail(msg: string, fix?: string): void;
  info(msg: string): void;
}

function reporter(io: CliIO): Report {
  return {
    ok: (m) => io.stdout.write(`✓ ${m}\n`),
    warn: (m) => io.stdout.write(`! ${m}\n`),
    info: (m) => io.stdout.write(`  ${m}\n`),
    fail: (m, fix) => io.stdout.write(`✗ ${m}\n${fix ? `    fix: ${fix}\n` : ''}`),
  };
}

const QUESTION =
  'What is the weather in Paris right now? Use the get_weather tool, then answer in one sentence.';

/** What one agent run through one backend showed. */
export interface Check {
  label: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/** Runs the weather agent on `backend` and judges the run. */
export async function checkBackend(label: string, backend: Backend, timeoutMs: number): Promise<Check> {
  const cities: string[] = [];
  const agent = new Agent({
    instructions: 'You answer weather questions. Always call get_weather before answering.',
    tools: [
      defineFunction({
        name: 'get_weather',
        description: 'Current weather for a city.',
        parameters: z.object({ city: z.string() }),
        execute: ({ city }) => {
          cities.push(city);
          return { city, sky: 'sunny', celsius: 21 };
        },
      }),
    ],
    backend,
    effort: 'low',
    maxModelCalls: 4,
    sampling: { maxTokens: 2048, temperature: 0 },
  });
  const signal = AbortSignal.timeout(timeoutMs * 3);
  let result: RunResult | undefined;
  let streamed = '';
  const t0 = Date.now();
  try {
    for await (const ev of runStream(agent, QUESTION, { signal })) {
      if (ev.type === 'final_delta') streamed += ev.delta;
      if (ev.type === 'done') result = ev.result;
    }
  } catch (err) {
    const e = err as Error;
    return { label, ok: false, detail: `${e.name}: ${e.message.split('\n')[0]!.slice(0, 300)}` };
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (!result) return { label, ok: false, detail: 'the run ended without a result' };
  if (result.status !== 'completed')
    return {
      label,
      ok: false,
      detail: `the run ended ${result.status}${result.stop ? ` (${result.stop.reason})` : ''}`,
    };
  if (/<\|(channel|message|start|end)\|>/.test(result.finalText))
    return {
      label,
      ok: false,
      detail: 'Harmony markup leaked into the answer',
      fix: 'the server returns raw Harmony as content: enable its reasoning parser (vLLM --reasoning-parser openai_gptoss)',
    };
  const notes: string[] = [`answered in ${secs} s`];
  notes.push(cities.length ? `tool called (${cities.join(', ')})` : 'no tool call');
  notes.push(result.reasoning ? 'reasoning returned' : 'no reasoning returned');
  if (streamed && streamed !== result.finalText) notes.push('streamed text differs from the answer');
  const ok = result.finalText.trim().length > 0;
  return {
    label,
    ok,
    detail: ok ? notes.join(', ') : `empty answer (${notes.join(', ')})`,
    ...(cities.length ? {} : { fix: toolFix(label) }),
  };
}

function toolFix(label: string): string {
  if (/vLLM|vllm/.test(label))
    return 'vLLM: --tool-call-parser openai --enable-auto-tool-choice (or rerun: models vary)';
  if (/llama/.test(label))
    return 'llama.cpp: start llama-server with --jinja for tool calls (or rerun: models vary)';
  return 'rerun doctor: small models do not always call the tool';
}

/** Every protocol worth checking on an identified server, the picked one first. */
function alternatives(id: ServerIdentity, picked: Backend, flags: BackendFlags): [string, Backend][] {
  const out: [string, Backend][] = [];
  // The model the agent's own backend was given, so every protocol is checked with the same one.
  const model = pickModel(id, flags);
  const apiKey = flags.apiKey;
  const v1 = `${id.root}/v1`;
  const key = apiKey ? { apiKey } : {};
  const add = (label: string, b: Backend) => {
    if (b.id !== picked.id) out.push([label, b]);
  };
  switch (id.kind) {
    case 'llamacpp':
      add(
        'Chat Completions (profile llamacpp)',
        new ChatCompletionsBackend({ baseURL: v1, model, profile: PROFILES.llamacpp, ...key }),
      );
      add('Responses API', new ResponsesBackend({ baseURL: v1, model, ...key }));
      break;
    case 'vllm':
      add(
        'Chat Completions (profile vllm)',
        new ChatCompletionsBackend({ baseURL: v1, model, profile: PROFILES.vllm, ...key }),
      );
      add('Responses API', new ResponsesBackend({ baseURL: v1, model, ...key }));
      break;
    case 'ollama':
      add('Ollama /api/chat', new OllamaChatBackend({ baseURL: id.root, model, ...key }));
      add(
        'Chat Completions /v1 (profile ollama)',
        new ChatCompletionsBackend({ baseURL: v1, model, profile: PROFILES.ollama, ...key }),
      );
      break;
    case 'lmstudio':
    case 'harmonia':
      add('Responses API', new ResponsesBackend({ baseURL: v1, model, ...key }));
      break;
    default:
      add('Chat Completions (profile openai)', new ChatCompletionsBackend({ baseURL: v1, model, ...key }));
      add('Responses API', new ResponsesBackend({ baseURL: v1, model, ...key }));
  }
  return out;
}

function pickedLabel(b: Backend): string {
  if (b instanceof CompletionsBackend)
    return b.id.startsWith('llamacpp:') ? 'token ids on /completion' : 'token ids on /v1/completions';
  if (b instanceof OllamaGenerateBackend) return 'raw Harmony on /api/generate';
  if (b instanceof OllamaChatBackend) return 'Ollama /api/chat';
  if (b instanceof ChatCompletionsBackend) return `Chat Completions (profile ${b.profile.name})`;
  if (b instanceof ResponsesBackend) return 'Responses API';
  return b.id;
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Check a model backend the way the agent uses it, and say what to fix.',
  async run(args: string[], io: CliIO): Promise<number> {
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout.write(HELP);
      return 0;
    }
    const v = parseFlags(args, {
      ...BACKEND_FLAGS,
      timeout: { type: 'string', default: '120' },
      only: { type: 'boolean', default: false },
    }).values;
    const timeoutS = Number(v.timeout);
    if (!Number.isFinite(timeoutS) || timeoutS <= 0)
      throw new UsageError('--timeout must be a positive number of seconds');
    const spec = specOf(v);
    const flags = {
      ...backendFlagsOf(v, spec),
      probeTimeoutMs: Math.min(5000, timeoutS * 1000),
      retry: { retries: 1, timeoutMs: timeoutS * 1000 },
    };
    const r = reporter(io);
    let res: Resolution;
    try {
      const { resolveSpec } = await import('@harmonia/core');
      res = await resolveSpec(spec, flags);
    } catch (err) {
      if (err instanceof BackendSpecError) throw err;
      r.fail(
        (err as Error).message.split('\n')[0]!,
        'start the server, or check the URL, port and --api-key',
      );
      io.stdout.write('\nVerdict: not usable.\n');
      return 1;
    }
    if (res.identity) {
      const id = res.identity;
      r.ok(`found ${id.kind}${id.version ? ` ${id.version}` : ''} at ${id.root} (${id.evidence})`);
      r.info(`models: ${id.models.length ? id.models.join(', ') : '(none listed)'}`);
      if (id.models.length && !id.models.some((m) => /gpt-oss/i.test(m)))
        r.warn('no model name mentions gpt-oss; Harmonia speaks Harmony to it anyway');
    }
    r.ok(`the agent will use: ${res.how}`);
    if (res.backend instanceof ChatCompletionsBackend) r.info(`profile: ${res.backend.profile.name}`);
    r.info(`key: ${flags.apiKey ? 'sent (given for this backend)' : 'none'}`);

    const picked = await checkBackend(
      `${pickedLabel(res.backend)} [used by the agent]`,
      res.backend,
      timeoutS * 1000,
    );
    show(r, picked);
    if (res.identity && !v.only) {
      for (const [label, b] of alternatives(res.identity, res.backend, flags))
        show(r, await checkBackend(label, b, timeoutS * 1000));
    }
    io.stdout.write(
      picked.ok
        ? `\nVerdict: ready — ${pickedLabel(res.backend)}.\n`
        : '\nVerdict: the protocol the agent uses does not work; see the fixes above.\n',
    );
    return picked.ok ? 0 : 1;
  },
};

function show(r: Report, c: Check): void {
  if (c.ok && !c.fix) r.ok(`${c.label}: ${c.detail}`);
  else if (c.ok) r.warn(`${c.label}: ${c.detail} — ${c.fix}`);
  else r.fail(`${c.label}: ${c.detail}`, c.fix);
}
