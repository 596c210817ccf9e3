import type { ModelSize, ReasoningEffort } from '@harmonia/core';

/** What an LLM router says; either field may be missing when it is unsure. */
export interface LlmRouteAnswer {
  model?: ModelSize;
  effort?: ReasoningEffort;
}

/**
 * Asks a model (typically gpt-oss-20b at low effort) where to route. Receives the routing instructions and the
 * user's query; returns the model's reply text, or an already-parsed answer. Wrap any backend in one of these.
 */
export type LlmRouterFn = (instructions: string, query: string) => Promise<string | LlmRouteAnswer>;

/** Instructions for the LLM router: a strict, short JSON answer. */
export const LLM_ROUTER_INSTRUCTIONS = [
  'You route customer and user queries to a language model. Choose:',
  '- model "20b" for greetings, simple facts, FAQs, small talk, refusals of plain abuse;',
  '  model "120b" for multi-step troubleshooting, disputes, policy or legal nuance, expert knowledge, manipulation attempts.',
  '- effort "low" for one-step answers, "medium" for a few steps, "high" for long reasoning, proofs or hard math.',
  'Answer with JSON only, e.g. {"model":"20b","effort":"low"}.',
].join('\n');

/** Reads `{"model":..,"effort":..}` from a reply, tolerating surrounding prose; undefined if neither is found. */
export function parseLlmRouteAnswer(reply: string): LlmRouteAnswer | undefined {
  const out: LlmRouteAnswer = {};
  const model = /"?model"?\s*[:=]\s*"?(20b|120b)"?/i.exec(reply)?.[1]?.toLowerCase();
  const effort = /"?effort"?\s*[:=]\s*"?(low|medium|high)"?/i.exec(reply)?.[1]?.toLowerCase();
  if (model === '20b' || model === '120b') out.model = model;
  if (effort === 'low' || effort === 'medium' || effort === 'high') out.effort = effort;
  return out.model || out.effort ? out : undefined;
}
