/**
 * A failed run said in the CLI's terms: the core's errors name library options (`sampling.maxTokens`,
 * `maxModelCalls`); a user at the command line needs the flag that fixes it.
 */
import { MaxTurnsExceededError, ReasoningOnlyError, TruncatedTurnError } from '@harmonia/core';

export interface RunErrorContext {
  /** The --max-tokens in force, if one was given. */
  maxTokens?: number | undefined;
  /** Whether the command has --max-model-calls. */
  maxModelCallsFlag?: boolean;
}

/** One line (no trailing newline) saying what went wrong and which flag to change; undefined for other errors. */
export function explainRunError(err: unknown, ctx: RunErrorContext = {}): string | undefined {
  if (err instanceof TruncatedTurnError) {
    const limit = ctx.maxTokens ? `${ctx.maxTokens} tokens` : "the backend's default limit";
    const next = ctx.maxTokens ? Math.max(ctx.maxTokens * 4, 1024) : 8192;
    return `The model's answer was cut off at ${limit} (${err.attempts} tries). Give it more room with --max-tokens ${next}, or lower --effort.`;
  }
  if (err instanceof ReasoningOnlyError) {
    return `The model reasoned but never answered (${err.attempts} tries). Try --effort low, or a larger --max-tokens.`;
  }
  // The native engine on a checkpoint whose vocabulary stops short of Harmony's special tokens (ids up to 200018):
  // a synthetic 'tiny' checkpoint written without --vocab.
  const vocab = /outside the vocabulary \[0, (\d+)\)/.exec((err as Error)?.message ?? '');
  if ((err as Error)?.name === 'EngineError' && vocab && Number(vocab[1]) < 200019) {
    return `This checkpoint's vocabulary has ${vocab[1]} tokens; Harmony prompts use ids up to 200018. A synthetic checkpoint needs the real vocabulary: harmonia engine synth --out DIR --preset tiny --vocab 201088`;
  }
  if (err instanceof MaxTurnsExceededError && ctx.maxModelCallsFlag) {
    return `The agent made ${err.maxModelCalls} model calls without a final answer. Raise --max-model-calls, or check the tools' answers.`;
  }
  return undefined;
}
