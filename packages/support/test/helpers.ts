import {
  harmonyScript,
  ScriptedBackend,
  type ScriptStep,
  ToolCallError,
  type ToolNamespace,
} from '@harmonia/core';
import { createSupportBot, type SupportBotOptions } from '../src/index.js';

/** Harmony completion pieces as the model writes them (the prompt ends in `<|start|>assistant`). */
export const H = harmonyScript;

export const POLICY = {
  product: 'Harmonia',
  allowed: ['installing and configuring Harmonia', 'model backends', 'the bots and the FAQ agent'],
};

/** A stand-in for the `faq` namespace: fixed entries, so these tests do not depend on rag-faq. */
export function fakeFaq(entries: Record<string, string>): ToolNamespace & { calls: string[] } {
  const calls: string[] = [];
  return {
    name: 'faq',
    placement: 'developer',
    calls,
    config: () => ({
      name: 'faq',
      description: 'Search the docs.',
      tools: [
        {
          name: 'search',
          description: 'Search',
          parameters: { type: 'object', properties: { query: { type: 'string' } } },
        },
      ],
    }),
    async call(fn, args) {
      calls.push(`${fn} ${args}`);
      if (fn !== 'search') throw new ToolCallError(`no faq.${fn}`);
      return {
        text: Object.entries(entries)
          .map(([id, t]) => `[faq:${id}] ${t}`)
          .join('\n\n'),
      };
    },
  };
}

export function scriptedBot(steps: ScriptStep[], extra: Partial<SupportBotOptions> = {}) {
  const backend = new ScriptedBackend(steps);
  const bot = createSupportBot({ policy: POLICY, backend, currentDate: '2026-01-15', ...extra });
  return { bot, backend };
}
