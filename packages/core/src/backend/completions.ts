import { decode, encode, inferStopToken } from '../harmony/api.js';
import { BackendError } from './errors.js';
import { authHeaders, joinUrl, postJson, sseData } from './http.js';
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

export interface CompletionsBackendOptions {
  /** Server root or `/v1` URL, e.g. `http://127.0.0.1:8000`. */
  baseURL: string;
  /** Model name the server knows, e.g. `openai/gpt-oss-20b`. */
  model: string;
  apiKey?: string | undefined;
  /**
   * `openai` (default): `/v1/completions` as vLLM serves it, ids from `return_token_ids`.
   * `llamacpp`: llama-server's native `/completion`, ids from `return_tokens` (its `/v1/completions` returns text
   * only, without Harmony's special tokens unless the server runs with `--special`).
   */
  dialect?: 'openai' | 'llamacpp';
  /** Extra body fields (server-specific sampling knobs). */
  extraBody?: Record<string, unknown>;
  retry?: RetryOptions;
}

interface CompletionChoice {
  text?: string;
  token_ids?: number[] | null;
  tokens?: number[] | null;
  finish_reason?: string | null;
  stop_reason?: number | string | null;
}
interface CompletionBody {
  choices?: CompletionChoice[];
  usage?: {
    prompt_tokens?: number;
    completion_tokens?: number;
    prompt_tokens_details?: { cached_tokens?: number } | null;
  } | null;
}
/** llama-server `/completion` (tools/server: `to_json_non_oaicompat` / `send_partial_response`). */
interface LlamaBody {
  content?: string;
  tokens?: number[];
  stop?: boolean;
  stop_type?: 'none' | 'eos' | 'limit' | 'word';
  tokens_predicted?: number;
  tokens_evaluated?: number;
  tokens_cached?: number;
  error?: { message?: string };
}

export function finishOf(reason: string | null | undefined): FinishReason {
  if (reason === 'length') return 'length';
  if (reason === 'abort' || reason === 'cancelled') return 'abort';
  return 'stop';
}

/** One answer piece in a dialect-free shape. */
interface Piece {
  /** Ids the server returned, or undefined when it sent only text. */
  ids?: number[];
  text: string;
  finish?: FinishReason;
  /** vLLM names the matched stop id. */
  stopId?: number;
  usage?: Partial<TokenUsage>;
}

function openaiPiece(body: CompletionBody): Piece {
  const c = body.choices?.[0];
  const ids = Array.isArray(c?.token_ids) ? c.token_ids : Array.isArray(c?.tokens) ? c.tokens : undefined;
  const u = body.usage;
  return {
    ...(ids ? { ids } : {}),
    text: c?.text ?? '',
    ...(c?.finish_reason ? { finish: finishOf(c.finish_reason) } : {}),
    ...(typeof c?.stop_reason === 'number' ? { stopId: c.stop_reason } : {}),
    ...(u
      ? {
          usage: {
            ...(u.prompt_tokens !== undefined ? { promptTokens: u.prompt_tokens } : {}),
            ...(u.completion_tokens !== undefined ? { completionTokens: u.completion_tokens } : {}),
            ...(u.prompt_tokens_details?.cached_tokens !== undefined
              ? { cachedPromptTokens: u.prompt_tokens_details.cached_tokens }
              : {}),
          },
        }
      : {}),
  };
}

function llamaPiece(body: LlamaBody): Piece {
  const done = body.stop === true;
  return {
    ...(Array.isArray(body.tokens) ? { ids: body.tokens } : {}),
    text: body.content ?? '',
    ...(done ? { finish: body.stop_type === 'limit' ? 'length' : 'stop' } : {}),
    ...(done && body.tokens_evaluated !== undefined
      ? {
          usage: {
            promptTokens: body.tokens_evaluated,
            ...(body.tokens_predicted !== undefined ? { completionTokens: body.tokens_predicted } : {}),
            ...(body.tokens_cached !== undefined ? { cachedPromptTokens: body.tokens_cached } : {}),
          },
        }
      : {}),
  };
}

/**
 * Token ids in, token ids out, for servers that take a prompt of ids: vLLM's `/v1/completions` and llama-server's
 * `/completion`. The prompt is sent as ids so the server never re-tokenizes Harmony special tokens. Answer ids come
 * from the server when it returns them; otherwise its text is re-encoded with the split-special-token guard. A
 * server that leaves the stop token out (llama.cpp stops on end-of-generation tokens and drops them) gets it put
 * back from the message header.
 */
export class CompletionsBackend implements TokenBackend {
  readonly kind = 'tokens' as const;
  readonly id: string;
  private readonly url: string;
  private readonly dialect: 'openai' | 'llamacpp';

