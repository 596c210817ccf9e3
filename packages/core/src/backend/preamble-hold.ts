import { looksFlattened } from '../harmony/api.js';
import type { MessageChunk } from './types.js';

/**
 * Servers that apply Harmony themselves (Chat Completions, Ollama's `/api/chat`) stream assistant text without
 * saying which channel it came from: text before tool calls is a preamble (commentary), text of a response without
 * calls is the answer (final). Until the response shows which, text is held; a tool call releases it as
 * commentary, the end of a response without calls as final. Raw Harmony markup or a leading `<think>` block in the
 * text (a server that leaked its template) is never streamed: the backend re-splits it from the whole message at the end.
 */
export class PreambleHold {
  private held = '';
  private all = '';
  private decided: 'commentary' | 'final' | undefined;
  private markup = false;

  /** Assistant text arrived. */
  *text(delta: string): Generator<MessageChunk> {
    this.all += delta;
    this.markup ||= this.all.includes('<|') || /^\s*<think>/.test(this.all);
    if (this.markup) this.held = '';
    else if (this.decided) yield { type: 'delta', channel: this.decided, delta };
    else this.held += delta;
  }

  /** A tool call arrived: everything so far, and everything after, is a preamble. */
  *toolCall(): Generator<MessageChunk> {
    if (this.decided !== 'commentary') yield* this.release('commentary');
  }

  /** The response finished (or the stream ended); `hasCalls` says what held text was. */
  *end(hasCalls: boolean): Generator<MessageChunk> {
    if (!this.decided) yield* this.release(hasCalls ? 'commentary' : 'final');
  }

  private *release(channel: 'commentary' | 'final'): Generator<MessageChunk> {
    this.decided = channel;
    // Flattened Harmony (special tokens stripped, channel names left) is re-split at the end like markup.
    this.markup ||= looksFlattened(this.all);
    if (this.held && !this.markup) yield { type: 'delta', channel, delta: this.held };
    this.held = '';
  }
}
