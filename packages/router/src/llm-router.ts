import {
  type Conversation,
  type ModelSize,
  parseMessagesFromCompletionTokens,
  type ReasoningEffort,
  renderConversationForCompletion,
  STOP_TOKENS_FOR_ASSISTANT_ACTIONS,
  systemContent,
  type TokenBackend,
} from '@harmonia/core';

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

export interface LlmRouterBackendOptions {
  /** Output budget for the routing call (default 256 tokens). */
  maxTokens?: number;
  signal?: AbortSignal;
}

/**
 * An `LlmRouterFn` over a token backend (point it at gpt-oss-20b): renders system (low effort), developer
 * (the routing instructions) and user (the query) messages in Harmony, samples greedily, and returns the text of
 * the final channel (or of the last message when there is no final one).
 */
export function llmRouterFromBackend(
  backend: TokenBackend,
  options: LlmRouterBackendOptions = {},
): LlmRouterFn {
  return lowEffortCall(backend, options);
}

/**
 * A low-effort model call over a token backend: `(instructions, text) => the final channel's text`, rendered in
 * Harmony at `Reasoning: low` and sampled greedily. `createTriage({ router })` takes it as is.
 */
export function lowEffortCall(
  backend: TokenBackend,
  options: LlmRouterBackendOptions = {},
): (instructions: string, query: string) => Promise<string> {
  return async (instructions, query) => {
    const conversation: Conversation = {
      messages: [
        { role: 'system', content: [systemContent({ reasoning_effort: 'Low' })] },
        { role: 'developer', content: [{ type: 'developer_content', instructions }] },
        { role: 'user', content: [{ type: 'text', text: query }] },
      ],
    };
    const result = await backend.generate({
      prompt: renderConversationForCompletion(conversation, 'assistant'),
      stop: [...STOP_TOKENS_FOR_ASSISTANT_ACTIONS],
      maxTokens: options.maxTokens ?? 256,
      temperature: 0,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const messages = parseMessagesFromCompletionTokens(result.tokens, { role: 'assistant' });
    const answer = messages.findLast((m) => m.channel === 'final') ?? messages[messages.length - 1];
    return (answer?.content ?? []).map((c) => (c.type === 'text' ? c.text : '')).join('');
  };
}
