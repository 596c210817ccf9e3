import type { GuardrailContext, OutputGuardrail } from '../safety/guardrails.js';

/**
 * When final text may reach the user-facing stream while output guardrails are set:
 *  - `sentence` (default): a sentence at a time, each release only after every output guardrail passed on the
 *    whole answer so far; when one trips, nothing more is released and the turn stops;
 *  - `answer`: nothing until the whole answer passed (no partial text, the most latency);
 *  - `off`: as it arrives; guardrails check the whole answer at the end, so streamed text can only be
 *    withdrawn afterwards (a `guardrail_tripped` event).
 * Without output guardrails every mode streams as text arrives.
 */
export type GuardStreaming = 'sentence' | 'answer' | 'off';

/** A tripped output guardrail: the user is shown `reply` instead of the answer. */
export interface GuardTrip {
  guardrail: string;
  reason: string;
  reply: string;
}

/** Ends of the complete sentences or lines of `text` after offset `from`, in order. */
export function sentenceEnds(text: string, from = 0): number[] {
  // Punctuation counts only when whitespace follows: "3." in "3.5" is no sentence end.
  return [...text.slice(from).matchAll(/[.!?:;](?=\s)|\n/g)].map((m) => from + m.index + 1);
}

/**
 * Holds the final text of one model call and releases it as the guardrails allow (see `GuardStreaming`).
 * `push` returns what may be shown now; `finish` checks the whole answer and returns the rest or the trip.
 */
export class OutputGate {
  private text = '';
  private released = 0;
  tripped: GuardTrip | undefined;

  constructor(
    private readonly guardrails: readonly OutputGuardrail[],
    private readonly mode: GuardStreaming,
    private readonly ctx: GuardrailContext & { input: string },
  ) {}

  /** Whether text can be withheld (and a trip stop the turn early). */
  get gating(): boolean {
    return this.guardrails.length > 0 && this.mode !== 'off';
  }

  /** Adds answer text; returns the text that may be shown now (`''` when none). */
  async push(delta: string): Promise<string> {
    this.text += delta;
    if (this.tripped) return '';
    if (!this.gating) return this.releaseTo(this.text.length);
    if (this.mode === 'answer') return '';
    // Sentence by sentence, so what is shown does not depend on how the backend chunked the text.
    const start = this.released;
    for (const end of sentenceEnds(this.text, start)) {
      if (!(await this.check(this.text.slice(0, end)))) break;
      this.released = end;
    }
    return this.text.slice(start, this.released);
  }

  /**
   * The whole answer (`answer`: the final message's text, normally what was pushed): runs the guardrails on it
   * unless one already tripped, and returns the text still to show, or the trip.
   */
  async finish(answer: string): Promise<{ rest: string } | { trip: GuardTrip }> {
    if (!this.tripped) await this.check(answer);
    if (this.tripped) return { trip: this.tripped };
    if (!this.gating) return { rest: '' };
    const shown = this.text.slice(0, this.released);
    // The streamed text and the parsed answer agree; should a backend ever differ, show no second copy.
    return { rest: answer.startsWith(shown) ? answer.slice(shown.length) : '' };
  }

  private releaseTo(end: number): string {
    const out = this.text.slice(this.released, end);
    this.released = end;
    return out;
  }

  private async check(text: string): Promise<boolean> {
    for (const g of this.guardrails) {
      const v = await g.check(text, this.ctx);
      if (!v.ok) {
        this.tripped = { guardrail: g.name, reason: v.reason, reply: v.reply ?? '' };
        return false;
      }
    }
    return true;
  }
}
