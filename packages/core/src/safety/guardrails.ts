/** A guardrail's decision. `reply`: what the user is shown instead (e.g. a polite refusal). */
export type GuardrailVerdict = { ok: true } | { ok: false; reason: string; reply?: string };

export interface GuardrailContext {
  conversationId: string;
  signal: AbortSignal;
}

/** Runs on the user's message before the model sees it. */
export interface InputGuardrail {
  readonly name: string;
  check(input: string, ctx: GuardrailContext): Promise<GuardrailVerdict> | GuardrailVerdict;
}

/**
 * Runs on the final answer before it is shown. With the agent's `guardStreaming: 'sentence'` (the default) it
 * also runs on every prefix that ends a sentence while the answer streams, so it must judge partial answers;
 * with `'off'` it runs once at the end and streamed text is withdrawn by a `guardrail_tripped` event.
 */
export interface OutputGuardrail {
  readonly name: string;
  check(
    output: string,
    ctx: GuardrailContext & { input: string },
  ): Promise<GuardrailVerdict> | GuardrailVerdict;
}

/** A guardrail from a predicate: e.g. `maxLengthGuardrail`, a blocklist, a moderation call. */
export function inputGuardrail(
  name: string,
  check: (input: string, ctx: GuardrailContext) => Promise<GuardrailVerdict> | GuardrailVerdict,
): InputGuardrail {
  return { name, check };
}

export function outputGuardrail(
  name: string,
  check: (
    output: string,
    ctx: GuardrailContext & { input: string },
  ) => Promise<GuardrailVerdict> | GuardrailVerdict,
): OutputGuardrail {
  return { name, check };
}

/** Refuses inputs longer than `max` characters (a cheap guard against prompt stuffing). */
export function maxInputLength(
  max: number,
  reply = 'Your message is too long. Please shorten it.',
): InputGuardrail {
  return inputGuardrail('max_input_length', (input) =>
    input.length > max
      ? { ok: false, reason: `input has ${input.length} characters (max ${max})`, reply }
      : { ok: true },
  );
}
