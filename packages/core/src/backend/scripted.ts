import { decode, encode } from '../harmony/api.js';
import { ScriptExhaustedError, UnusedScriptError } from './errors.js';
import type { FinishReason, TokenBackend, TokenChunk, TokenRequest, TokenResult } from './types.js';

/** One scripted model call: the completion text (special tokens written as text, e.g. `<|call|>`). */
export type ScriptStep =
  | string
  | { text: string; finishReason?: FinishReason }
  /** Computed from the request, e.g. to assert on the prompt before answering. */
  | ((request: TokenRequest) => string | { text: string; finishReason?: FinishReason });

/**
 * A token backend that plays back a list of Harmony completions, one per call. It records every request,
 * throws on a call beyond the script, and `assertDone()` fails when steps were left unused. The text is
 * returned verbatim (it is the "model"), so a step may hold several messages, e.g. two calls in one answer.
 */
export class ScriptedBackend implements TokenBackend {
  readonly kind = 'tokens' as const;
  readonly id: string;
  readonly requests: TokenRequest[] = [];
  private next = 0;

  constructor(
    private readonly steps: readonly ScriptStep[],
    opts: { id?: string; chunkSize?: number } = {},
  ) {
    this.id = opts.id ?? 'script';
    this.chunkSize = opts.chunkSize ?? 1;
  }
  private readonly chunkSize: number;

  /** The prompt of call `i` as text (special tokens shown as `<|...|>`). */
  promptText(i: number): string {
    const r = this.requests[i];
    if (!r) throw new Error(`ScriptedBackend: no request #${i} (got ${this.requests.length})`);
    return decode(r.prompt);
  }

  get calls(): number {
    return this.requests.length;
  }

  assertDone(): void {
    if (this.next < this.steps.length) {
      throw new UnusedScriptError(
        `ScriptedBackend '${this.id}': ${this.steps.length - this.next} of ${this.steps.length} steps were never requested`,
      );
    }
  }

  private take(request: TokenRequest): { tokens: number[]; finishReason: FinishReason } {
    this.requests.push({ ...request, prompt: [...request.prompt] });
    const step = this.steps[this.next];
    if (step === undefined) {
      throw new ScriptExhaustedError(
        `ScriptedBackend '${this.id}': unexpected model call #${this.next + 1}; the script has ${this.steps.length} steps`,
      );
    }
    this.next++;
    const s = typeof step === 'function' ? step(request) : step;
    const { text, finishReason } = typeof s === 'string' ? { text: s, finishReason: undefined } : s;
    let tokens = encode(text, { allowSpecial: true });
    if (request.maxTokens !== undefined && tokens.length > request.maxTokens) {
      tokens = tokens.slice(0, request.maxTokens);
      return { tokens, finishReason: 'length' };
    }
    return { tokens, finishReason: finishReason ?? 'stop' };
  }

  async generate(request: TokenRequest): Promise<TokenResult> {
    const { tokens, finishReason } = this.take(request);
    return {
      tokens,
      finishReason,
      usage: { promptTokens: request.prompt.length, completionTokens: tokens.length },
    };
  }

  async *stream(request: TokenRequest): AsyncIterable<TokenChunk> {
    const { tokens, finishReason } = this.take(request);
    for (let i = 0; i < tokens.length; i += this.chunkSize) {
      if (request.signal?.aborted) {
        yield {
          type: 'finish',
          finishReason: 'abort',
          usage: { promptTokens: request.prompt.length, completionTokens: i },
        };
        return;
      }
      yield { type: 'tokens', tokens: tokens.slice(i, i + this.chunkSize) };
    }
    yield {
      type: 'finish',
      finishReason,
      usage: { promptTokens: request.prompt.length, completionTokens: tokens.length },
    };
  }
}

/**
 * Builders for `ScriptedBackend` steps: Harmony completion text as gpt-oss writes it after `<|start|>assistant`.
 * Join pieces with `+`, e.g. `harmonyScript.analysis('Look it up.') + harmonyScript.call('functions.f', '{}')`.
 */
export const harmonyScript = {
  analysis: (text: string) => `<|channel|>analysis<|message|>${text}<|end|><|start|>assistant`,
  preamble: (text: string) => `<|channel|>commentary<|message|>${text}<|end|><|start|>assistant`,
  /** A tool call as the renderer writes it: recipient before the channel, JSON arguments. */
  call: (recipient: string, args: string, channel = 'commentary') =>
    ` to=${recipient}<|channel|>${channel} <|constrain|>json<|message|>${args}<|call|>`,
  /** The model's own order: recipient after the channel, ` code` content type (common on analysis). */
  callAfterChannel: (recipient: string, args: string, channel = 'analysis') =>
    `<|channel|>${channel} to=${recipient} code<|message|>${args}<|call|>`,
  final: (text: string) => `<|channel|>final<|message|>${text}<|return|>`,
};
