import type { ModelSize, ReasoningEffort, RoutingDecision, TurnTrouble } from '@harmonia/core';
import {
  type ArmCost,
  type ArmId,
  armId,
  type CostModel,
  costModel,
  estimateTokens,
  expectedCost,
} from './cost.js';
import { featurize } from './features.js';
import { defaultModel, EFFORTS, type Prediction, type RouterModel } from './model.js';

/**
 * How predictions become decisions. The 120b threshold comes from, in order of precedence: `sizeThreshold`,
 * `strongShare` (a target share of 120b calls, from the calibration quantiles), `qualityTarget` (routed quality ≥
 * this share of always-120b quality on the calibration split), or the default stored in the weights.
 */
export interface RouterPolicy {
  sizeThreshold?: number;
  strongShare?: number;
  qualityTarget?: number;
  /** Budget: arms whose expected cost per call exceeds this (dollars) are avoided, effort first, then model. */
  maxCostPerCall?: number;
  /** Per-arm price and output-length overrides. */
  costs?: Partial<Record<ArmId, Partial<ArmCost>>>;
  /** Keep one decision per conversation until trouble escalates it (default true). */
  sticky?: boolean;
  /** Conversations remembered for stickiness (least recently used dropped first; default 10,000). */
  maxConversations?: number;
  /** Never route below this effort (e.g. for agent tasks). */
  minEffort?: ReasoningEffort;
  /** Pin the model; the classifier then picks only the effort. */
  model?: ModelSize;
  /** p(120b) band in which the optional LLM router is consulted (default [0.35, 0.65]). */
  uncertainBand?: [number, number];
}

/** A decision plus everything a caller may want to log. */
export interface RouteResult extends RoutingDecision {
  arm: ArmId;
  prediction: Prediction;
  /** Expected dollars for this call under the cost model. */
  expectedCost: number;
  /** The p(120b) threshold in force. */
  threshold: number;
}

export interface RouteOptions {
  conversationId?: string;
  trouble?: TurnTrouble;
}

const effortRank = (e: ReasoningEffort) => EFFORTS.indexOf(e);
const maxEffort = (a: ReasoningEffort, b: ReasoningEffort) => (effortRank(a) >= effortRank(b) ? a : b);
const fmt = (x: number) => x.toFixed(2);

/** Invalid policy settings. */
export class RouterPolicyError extends Error {
  override name = 'RouterPolicyError';
}

/** The routing policy over the classifier: thresholds, budget, stickiness and escalation. */
export class Router {
  readonly model: RouterModel;
  readonly policy: RouterPolicy;
  readonly costs: CostModel;
  readonly threshold: number;
  private readonly thresholdSource: string;
  private readonly sticky = new Map<string, RouteResult>();

  constructor(options: { model?: RouterModel; policy?: RouterPolicy } = {}) {
    this.model = options.model ?? defaultModel();
    this.policy = options.policy ?? {};
    this.costs = costModel(this.policy.costs);
    [this.threshold, this.thresholdSource] = this.resolveThreshold();
  }

  private resolveThreshold(): [number, string] {
    const p = this.policy;
    const cal = this.model.weights.calibration;
    const inUnit = (name: string, v: number) => {
      if (!(v >= 0 && v <= 1)) throw new RouterPolicyError(`${name} must be between 0 and 1, got ${v}`);
    };
    if (p.sizeThreshold !== undefined) {
      inUnit('sizeThreshold', p.sizeThreshold);
      return [p.sizeThreshold, 'sizeThreshold'];
    }
    if (p.strongShare !== undefined) {
      inUnit('strongShare', p.strongShare);
      const q = cal.scoreQuantiles;
      if (p.strongShare >= 1) return [0, 'strongShare 100%'];
      if (p.strongShare <= 0) return [1.0000001, 'strongShare 0%'];
      const idx = Math.min(q.length - 1, Math.round((1 - p.strongShare) * (q.length - 1)));
      return [q[idx] ?? 0.5, `strongShare ${Math.round(p.strongShare * 100)}%`];
    }
    if (p.qualityTarget !== undefined) {
      inUnit('qualityTarget', p.qualityTarget);
      const gap = cal.strongPerformance - cal.weakPerformance;
      const pgr = gap > 0 ? (p.qualityTarget * cal.strongPerformance - cal.weakPerformance) / gap : 1;
      const pt = cal.curve.find((c) => c.pgr >= pgr) ?? cal.curve[cal.curve.length - 1];
      return [pt?.threshold ?? 0.5, `qualityTarget ${p.qualityTarget}`];
    }
    return [
      this.model.weights.defaults.sizeThreshold,
      `default qualityTarget ${this.model.weights.defaults.qualityTarget}`,
    ];
  }

  /** Routes one prompt. With a `conversationId`, the first decision sticks until `trouble` escalates it. */
  route(text: string, options: RouteOptions = {}): RouteResult {
    const { conversationId, trouble } = options;
    const stickyOn = this.policy.sticky !== false && conversationId !== undefined;
    const previous = stickyOn ? this.sticky.get(conversationId) : undefined;
    let result: RouteResult;
    if (previous && !trouble) {
      result = { ...previous, reason: `sticky for conversation (${previous.reason})` };
    } else if (trouble) {
      const base = previous ?? this.classify(text);
      result = this.escalate(base, trouble, text);
    } else {
      result = this.classify(text);
    }
    if (stickyOn) this.remember(conversationId, result);
    return result;
  }

