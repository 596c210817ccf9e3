import { decode, encode, inferStopToken } from '../harmony/api.js';
import { BackendError } from './errors.js';
import { authHeaders, joinUrl, lines, postJson } from './http.js';
import type { RetryOptions } from './retry.js';
import { TextTokenStream } from './text-tokens.js';
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
  /** Sent as a Bearer token (Ollama behind an authenticating proxy). */
  apiKey?: string | undefined;
  /** Fixed context size; default: sized from the conversation (see `ollamaNumCtx`). */
  numCtx?: number;
  retry?: RetryOptions;
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

/** gpt-oss's context window. */
const MAX_CTX = 131_072;

/**
 * Ollama runs a model with a context of 4096 tokens on machines under 23 GiB of VRAM unless the request sets
 * `num_ctx` (server/routes.go: `defaultNumCtx` by VRAM tier), and cuts longer prompts silently. The context is
 * sized from the prompt plus the answer budget, rounded up to a power of two (at least 8192) so that a growing
 * conversation reloads the model rarely.
 */
export function ollamaNumCtx(promptTokens: number, maxTokens: number | undefined): number {
  const need = promptTokens + (maxTokens ?? 4096);
  let ctx = 8192;
  while (ctx < need && ctx < MAX_CTX) ctx *= 2;
  return Math.min(ctx, MAX_CTX);
}

/**
 * Ollama's `/api/generate` in raw mode (server/routes.go `GenerateHandler`): the Harmony prompt is sent as text
 * with its special tokens written out (Ollama tokenizes them), the answer comes back as NDJSON text pieces
 * without the matched stop string, and is re-encoded to ids.
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
    const options: Record<string, unknown> = {
      stop: r.stop.map((t) => decode([t])),
      num_ctx: this.opts.numCtx ?? ollamaNumCtx(r.prompt.length, r.maxTokens),
    };
    if (r.temperature !== undefined) options.temperature = r.temperature;
    if (r.topP !== undefined) options.top_p = r.topP;
    if (r.maxTokens !== undefined) options.num_predict = r.maxTokens;
    if (r.seed !== undefined) options.seed = r.seed;
    return { model: this.opts.model, prompt: decode(r.prompt), raw: true, stream, options };
  }

  private post(r: TokenRequest, stream: boolean): Promise<Response> {
    return postJson(this.url, this.body(r, stream), {
      headers: authHeaders(this.opts.apiKey),
      signal: r.signal,
      what: this.id,
      retry: this.opts.retry,
    });
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
    const res = await this.post(r, false);
    const line = (await res.json()) as GenerateLine;
    if (line.error) throw new BackendError(`${this.id}: ${line.error}`);
    const text = line.response ?? '';
    const { extra, reason } = this.finish(text, line, r);
    const tokens = [...encode(text, { allowSpecial: true }), ...extra];
    return { tokens, finishReason: reason, usage: this.usage(line, r, tokens.length) };
  }

  async *stream(r: TokenRequest): AsyncIterable<TokenChunk> {
    const res = await this.post(r, true);
    const text = new TextTokenStream();
    let count = 0;
    try {
      for await (const raw of lines(res)) {
        if (!raw.trim()) continue;
        const line = JSON.parse(raw) as GenerateLine;
        if (line.error) throw new BackendError(`${this.id}: ${line.error}`);
        const tokens = text.push(line.response ?? '');
        if (line.done) tokens.push(...text.end());
        count += tokens.length;
        if (tokens.length) yield { type: 'tokens', tokens };
        if (line.done) {
          const { extra, reason } = this.finish(text.all, line, r);
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
