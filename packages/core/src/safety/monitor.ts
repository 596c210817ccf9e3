/** What a monitor decided about the reasoning it saw. */
export type MonitorVerdict = { flagged: false } | { flagged: true; reason: string };

export interface MonitorContext {
  conversationId: string;
  /** The user message of this turn. */
  input: string;
  signal: AbortSignal;
}

/**
 * Watches the model's reasoning (the `analysis` stream) and can stop a turn before any final text is shown
 * or any tool runs. `check` receives all reasoning of the turn so far; it may be slow (a classifier, a second
 * model): the runtime starts checks as reasoning arrives and waits for them only at the gate.
 */
export interface ReasoningMonitor {
  readonly name: string;
  check(reasoning: string, ctx: MonitorContext): Promise<MonitorVerdict>;
}

export interface PatternRule {
  pattern: RegExp;
  reason: string;
}

/** The built-in monitor: flags reasoning that matches any rule. */
export function patternMonitor(rules: readonly PatternRule[], name = 'patterns'): ReasoningMonitor {
  return {
    name,
    async check(reasoning) {
      for (const r of rules) {
        r.pattern.lastIndex = 0;
        if (r.pattern.test(reasoning)) return { flagged: true, reason: r.reason };
      }
      return { flagged: false };
    },
  };
}

/**
 * A pluggable monitor from a scoring function (a classifier, or a second model asked "is this reasoning
 * planning harm?"): flags when the score reaches the threshold.
 */
export function scoreMonitor(
  score: (reasoning: string, ctx: MonitorContext) => Promise<number>,
  opts: { threshold: number; reason: string; name?: string },
): ReasoningMonitor {
  return {
    name: opts.name ?? 'score',
    async check(reasoning, ctx) {
      const s = await score(reasoning, ctx);
      return s >= opts.threshold
        ? { flagged: true, reason: `${opts.reason} (score ${s.toFixed(2)})` }
        : { flagged: false };
    },
  };
}
