import type { MonitorContext, MonitorVerdict, OutputGuardrail, ReasoningMonitor } from '@harmonia/core';

/**
 * A monitor that judges whether the bot is still doing its job: the reasoning as it streams, and the answer a
 * sentence at a time before each sentence is shown. The embedded monitor (a small classifier, no model call)
 * and the model-based one (a backend judging with a rubric) both implement it.
 */
export interface TopicMonitor {
  readonly name: string;
  checkReasoning(reasoning: string, ctx: MonitorContext): Promise<MonitorVerdict>;
  /** Called with the answer so far at each sentence end while it streams, then with the whole answer. */
  checkAnswer(answer: string, ctx: MonitorContext): Promise<MonitorVerdict>;
}

/** The runtime's reasoning-monitor hook for a topic monitor. */
export function reasoningMonitorOf(m: TopicMonitor): ReasoningMonitor {
  return { name: m.name, check: (reasoning, ctx) => m.checkReasoning(reasoning, ctx) };
}

/** The runtime's output-guardrail hook for a topic monitor: a flagged answer is replaced by `refusal`. */
export function answerGuardrailOf(m: TopicMonitor, refusal: string): OutputGuardrail {
  return {
    name: m.name,
    async check(output, ctx) {
      if (output.trim() === refusal) return { ok: true };
      const v = await m.checkAnswer(output, ctx);
      return v.flagged ? { ok: false, reason: v.reason, reply: refusal } : { ok: true };
    },
  };
}
