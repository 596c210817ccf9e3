import { encode } from '../harmony/api.js';

/**
 * Turns streamed completion text back into token ids for servers that answer in text (Ollama raw mode, an
 * OpenAI-compatible `/v1/completions` without token ids). Text pieces can split a special token (`<|ca` + `ll|>`),
 * and encoding each piece alone would turn it into ordinary tokens the Harmony parser cannot see, so text is
 * encoded only up to where a special token might still be starting.
 */
export class TextTokenStream {
  private text = '';
  private emitted = 0;

  /** Adds a piece of text; returns the ids of the text that is now safe to encode. */
  push(piece: string): number[] {
    this.text += piece;
    return this.flush(this.safeEnd());
  }

  /** The stream ended: encodes whatever was held back. */
  end(): number[] {
    return this.flush(this.text.length);
  }

  /** Everything received so far. */
  get all(): string {
    return this.text;
  }

  private safeEnd(): number {
    // Hold back from the last `<` that is not yet closed by `|>`: it may start a special token.
    const open = this.text.lastIndexOf('<');
    return open >= this.emitted && this.text.indexOf('|>', open) < 0 ? open : this.text.length;
  }

  private flush(upto: number): number[] {
    if (upto <= this.emitted) return [];
    const ids = encode(this.text.slice(this.emitted, upto), { allowSpecial: true });
    this.emitted = upto;
    return ids;
  }
}
