import type { MonitorContext, ReasoningMonitor } from '../safety/monitor.js';

/**
 * Runs the reasoning monitor as reasoning arrives and answers, at the gate (before the first final text,
 * before tools run, at the end of a turn), whether the turn may go on. Checks run concurrently with
 * generation; a flag found early calls `onFlag` so the caller can abort the stream at once.
 */
export class MonitorGate {
  private checkedLength = 0;
  private pending: Promise<void>[] = [];
  flagged: string | undefined;

  constructor(
    private readonly monitor: ReasoningMonitor | undefined,
    private readonly ctx: MonitorContext,
    private readonly onFlag: (reason: string) => void,
  ) {}

  get name(): string {
    return this.monitor?.name ?? 'none';
  }

  /** Starts a check over all reasoning so far, unless nothing new arrived since the last one. */
  observe(reasoning: string): void {
    if (!this.monitor || reasoning.length <= this.checkedLength || this.flagged) return;
    this.checkedLength = reasoning.length;
    this.pending.push(
      this.monitor.check(reasoning, this.ctx).then((v) => {
        if (v.flagged && this.flagged === undefined) {
          this.flagged = v.reason;
          this.onFlag(v.reason);
        }
      }),
    );
  }

  /** Waits for every check (including one over `reasoning`); returns the flag reason, if any. */
  async verdict(reasoning: string): Promise<string | undefined> {
    this.observe(reasoning);
    while (this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      await Promise.all(batch);
    }
    return this.flagged;
  }
}
