/** What the loop makes of an answer that cannot stand: a structured answer checked against its schema, typed errors. */
import type { AnyZodSchema } from '../functions/schema.js';
import { describeIssues } from '../functions/schema.js';
import { answerText } from '../harmony/api.js';
import type { Message } from '../harmony/types.js';
import type { TurnOutcome } from './classify.js';
import { EmptyTurnError, ReasoningOnlyError, TruncatedTurnError, type TurnError } from './errors.js';

/** Validates a structured final answer (fenced or bare JSON) with the agent's output schema, when it has one. */
export function parseStructured(
  schema: AnyZodSchema | undefined,
  messages: readonly Message[],
): { ok: true; value: unknown } | { ok: false; problems: string; text: string } | undefined {
  if (!schema) return undefined;
  const text = answerText(messages).trim();
  const body = /^```(?:json)?\s*([\s\S]*?)\s*```$/.exec(text)?.[1] ?? text;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    return { ok: false, problems: `not JSON: ${(err as Error).message}`, text };
  }
  const parsed = schema.safeParse(json);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, problems: describeIssues(parsed.error), text };
}

/** The typed error for a model call that kept going wrong after every retry. */
export function turnError(outcome: TurnOutcome, attempts: number): TurnError {
  if (outcome === 'truncated') {
    return new TruncatedTurnError(
      `The model's answer was cut off by the token limit ${attempts} times in a row. Raise sampling.maxTokens or lower the reasoning effort.`,
      outcome,
      attempts,
    );
  }
  if (outcome === 'reasoning_only') {
    return new ReasoningOnlyError(
      `The model reasoned but never wrote an answer (${attempts} attempts, including a nudge to answer).`,
      outcome,
      attempts,
    );
  }
  return new EmptyTurnError(
    `The model returned nothing readable ${attempts} times in a row (no text, no tool call). Check the server's Harmony handling with 'harmonia doctor'.`,
    outcome,
    attempts,
  );
}