  /** A fresh decision from the classifier and the policy; no stickiness. */
  classify(text: string, prediction?: Prediction): RouteResult {
    const pred = prediction ?? this.model.predict(text);
    const p = this.policy;
    let model: ModelSize;
    let why: string;
    if (p.model) {
      model = p.model;
      why = `model pinned to ${p.model}`;
    } else {
      model = pred.pLarge >= this.threshold ? '120b' : '20b';
      why = `classifier p(120b)=${fmt(pred.pLarge)} ${model === '120b' ? '>=' : '<'} ${fmt(this.threshold)} (${this.thresholdSource})`;
    }
    let effort = pred.effort;
    why += `; effort ${effort} p=${fmt(pred.effortProbs[effort])}`;
    if (p.minEffort && effortRank(effort) < effortRank(p.minEffort)) {
      effort = p.minEffort;
      why += `, raised to minEffort ${effort}`;
    }
    return this.withBudget(model, effort, text, pred, why);
  }

  /** Applies the per-call budget: lower effort first, then the smaller model, until the arm fits. */
  private withBudget(model: ModelSize, effort: ReasoningEffort, text: string, pred: Prediction, why: string) {
    const tokens = estimateTokens(text);
    const budget = this.policy.maxCostPerCall;
    if (budget !== undefined) {
      const start = armId(model, effort);
      const candidates: [ModelSize, ReasoningEffort][] = [];
      for (let e = effortRank(effort); e >= 0; e--) candidates.push([model, EFFORTS[e] as ReasoningEffort]);
      if (model === '120b' && !this.policy.model)
        for (let e = effortRank(effort); e >= 0; e--) candidates.push(['20b', EFFORTS[e] as ReasoningEffort]);
      const cost = ([m, e]: [ModelSize, ReasoningEffort]) => expectedCost(armId(m, e), tokens, this.costs);
      const fit = candidates.find((c) => cost(c) <= budget);
      // Nothing fits: the cheapest candidate under the price table in force.
      const [m, e] =
        fit ??
        candidates.reduce(
          (best, c) => (cost(c) < cost(best) ? c : best),
          candidates[0] as [ModelSize, ReasoningEffort],
        );
      if (!fit) why += `; no arm fits budget $${budget}/call, using cheapest ${armId(m, e)}`;
      else if (armId(m, e) !== start) why += `; budget $${budget}/call moved ${start} to ${armId(m, e)}`;
      model = m;
      effort = e;
    }
    return this.result(model, effort, tokens, pred, why);
  }

  private result(
    model: ModelSize,
    effort: ReasoningEffort,
    tokens: number,
    pred: Prediction,
    reason: string,
  ) {
    const arm = armId(model, effort);
    const cost = expectedCost(arm, tokens, this.costs);
    const out: RouteResult = {
      model,
      effort,
      arm,
      reason,
      prediction: pred,
      expectedCost: cost,
      threshold: this.threshold,
      scores: {
        p120b: pred.pLarge,
        low: pred.effortProbs.low,
        medium: pred.effortProbs.medium,
        high: pred.effortProbs.high,
        threshold: this.threshold,
        expectedCost: cost,
      },
    };
    return out;
  }

  /**
   * The next arm after a turn went wrong. Monitor flags and tool loops go to 120b (better instruction following);
   * empty, truncated or reasoning-only output climbs effort first on math/code prompts (where effort matters more
   * than size) and the model first elsewhere. At 120b-high it stays there.
   */
  escalate(from: RouteResult, trouble: TurnTrouble, text: string): RouteResult {
    const { model, effort } = from;
    const up = (e: ReasoningEffort): ReasoningEffort =>
      EFFORTS[Math.min(2, effortRank(e) + 1)] as ReasoningEffort;
    let next: [ModelSize, ReasoningEffort];
    if (model === '120b') next = ['120b', up(effort)];
    else if (trouble === 'monitor_flagged' || trouble === 'tool_loop')
      next = ['120b', maxEffort(effort, 'medium')];
    else if (isReasoningPrompt(text)) next = effort === 'high' ? ['120b', 'high'] : ['20b', up(effort)];
    else next = effort === 'low' ? ['20b', 'medium'] : ['120b', maxEffort(effort, 'medium')];
    if (this.policy.model === '20b') next = ['20b', up(effort)];
    const fromArm = armId(model, effort);
    const toArm = armId(next[0], next[1]);
    const reason =
      toArm === fromArm
        ? `escalation after ${trouble} turn: already at ${fromArm}, retrying there`
        : `escalated after ${trouble} turn: ${fromArm} -> ${toArm}`;
    return this.result(next[0], next[1], estimateTokens(text), from.prediction, reason);
  }

  /** Makes `decision` the conversation's sticky decision (e.g. one an LLM router made) and returns it. */
  adopt(conversationId: string, decision: RouteResult): RouteResult {
    if (this.policy.sticky !== false) this.remember(conversationId, decision);
    return decision;
  }

  /** Forgets a conversation's sticky decision. */
  forget(conversationId: string): void {
    this.sticky.delete(conversationId);
  }

  /** The sticky decision of a conversation, if any. */
  decisionFor(conversationId: string): RouteResult | undefined {
    return this.sticky.get(conversationId);
  }

  private remember(id: string, r: RouteResult) {
    this.sticky.delete(id);
    this.sticky.set(id, r);
    const cap = this.policy.maxConversations ?? 10_000;
    while (this.sticky.size > cap) {
      const oldest = this.sticky.keys().next().value as string;
      this.sticky.delete(oldest);
    }
  }
}

/** Math or code prompts, where more effort on the small model pays off before a larger model does. */
export function isReasoningPrompt(text: string): boolean {
  const f = featurize(text.slice(0, 4000));
  // dense order: see DENSE_FEATURES (math = 4, code = 5, reasoning_verb = 11)
  return (
    (f.dense[4] as number) > 0.35 || f.dense[5] === 1 || (f.dense[11] === 1 && (f.dense[3] as number) > 0.2)
  );
}
