import type { ModelSize, ReasoningEffort } from '@harmonia/core';

export type ArmId = `${ModelSize}-${ReasoningEffort}`;

export const ARMS: readonly ArmId[] = [
  '20b-low',
  '20b-medium',
  '20b-high',
  '120b-low',
  '120b-medium',
  '120b-high',
];

/** Price and expected output of one model+effort arm. */
export interface ArmCost {
  /** Dollars per million prompt tokens. */
  inputPerMTok: number;
  /** Dollars per million output tokens (reasoning included). */
  outputPerMTok: number;
  /** Expected output tokens per call at this effort. */
  expectedOutputTokens: number;
}

export type CostModel = Record<ArmId, ArmCost>;

// Default price table: gpt-oss list prices in dollars per million tokens (120b $0.15 in / $0.60 out at several
// providers; 20b $0.10 / $0.50), and estimated output lengths per effort, which no public source gives for everyday
// prompts. Set your own with a price table (`prices` in a route config, `--prices FILE`, `policy.costs`).
const PRICES: Record<ModelSize, { inputPerMTok: number; outputPerMTok: number }> = {
  '20b': { inputPerMTok: 0.1, outputPerMTok: 0.5 },
  '120b': { inputPerMTok: 0.15, outputPerMTok: 0.6 },
};
const OUTPUT_TOKENS: Record<ReasoningEffort, number> = { low: 400, medium: 1200, high: 4000 };

export const DEFAULT_COST_MODEL: CostModel = Object.fromEntries(
  ARMS.map((arm) => {
    const [model, effort] = splitArm(arm);
    return [arm, { ...PRICES[model], expectedOutputTokens: OUTPUT_TOKENS[effort] }];
  }),
) as CostModel;

export function armId(model: ModelSize, effort: ReasoningEffort): ArmId {
  return `${model}-${effort}`;
}

export function splitArm(arm: ArmId): [ModelSize, ReasoningEffort] {
  const i = arm.indexOf('-');
  return [arm.slice(0, i) as ModelSize, arm.slice(i + 1) as ReasoningEffort];
}

/** A cost model with some arms overridden. */
export function costModel(overrides: Partial<Record<ArmId, Partial<ArmCost>>> = {}): CostModel {
  const out = { ...DEFAULT_COST_MODEL };
  for (const [arm, o] of Object.entries(overrides) as [ArmId, Partial<ArmCost>][]) {
    if (!(arm in out)) throw new RangeError(`unknown arm '${arm}'; arms are ${ARMS.join(', ')}`);
    out[arm] = { ...out[arm], ...o };
  }
  return out;
}

/** Rough prompt token count (about 4 characters per token for English). */
export const estimateTokens = (text: string): number => Math.ceil(text.length / 4);

/** Expected dollars for one call on `arm` with a prompt of `promptTokens`. */
export function expectedCost(
  arm: ArmId,
  promptTokens: number,
  model: CostModel = DEFAULT_COST_MODEL,
): number {
  const c = model[arm];
  return (promptTokens * c.inputPerMTok + c.expectedOutputTokens * c.outputPerMTok) / 1e6;
}
