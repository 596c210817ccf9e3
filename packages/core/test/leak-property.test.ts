/**
 * Property test of the leak invariant over the whole loop: mutated gpt-oss completions (special tokens dropped,
 * duplicated, swapped or replaced, truncation, stray recipients, all special tokens stripped) run through `run` on
 * a ScriptedBackend. On every run: no reasoning text reaches `final_delta`, `preamble_delta`, the final text or a
 * displayed tool call; at most one answer stands; the final text carries no Harmony markup; and a run that fails
 * fails with a typed error. Seeded; a failing case is printed with its completion.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  Agent,
  AgentRunError,
  decode,
  defineFunction,
  encode,
  type RunEvent,
  type RunResult,
  runStream,
  ScriptedBackend,
  type ScriptStep,
  Tok,
} from '../src/index.js';
import { H } from './helpers.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 11;
const CASES = 10_000;
/** Marks reasoning: it must never be user-visible. */
const SECRET = 'Zq9secret';

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

/** Well-formed completions as gpt-oss writes them; reasoning carries the marker. */
function wellFormed(r: () => number): string {
  const think = `${SECRET} ${pick(r, ['we should check', 'User asks', 'Need weather'])} ${SECRET}.`;
  const call = `{"city":"${pick(r, ['Oslo', 'Rome'])}"}`;
  switch (Math.floor(r() * 7)) {
    case 0:
      return H.analysis(think) + H.final('It is sunny.');
    case 1:
      return H.analysis(think) + H.call('functions.get_weather', call);
    case 2:
      return H.analysis(think) + H.preamble('Checking.') + H.call('functions.get_weather', call);
    case 3:
      return H.analysis(think) + H.callAfterChannel('functions.get_weather', call, 'analysis');
    case 4:
      return H.analysis(think) + H.callAfterChannel('functions.get_weather', call, 'commentary');
    case 5:
      return H.final('Plain answer.');
    default:
      return `${H.analysis(think)}${H.analysis(think)}<|channel|>final<|message|>Two thoughts, one answer.<|return|>`;
  }
}

const SPECIALS = [
  Tok.start,
  Tok.end,
  Tok.message,
  Tok.channel,
  Tok.constrain,
  Tok.return,
  Tok.call,
  Tok.endoftext,
];
const STRAY = [
  ' to=analysis',
  ' to=final',
  ' to=commentary',
  ' to=',
  ' to=functions.get_weather',
  ' analysis',
  ' final',
];

/** One to three mutations of the completion's tokens; returns the step and what was done (for the report). */
function mutate(r: () => number, text: string): { step: ScriptStep; done: string[] } {
  let toks = encode(text, { allowSpecial: true });
  const done: string[] = [];
  let finishReason: 'stop' | 'length' = 'stop';
  const specialAt = () => {
    const at = toks.flatMap((t, i) => (t >= Tok.startoftext ? [i] : []));
    return at.length ? pick(r, at) : -1;
  };
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n; k++) {
    const kind = Math.floor(r() * 8);
    const i = specialAt();
    if (kind === 0 && i >= 0) {
      done.push(`drop ${decode([toks[i]!])}@${i}`);
      toks.splice(i, 1);
    } else if (kind === 1 && i >= 0) {
      done.push(`duplicate ${decode([toks[i]!])}@${i}`);
      toks.splice(i, 0, toks[i]!);
    } else if (kind === 2 && i >= 0 && i + 1 < toks.length) {
      done.push(`swap @${i}`);
      [toks[i], toks[i + 1]] = [toks[i + 1]!, toks[i]!];
    } else if (kind === 3 && i >= 0) {
      const s = pick(r, SPECIALS);
      done.push(`replace @${i} with ${decode([s])}`);
      toks[i] = s;
    } else if (kind === 4) {
      const at = Math.floor(r() * toks.length);
      finishReason = r() < 0.5 ? 'length' : 'stop';
      done.push(`truncate @${at} (${finishReason})`);
      toks = toks.slice(0, at);
    } else if (kind === 5 && i >= 0) {
      const s = pick(r, STRAY);
      done.push(`insert '${s}'@${i}`);
      toks.splice(i, 0, ...encode(s));
    } else if (kind === 6) {
      done.push('strip all special tokens');
      toks = toks.filter((t) => t < Tok.startoftext);
    } else {
      const at = Math.floor(r() * (toks.length + 1));
      const s = pick(r, SPECIALS);
      done.push(`insert ${decode([s])}@${at}`);
      toks.splice(at, 0, s);
    }
  }
  return { step: { text: decode(toks), finishReason }, done };
}

