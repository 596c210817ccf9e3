import { encode } from '../harmony/api.js';
import { BackendError } from './errors.js';
import { joinUrl, postJson, sseData } from './http.js';
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
  apiKey?: string;
  /** Extra body fields (server-specific sampling knobs). */
  extraBody?: Record<string, unknown>;
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

export function finishOf(reason: string | null | undefined): FinishReason {
  if (reason === 'length') return 'length';
  if (reason === 'abort' || reason === 'cancelled') return 'abort';
  return 'stop';
}

/** Token ids of a choice: the server's own ids when it returns them, else the text re-encoded with specials. */
function choiceTokens(c: CompletionChoice): number[] {
  if (Array.isArray(c.token_ids)) return c.token_ids;
  if (Array.isArray(c.tokens)) return c.tokens;
  return c.text ? encode(c.text, { allowSpecial: true }) : [];
}

function usageOf(body: CompletionBody, promptLen: number, completion: number): TokenUsage {
  const u = body.usage;
  return {
    promptTokens: u?.prompt_tokens ?? promptLen,
    completionTokens: u?.completion_tokens ?? completion,
    ...(u?.prompt_tokens_details?.cached_tokens !== undefined
      ? { cachedPromptTokens: u.prompt_tokens_details.cached_tokens }
      : {}),
  };
}

/**
 * OpenAI-compatible `/v1/completions` with token ids in and out (vLLM, llama.cpp's server). The prompt is
 * sent as ids so the server never re-tokenizes Harmony special tokens; the answer's ids come from
 * `token_ids` (vLLM `return_token_ids`) or `tokens` (llama.cpp), falling back to the text.
 */
export class CompletionsBackend implements TokenBackend {
  readonly kind = 'tokens' as const;
  readonly id: string;
  private readonly url: string;

  constructor(private readonly opts: CompletionsBackendOptions) {
    this.url = joinUrl(opts.baseURL, '/v1/completions');
    this.id = `completions:${opts.baseURL} ${opts.model}`;
  }

  private body(r: TokenRequest, stream: boolean): Record<string, unknown> {
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

  private headers(): Record<string, string> {
    return this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {};
  }

  /** vLLM reports the stop id in `stop_reason` but may leave it out of the ids; put it back. */
  private withStop(tokens: number[], c: CompletionChoice, r: TokenRequest): number[] {
    const last = tokens[tokens.length - 1];
    if (typeof c.stop_reason === 'number' && r.stop.includes(c.stop_reason) && last !== c.stop_reason) {
      return [...tokens, c.stop_reason];
    }
    return tokens;
  }

  async generate(r: TokenRequest): Promise<TokenResult> {
    const res = await postJson(this.url, this.body(r, false), {
      headers: this.headers(),
      signal: r.signal,
      what: this.id,
    });
    const body = (await res.json()) as CompletionBody;
    const c = body.choices?.[0];
    if (!c) throw new BackendError(`${this.id}: answer has no choices`);
    const tokens = this.withStop(choiceTokens(c), c, r);
    return {
      tokens,
      finishReason: finishOf(c.finish_reason),
      usage: usageOf(body, r.prompt.length, tokens.length),
    };
  }

  async *stream(r: TokenRequest): AsyncIterable<TokenChunk> {
    const res = await postJson(this.url, this.body(r, true), {
      headers: this.headers(),
      signal: r.signal,
      what: this.id,
    });
    let count = 0;
    let finish: FinishReason | undefined;
    let usage: TokenUsage | undefined;
    try {
      for await (const ev of sseData(res, this.id)) {
        const body = ev as CompletionBody;
        const c = body.choices?.[0];
        if (c) {
          let tokens = choiceTokens(c);
          if (c.finish_reason) {
            finish = finishOf(c.finish_reason);
            tokens = this.withStop(tokens, c, r);
          }
          if (tokens.length) {
            count += tokens.length;
            yield { type: 'tokens', tokens };
          }
        }
        if (body.usage) usage = usageOf(body, r.prompt.length, count);
      }
    } catch (err) {
      if (r.signal?.aborted) finish = 'abort';
      else throw err;
    }
    yield {
      type: 'finish',
      finishReason: r.signal?.aborted ? 'abort' : (finish ?? 'stop'),
      usage: usage ?? { promptTokens: r.prompt.length, completionTokens: count },
    };
  }
}
