import type { BackendChooser, ChooseContext, MessageBackend, ModelSize, TokenBackend } from '@harmonia/core';
import {
  LLM_ROUTER_INSTRUCTIONS,
  type LlmRouteAnswer,
  type LlmRouterFn,
  parseLlmRouteAnswer,
} from './llm-router.js';
import type { RouterModel } from './model.js';
import { type RouteResult, Router, type RouterPolicy } from './policy.js';

export interface RouterChooserOptions {
  /** The backend serving each model size. */
  backends: Record<ModelSize, TokenBackend | MessageBackend>;
  policy?: RouterPolicy;
  /** Defaults to the classifier with the shipped weights. */
  model?: RouterModel;
  /** Optional LLM-as-router, consulted only when p(120b) falls in `policy.uncertainBand`. */
  llm?: LlmRouterFn;
}

export interface RouterChooser extends BackendChooser {
  readonly router: Router;
  choose(ctx: ChooseContext): Promise<{ decision: RouteResult; backend: TokenBackend | MessageBackend }>;
}

/** Raised when the backends given do not cover both model sizes. */
export class RouterChooserError extends Error {
  override name = 'RouterChooserError';
}

/**
 * A `BackendChooser` for `Agent`: routes each conversation once (sticky per `conversationId`), escalates when the
 * runtime reports `trouble`, and, if given an LLM router, asks it about prompts the classifier is unsure of.
 */
export function createRouterChooser(options: RouterChooserOptions): RouterChooser {
  for (const size of ['20b', '120b'] as const)
    if (!options.backends?.[size])
      throw new RouterChooserError(
        `createRouterChooser: backends['${size}'] is missing; give one backend per model size`,
      );
  const router = new Router({ model: options.model, policy: options.policy });
  const band = options.policy?.uncertainBand ?? [0.35, 0.65];

  async function decide(ctx: ChooseContext): Promise<RouteResult> {
    const known = options.policy?.sticky !== false && router.decisionFor(ctx.conversationId) !== undefined;
    if (!options.llm || ctx.trouble || known) return router.route(ctx.input, ctx);
    const fresh = router.classify(ctx.input);
    const p = fresh.prediction.pLarge;
    if (p < band[0] || p > band[1] || options.policy?.model) return router.route(ctx.input, ctx);
    let answer: LlmRouteAnswer | undefined;
    let failure = '';
    try {
      const reply = await options.llm(LLM_ROUTER_INSTRUCTIONS, ctx.input);
      answer = typeof reply === 'string' ? parseLlmRouteAnswer(reply) : reply;
      if (!answer) failure = 'LLM router reply had no model/effort';
    } catch (err) {
      failure = `LLM router failed: ${(err as Error).message}`;
    }
    const decision: RouteResult = answer
      ? {
          ...fresh,
          model: answer.model ?? fresh.model,
          effort: answer.effort ?? fresh.effort,
          reason: `classifier unsure (p(120b)=${p.toFixed(2)} in [${band[0]}, ${band[1]}]); LLM router chose ${answer.model ?? fresh.model}-${answer.effort ?? fresh.effort}`,
        }
      : { ...fresh, reason: `${fresh.reason}; ${failure}, kept the classifier's choice` };
    decision.arm = `${decision.model}-${decision.effort}`;
    return router.adopt(ctx.conversationId, decision);
  }

  return {
    router,
    async choose(ctx) {
      const decision = await decide(ctx);
      return { decision, backend: options.backends[decision.model] };
    },
  };
}
