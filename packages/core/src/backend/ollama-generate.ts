import { decode, encode, inferStopToken } from '../harmony/api.js';
import { BackendError } from './errors.js';
import { joinUrl, lines, postJson } from './http.js';
import type {
  FinishReason,
  TokenBackend,
  TokenChunk,
  TokenRequest,
  TokenResult,
  TokenUsage,
} from './types.js';

export interface OllamaGenerateOptions {
  /** e.g. `http://127.0.0.1:11434` */
  baseURL?: string;
  /** e.g. `gpt-oss:20b` */
  model: string;
}

interface GenerateLine {
  response?: string;
  done?: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
  error?: string;
}

// Ollama excludes the matched stop string from its output and does not say which one matched; the Harmony layer
// infers it from the last message's header.
export { inferStopToken };

/**
 * Ollama's `/api/generate` in raw mode: the Harmony prompt is sent as text with its special tokens written
 * out (Ollama tokenizes them), and the answer is re-encoded to ids.
 */
export class OllamaGenerateBackend implements TokenBackend {
  readonly kind = 'tokens' as const;
  readonly id: string;
  private readonly url: string;

  constructor(private readonly opts: OllamaGenerateOptions) {
    const base = opts.baseURL ?? 'http://127.0.0.1:11434';
    this.url = joinUrl(base, '/api/generate');
    this.id = `ollama:${base} ${opts.model}`;
  }

  private body(r: TokenRequest, stream: boolean): Record<string, unknown> {
    const options: Record<string, unknown> = { stop: r.stop.map((t) => decode([t])) };
    if (r.temperature !== undefined) options.temperature = r.temperature;
    if (r.topP !== undefined) options.top_p = r.topP;
    if (r.maxTokens !== undefined) options.num_predict = r.maxTokens;
    if (r.seed !== undefined) options.seed = r.seed;
    return { model: this.opts.model, prompt: decode(r.prompt), raw: true, stream, options };
  }

  private finish(
    text: string,
    line: GenerateLine,
    r: TokenRequest,
  ): { extra: number[]; reason: FinishReason } {
    if (line.done_reason === 'length') return { extra: [], reason: 'length' };
    const stop = inferStopToken(text);
    return { extra: r.stop.includes(stop) ? [stop] : [], reason: 'stop' };
  }

  private usage(line: GenerateLine, r: TokenRequest, count: number): TokenUsage {
    return {
      promptTokens: line.prompt_eval_count ?? r.prompt.length,
      completionTokens: line.eval_count ?? count,
    };
  }

  async generate(r: TokenRequest): Promise<TokenResult> {
    const res = await postJson(this.url, this.body(r, false), { signal: r.signal, what: this.id });
    const line = (await res.json()) as GenerateLine;
    if (line.error) throw new BackendError(`${this.id}: ${line.error}`);
    const text = line.response ?? '';
    const { extra, reason } = this.finish(text, line, r);
    const tokens = [...encode(text, { allowSpecial: true }), ...extra];
    return { tokens, finishReason: reason, usage: this.usage(line, r, tokens.length) };
  }

  async *stream(r: TokenRequest): AsyncIterable<TokenChunk> {
    const res = await postJson(this.url, this.body(r, true), { signal: r.signal, what: this.id });
    // Text pieces can split a special token (`<|ca` + `ll|>`), so ids are produced only from text that
    // cannot be the start of one.
    let text = '';
    let emitted = 0;
    let count = 0;
    const flushable = (all: string) => {
      // Hold back from the last `<` that is not yet closed by `|>`: it may start a special token.
      const open = all.lastIndexOf('<');
      return open >= emitted && all.indexOf('|>', open) < 0 ? open : all.length;
    };
    try {
      for await (const raw of lines(res)) {
        if (!raw.trim()) continue;
        const line = JSON.parse(raw) as GenerateLine;
        if (line.error) throw new BackendError(`${this.id}: ${line.error}`);
        text += line.response ?? '';
        const upto = line.done ? text.length : flushable(text);
        if (upto > emitted) {
          const tokens = encode(text.slice(emitted, upto), { allowSpecial: true });
          emitted = upto;
          count += tokens.length;
          if (tokens.length) yield { type: 'tokens', tokens };
        }
        if (line.done) {
          const { extra, reason } = this.finish(text, line, r);
          if (extra.length) yield { type: 'tokens', tokens: extra };
          yield { type: 'finish', finishReason: reason, usage: this.usage(line, r, count + extra.length) };
          return;
        }
      }
    } catch (err) {
      if (!r.signal?.aborted) throw err;
    }
    yield {
      type: 'finish',
      finishReason: r.signal?.aborted ? 'abort' : 'error',
      usage: { promptTokens: r.prompt.length, completionTokens: count },
    };
  }
}