const weather = defineFunction({
  name: 'get_weather',
  description: 'Weather.',
  parameters: z.object({ city: z.string() }),
  execute: ({ city }) => ({ city, sky: 'sunny' }),
});

/** One agent for every case (its prompt cache too); each case plays its own ScriptedBackend. */
let script = new ScriptedBackend([]);
const agent = new Agent({
  backend: {
    kind: 'tokens',
    id: 'script',
    generate: (r) => script.generate(r),
    stream: (r) => script.stream(r),
  },
  currentDate: '2026-01-15',
  maxRetries: 2,
  tools: [weather],
});

async function runCase(
  step: ScriptStep,
): Promise<{ events: RunEvent[]; result?: RunResult; error?: unknown }> {
  // After the mutated completion the model behaves: enough clean answers for any retry.
  script = new ScriptedBackend([step, ...Array.from({ length: 10 }, () => H.final('Clean answer.'))]);
  const events: RunEvent[] = [];
  try {
    for await (const ev of runStream(agent, 'Weather?')) events.push(ev);
  } catch (error) {
    return { events, error };
  }
  const done = events.at(-1);
  return { events, ...(done?.type === 'done' ? { result: done.result } : {}) };
}

/** The invariant; returns what is broken, or `undefined`. */
function check(events: RunEvent[], result: RunResult | undefined, error: unknown): string | undefined {
  if (error !== undefined && !(error instanceof AgentRunError)) return `untyped failure: ${String(error)}`;
  const shown: string[] = [];
  for (const e of events) {
    if (e.type === 'final_delta' || e.type === 'preamble_delta') shown.push(e.delta);
    if (e.type === 'tool_call_started' && !e.internal) shown.push(`${e.recipient}(${e.arguments})`);
    if (e.type === 'tool_call_finished' && !e.internal) shown.push(`${e.recipient} ${e.error ?? ''}`);
  }
  if (result) shown.push(result.finalText);
  const visible = shown.join('\n');
  if (visible.includes(SECRET)) return 'reasoning reached a user-visible place';
  // Answers: final text per model call; a withdrawn one no longer stands.
  let call = -1;
  const answered = new Map<number, string>();
  for (const e of events) {
    if (e.type === 'turn_started') call++;
    else if (e.type === 'final_delta') answered.set(call, (answered.get(call) ?? '') + e.delta);
    else if (e.type === 'answer_withdrawn') answered.delete(call);
  }
  // The output gate may release the rest of an answer after the loop ends (same call).
  if (answered.size > 1) return `${answered.size} answers stand`;
  if (result?.status === 'completed') {
    if (/<\|[a-z_0-9]+\|>/.test(result.finalText)) return 'markup in the final text';
    const text = [...answered.values()][0] ?? '';
    if (text !== result.finalText) return `streamed answer ${JSON.stringify(text)} != final text`;
  }
  return undefined;
}

describe('leak invariant over the whole loop (property, seeded)', () => {
  it(`holds for ${CASES} mutated completions (seed ${SEED})`, async () => {
    const r = mulberry32(SEED);
    const stats = { completed: 0, failed: 0, repaired: 0 };
    const cpu = process.cpuUsage();
    for (let n = 0; n < CASES; n++) {
      const original = wellFormed(r);
      const { step, done } = mutate(r, original);
      const { events, result, error } = await runCase(step);
      const broken = check(events, result, error);
      if (broken) {
        throw new Error(
          `seed ${SEED} case ${n}: ${broken}\n  mutations: ${done.join(', ')}\n  completion: ${JSON.stringify(
            typeof step === 'object' && 'text' in step ? step.text : step,
          )}\n  original: ${JSON.stringify(original)}\n  final text: ${JSON.stringify(result?.finalText)}`,
        );
      }
      if (result?.status === 'completed') stats.completed++;
      if (error) stats.failed++;
      if (events.some((e) => e.type === 'harmony_repair')) stats.repaired++;
    }
    const { user, system } = process.cpuUsage(cpu);
    console.log(
      `${CASES} runs: ${JSON.stringify(stats)}, ${((user + system) / 1000 / CASES).toFixed(3)} ms CPU per run`,
    );
    // The mutations must reach the repairs, or the test proves little.
    expect(stats.repaired).toBeGreaterThan(CASES / 2);
    expect(stats.completed + stats.failed).toBe(CASES);
  }, 120_000);
});
