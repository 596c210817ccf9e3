import { z } from 'zod';
import {
  Agent,
  type AgentOptions,
  defineFunction,
  harmonyScript,
  type RunEvent,
  type RunOptions,
  type RunResult,
  runStream,
  ScriptedBackend,
  type ScriptStep,
} from '../src/index.js';

/** Harmony completion pieces, as the model writes them (the prompt already ends in `<|start|>assistant`). */
export const H = harmonyScript;

export interface WeatherCalls {
  cities: string[];
}

export function weatherTool(calls: WeatherCalls, delay?: () => Promise<void>) {
  return defineFunction({
    name: 'get_weather',
    description: 'Current weather for a city.',
    parameters: z.object({ city: z.string().describe('City name') }),
    execute: async ({ city }) => {
      calls.cities.push(city);
      await delay?.();
      return { city, sky: city === 'Oslo' ? 'snow' : 'sunny' };
    },
  });
}

export function scriptedAgent(steps: ScriptStep[], extra: Partial<AgentOptions> = {}) {
  const backend = new ScriptedBackend(steps);
  const calls: WeatherCalls = { cities: [] };
  const agent = new Agent({
    instructions: 'Answer weather questions.',
    tools: [weatherTool(calls)],
    backend,
    currentDate: '2026-01-15',
    ...extra,
  });
  return { agent, backend, calls };
}

export async function collect(
  agent: Agent,
  input: string,
  options?: RunOptions,
): Promise<{ events: RunEvent[]; result: RunResult }> {
  const events: RunEvent[] = [];
  let result: RunResult | undefined;
  for await (const ev of runStream(agent, input, options)) {
    events.push(ev);
    if (ev.type === 'done') result = ev.result;
  }
  return { events, result: result! };
}

export const deltas = (events: RunEvent[], type: 'final_delta' | 'preamble_delta' | 'reasoning_delta') =>
  events
    .filter((e): e is Extract<RunEvent, { type: typeof type }> => e.type === type)
    .map((e) => e.delta)
    .join('');

/** The tool message the runtime sent back, as rendered in the prompt. */
export const toolReply = (recipient: string, channel: string, text: string) =>
  `<|start|>${recipient} to=assistant<|channel|>${channel}<|message|>${text}<|end|>`;
