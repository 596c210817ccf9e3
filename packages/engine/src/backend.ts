import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  registerBackendScheme,
  type TokenBackend,
  type TokenChunk,
  type TokenRequest,
  type TokenResult,
} from '@harmonia/core';
import { ensureNativeBuilt } from './build.js';
import { type EngineOptions, NativeEngine } from './engine.js';
import { CheckpointError, EngineError } from './errors.js';

/** Default cap when a request sets no maxTokens. */
const DEFAULT_MAX_TOKENS = 4096;

/** The native engine as a token-level backend (`native:DIR`). */
export class NativeBackend implements TokenBackend {
  readonly kind = 'tokens' as const;
  readonly id: string;

  constructor(readonly engine: NativeEngine) {
    this.id = `native:${engine.checkpoint.dir}`;
  }

  static open(dir: string, opts: EngineOptions = {}): NativeBackend {
    return new NativeBackend(NativeEngine.open(dir, opts));
  }

  /** Parses `native:DIR`. */
  static fromSpec(spec: string, opts: EngineOptions = {}): NativeBackend {
    if (!spec.startsWith('native:') || spec.length <= 'native:'.length)
      throw new EngineError(`expected native:DIR, got '${spec}'`, 'bad_request');
    return NativeBackend.open(spec.slice('native:'.length), opts);
  }

  async generate(request: TokenRequest): Promise<TokenResult> {
    const r = await this.engine.generate(request.prompt, this.options(request));
    return {
      tokens: r.tokens,
      finishReason: r.finishReason,
      usage: {
        promptTokens: request.prompt.length,
        completionTokens: r.tokens.length,
        cachedPromptTokens: r.reused,
      },
    };
  }

  async *stream(request: TokenRequest): AsyncIterable<TokenChunk> {
    const pending: number[][] = [];
    let wake: (() => void) | undefined;
    let settled = false;
    let failure: unknown;
    let result: TokenResult | undefined;
    const done = this.engine
      .generate(request.prompt, {
        ...this.options(request),
        onTokens: (t) => {
          pending.push(t);
          wake?.();
        },
      })
      .then(
        (r) => {
          result = {
            tokens: r.tokens,
            finishReason: r.finishReason,
            usage: {
              promptTokens: request.prompt.length,
              completionTokens: r.tokens.length,
              cachedPromptTokens: r.reused,
            },
          };
        },
        (e) => {
          failure = e;
        },
      )
      .finally(() => {
        settled = true;
        wake?.();
      });
    while (true) {
      while (pending.length > 0) yield { type: 'tokens', tokens: pending.shift()! };
      if (settled) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    await done;
    while (pending.length > 0) yield { type: 'tokens', tokens: pending.shift()! };
    if (failure) throw failure;
    yield { type: 'finish', finishReason: result!.finishReason, usage: result!.usage };
  }

  private options(request: TokenRequest) {
    return {
      maxTokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
      stop: request.stop,
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.topP !== undefined ? { topP: request.topP } : {}),
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
    };
  }
}

/** Makes `native:DIR` work wherever a backend spec is accepted (`backendFromSpec`, `HARMONIA_BACKEND`). */
export function registerNativeBackend(opts: EngineOptions = {}): void {
  registerBackendScheme('native', async (dir) => {
    // A wrong folder is reported before the first-use build of the addon starts.
    if (!existsSync(join(dir, 'config.json')) && !existsSync(join(dir, 'original', 'config.json')))
      throw new CheckpointError(`native: ${dir} is not a checkpoint folder (no config.json)`, 'missing_file');
    await ensureNativeBuilt();
    return NativeBackend.open(dir, opts);
  });
}