  constructor(private readonly opts: CompletionsBackendOptions) {
    this.dialect = opts.dialect ?? 'openai';
    const root = opts.baseURL.replace(/\/+$/, '');
    this.url =
      this.dialect === 'llamacpp'
        ? `${root.replace(/\/v1$/, '')}/completion`
        : joinUrl(opts.baseURL, '/v1/completions');
    this.id = `${this.dialect === 'llamacpp' ? 'llamacpp' : 'completions'}:${opts.baseURL} ${opts.model}`;
  }

  private body(r: TokenRequest, stream: boolean): Record<string, unknown> {
    if (this.dialect === 'llamacpp') {
      // tools/server `params_from_json_cmpl`: n_predict, return_tokens, cache_prompt; EOG tokens stop it.
      return {
        model: this.opts.model,
        prompt: r.prompt,
        n_predict: r.maxTokens ?? -1,
        temperature: r.temperature,
        top_p: r.topP,
        seed: r.seed,
        stream,
        return_tokens: true,
        cache_prompt: true,
        ...this.opts.extraBody,
      };
    }
    return {
      model: this.opts.model,
      prompt: r.prompt,
      max_tokens: r.maxTokens,
      temperature: r.temperature,
      top_p: r.topP,
      seed: r.seed,
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
      stop_token_ids: r.stop,
      skip_special_tokens: false,
      include_stop_str_in_output: true,
      return_token_ids: true,
      return_tokens: true,
      ...this.opts.extraBody,
    };
  }

  private piece(ev: unknown): Piece {
    const err = (ev as LlamaBody).error;
    if (err) throw new BackendError(`${this.id}: ${err.message ?? JSON.stringify(err)}`);
    return this.dialect === 'llamacpp' ? llamaPiece(ev as LlamaBody) : openaiPiece(ev as CompletionBody);
  }

  /** The stop token when the answer ended on one the server did not include. */
  private missingStop(all: number[], p: Piece, r: TokenRequest): number[] {
    if (p.finish !== 'stop') return [];
    const last = all[all.length - 1];
    if (last !== undefined && r.stop.includes(last)) return [];
    if (p.stopId !== undefined) return r.stop.includes(p.stopId) ? [p.stopId] : [];
    const inferred = inferStopToken(decode(all));
    return r.stop.includes(inferred) ? [inferred] : [];
  }

  private post(r: TokenRequest, stream: boolean): Promise<Response> {
    return postJson(this.url, this.body(r, stream), {
      headers: authHeaders(this.opts.apiKey),
      signal: r.signal,
      what: this.id,
      retry: this.opts.retry,
    });
  }

  async generate(r: TokenRequest): Promise<TokenResult> {
    const res = await this.post(r, false);
    const body = (await res.json()) as unknown;
    if (this.dialect === 'openai' && !(body as CompletionBody).choices?.[0])
      throw new BackendError(`${this.id}: answer has no choices`);
    const p = this.piece(body);
    const ids = p.ids ?? encode(p.text, { allowSpecial: true });
    const tokens = [...ids, ...this.missingStop(ids, { ...p, finish: p.finish ?? 'stop' }, r)];
    return {
      tokens,
      finishReason: p.finish ?? 'stop',
      usage: {
        promptTokens: p.usage?.promptTokens ?? r.prompt.length,
        completionTokens: p.usage?.completionTokens ?? tokens.length,
        ...(p.usage?.cachedPromptTokens !== undefined
          ? { cachedPromptTokens: p.usage.cachedPromptTokens }
          : {}),
      },
    };
  }

  async *stream(r: TokenRequest): AsyncIterable<TokenChunk> {
    const res = await this.post(r, true);
    const text = new TextTokenStream();
    const all: number[] = [];
    let finish: FinishReason | undefined;
    let usage: Partial<TokenUsage> = {};
    try {
      for await (const ev of sseData(res, this.id)) {
        const p = this.piece(ev);
        if (p.usage) usage = { ...usage, ...p.usage };
        let tokens = p.ids ?? text.push(p.text);
        if (p.finish) {
          finish = p.finish;
          if (!p.ids) tokens = [...tokens, ...text.end()];
          tokens = [...tokens, ...this.missingStop([...all, ...tokens], p, r)];
        }
        if (tokens.length) {
          all.push(...tokens);
          yield { type: 'tokens', tokens };
        }
      }
    } catch (err) {
      if (r.signal?.aborted) finish = 'abort';
      else throw err;
    }
    const rest = text.end();
    if (rest.length) {
      all.push(...rest);
      yield { type: 'tokens', tokens: rest };
    }
    yield {
      type: 'finish',
      finishReason: r.signal?.aborted ? 'abort' : (finish ?? 'stop'),
      usage: {
        promptTokens: usage.promptTokens ?? r.prompt.length,
        completionTokens: usage.completionTokens ?? all.length,
        ...(usage.cachedPromptTokens !== undefined ? { cachedPromptTokens: usage.cachedPromptTokens } : {}),
      },
    };
  }
}
