import {
  type OutputGuardrail,
  outputGuardrail,
  type PatternRule,
  patternMonitor,
  type ReasoningMonitor,
} from '@harmonia/core';
import { refusalText, type TopicPolicy } from './policy.js';

/**
 * Reasoning monitor rules that do not depend on the model being well-behaved: they stop a turn whose reasoning
 * plans to do something off task (the "chocolate cake" pivot: support bot asked for a recipe), to obey
 * instructions found in a tool result, or to reveal the instructions. A false positive costs one refusal; a
 * miss shows the user an off-task answer, so the rules lean strict.
 */
export const OFF_TASK_RULES: readonly PatternRule[] = [
  {
    pattern:
      /\b(recipe|ingredients?|bake|baking|preheat|oven|tablespoons?|teaspoons?|cups? of (sugar|flour))\b/i,
    reason: 'off task: cooking content',
  },
  {
    pattern: /\b(write|compose|draft)\b.{0,30}\b(poem|story|song|haiku|essay|limerick)\b/i,
    reason: 'off task: creative writing',
  },
  {
    pattern:
      /\b(the (page|document|tool result|result|entry|faq)|it) (says|tells|instructs|asks) (me|us|the assistant)? ?to\b.{0,60}\b(ignore|say|reply|reveal|tell|write)\b/i,
    reason: 'following instructions from untrusted content',
  },
  {
    pattern:
      /\b(reveal|share|print|repeat|show)\b.{0,40}\b(system prompt|developer (message|instructions)|my instructions|hidden instructions)\b/i,
    reason: 'about to reveal instructions',
  },
];

export const UNSAFE_RULES: readonly PatternRule[] = [
  {
    pattern: /\b(make|build|synthesi[sz]e)\b.{0,30}\b(bomb|explosive|weapon|nerve agent|meth)\b/i,
    reason: 'unsafe: weapons or drugs',
  },
  {
    pattern: /\b(credit card numbers?|social security numbers?|passwords? of (other|another) users?)\b/i,
    reason: 'unsafe: private data',
  },
];

export function supportMonitor(extra: readonly PatternRule[] = []): ReasoningMonitor {
  return patternMonitor([...OFF_TASK_RULES, ...UNSAFE_RULES, ...extra], 'support-policy');
}

/**
 * Last check on the answer before it is shown: special-token text, leaked instructions, and the same off-task
 * patterns as the monitor (the model may answer off task without saying so in its reasoning).
 */
export function supportOutputGuardrail(
  policy: TopicPolicy,
  extra: readonly PatternRule[] = [],
): OutputGuardrail {
  const refusal = refusalText(policy);
  const rules: PatternRule[] = [
    { pattern: /<\|[^|<>\n]{0,40}\|>/, reason: 'special-token text in the answer' },
    {
      pattern: /#\s*Topic policy|You are the public support assistant/i,
      reason: 'instructions leaked into the answer',
    },
    ...OFF_TASK_RULES.slice(0, 2),
    ...extra,
  ];
  return outputGuardrail('support-output', (output) => {
    if (output.trim() === refusal) return { ok: true };
    for (const r of rules) {
      r.pattern.lastIndex = 0;
      if (r.pattern.test(output)) return { ok: false, reason: r.reason, reply: refusal };
    }
    return { ok: true };
  });
}
