import type {
  BackendChooser,
  ChooseContext,
  ConversationStore,
  MessageBackend,
  ModelSize,
  ReasoningEffort,
  TokenBackend,
} from '@harmonia/core';
import { ARMS, type ArmId, splitArm } from './cost.js';
import {
  LLM_ROUTER_INSTRUCTIONS,
  type LlmRouteAnswer,
  type LlmRouterFn,
  parseLlmRouteAnswer,
} from './llm-router.js';
import type { RouterModel } from './model.js';
import { type RouteResult, Router, type RouterPolicy } from './policy.js';

/** Backends by model size (`20b`, `120b`) and/or by arm (`20b-low` … `120b-high`). */
export type ArmBackends = Partial<Record<ModelSize | ArmId, TokenBackend | MessageBackend>>;

export interface RouterChooserOptions {
  /**
   * The backend serving each model size, or each named arm. A decision for an arm without an entry of its own
   * goes to its model's entry, else to the nearest effort of the same model. With only one model covered, the
   * model is pinned and only the effort is routed.
   */
  backends: ArmBackends;
  policy?: RouterPolicy;
  /** Defaults to the classifier with the shipped weights. */
  model?: RouterModel;
  /** Optional LLM-as-router, consulted only when p(120b) falls in `policy.uncertainBand`. */
  llm?: LlmRouterFn;
  /**
   * Where decisions are recorded (`routing:<conversationId>`, one entry per new or escalated decision), and
   * where a conversation's sticky decision is found again after a restart or on another replica.
   */
  store?: ConversationStore;
}

/** The store key of a conversation's routing record. */
export const routingRecordId = (conversationId: string) => `routing:${conversationId}`;

/** A decision and the configured arm (or model) whose backend serves it. */
export type ServedDecision = RouteResult & { served: ModelSize | ArmId };

export interface RouterChooser extends BackendChooser {
  readonly router: Router;
  /** The configured entries, e.g. `['20b', '120b']` or `['20b-low', '120b-high']`. */
  readonly arms: readonly (ModelSize | ArmId)[];
  choose(ctx: ChooseContext): Promise<{ decision: ServedDecision; backend: TokenBackend | MessageBackend }>;
}

const EFFORT_ORDER: readonly ReasoningEffort[] = ['low', 'medium', 'high'];
const isArmKey = (k: string): k is ModelSize | ArmId =>
  k === '20b' || k === '120b' || ARMS.includes(k as ArmId);

/** The entry that serves `arm`: its own, its model's, or the same model's nearest effort (higher on ties). */
export function servingArm(backends: ArmBackends, arm: ArmId): ModelSize | ArmId | undefined {
  if (backends[arm]) return arm;
  const [model, effort] = splitArm(arm);
  if (backends[model]) return model;
  const at = EFFORT_ORDER.indexOf(effort);
  for (const d of [1, -1, 2, -2]) {
    const e = EFFORT_ORDER[at + d];
    if (e && backends[`${model}-${e}`]) return `${model}-${e}`;
  }
  return undefined;
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
  const backends = options.backends ?? {};
  const keys = Object.keys(backends).filter((k) => backends[k as ModelSize | ArmId] !== undefined);
  for (const k of keys)
    if (!isArmKey(k))
      throw new RouterChooserError(
        `createRouterChooser: unknown arm '${k}'; use 20b, 120b or one of ${ARMS.join(', ')}`,
      );
  const covered = (['20b', '120b'] as const).filter((m) =>
    keys.some((k) => k === m || k.startsWith(`${m}-`)),
  );
  if (covered.length === 0)
    throw new RouterChooserError(
      'createRouterChooser: no backends; give one per model size (20b, 120b) or per arm (20b-low … 120b-high)',
    );
  const pinned = options.policy?.model;
  if (pinned && !covered.includes(pinned))
    throw new RouterChooserError(`createRouterChooser: the policy pins ${pinned} but no backend serves it`);
  // One model covered: pin it, so only the effort is routed.
  const policy = covered.length === 1 && !pinned ? { ...options.policy, model: covered[0] } : options.policy;
  const router = new Router({ model: options.model, policy });
  const band = options.policy?.uncertainBand ?? [0.35, 0.65];

  async function decide(ctx: ChooseContext): Promise<RouteResult> {
    const known = options.policy?.sticky !== false && router.decisionFor(ctx.conversationId) !== undefined;
    if (!options.llm || ctx.trouble || known) return router.route(ctx.input, ctx);
    const fresh = router.classify(ctx.input);
    const p = fresh.prediction.pLarge;
    if (p < band[0] || p > band[1] || policy?.model) return router.route(ctx.input, ctx);
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
    arms: keys as (ModelSize | ArmId)[],
    async choose(ctx) {
      const store = options.store;
      const stickyOn = policy?.sticky !== false;
      if (store && stickyOn && !router.decisionFor(ctx.conversationId)) {
        const rec = await store.load(routingRecordId(ctx.conversationId));
        const last = rec?.messages.at(-1)?.content[0];
        if (last && 'text' in last) {
          try {
            const { served: _served, ...previous } = JSON.parse(last.text) as ServedDecision;
            router.adopt(ctx.conversationId, previous);
          } catch {
            // An unreadable record: decide afresh.
          }
        }
      }
      const decision = await decide(ctx);
      const served = servingArm(backends, decision.arm);
      const backend = served && backends[served];
      if (!served || !backend)
        throw new RouterChooserError(`no backend serves ${decision.arm} (configured: ${keys.join(', ')})`);
      const out: ServedDecision = { ...decision, served };
      if (store && !decision.reason.startsWith('sticky'))
        await store.append(routingRecordId(ctx.conversationId), [
          { role: 'system', content: [{ type: 'text', text: JSON.stringify(out) }] },
        ]);
      return { decision: out, backend };
    },
  };
}
