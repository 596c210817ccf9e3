import { availableParallelism } from 'node:os';
import { type Checkpoint, type CheckpointLayout, openCheckpoint } from './checkpoint.js';
import type { ModelConfig } from './config.js';
import { EngineError } from './errors.js';
import { loadAddon, type NativeModel } from './native.js';

export type YarnMode = 'reference' | 'llama.cpp';
/** Arithmetic of multi-token (prefill) chunks; see `EngineOptions.prefill`. */
export type PrefillPrecision = 'fp32' | 'bf16' | 'int8';
/** Arithmetic of one-token (decode) steps; see `EngineOptions.decode`. */
export type DecodePrecision = 'fp32' | 'int8';

export interface EngineOptions {
  /** Compute threads including the calling worker thread (default: min(2, cores)). */
  threads?: number;
  /** Pin worker threads to cores. */
  pin?: boolean;
  /** Force a kernel set: `avx512`, `avx2` or `generic` (default: the best this CPU supports). */
  kernels?: 'avx512' | 'avx2' | 'generic';
  /** YaRN correction range: the reference's unrounded one (default) or llama.cpp's floor/ceil. */
  yarn?: YarnMode;
  /**
   * Map every weight page at load (default true). Resident memory then equals the file size; without it,
   * decode takes a page fault on the first touch of each expert.
   */
  populate?: boolean;
  /**
   * `mmap` (default): weights stay in the page cache, mapped read-only. `copy`: the files are read into
   * anonymous memory backed by transparent huge pages and the file pages are dropped; same resident size, one
   * TLB entry per 2 MiB instead of per 4 KiB, which helps decode stream the weights (Linux THP `madvise` or
   * `always` mode).
   */
  weights?: 'mmap' | 'copy';
  /**
   * Prefill arithmetic for multi-token chunks. `fp32` (default): exact, matches the float64 reference to ~1e-5.
   * `int8`: the MXFP4 expert inputs are quantized to int8 per 32-element block (scale max|x|/127), as
   * llama.cpp does on the CPU, and multiplied with exact int32 block dot products (AVX512_VNNI where present,
   * portable code otherwise); the fastest prefill, logits within ~0.1 of the reference. `bf16`: activations
   * rounded to bf16 with AVX512_BF16 dot products (~1e-2 logit differences; not faster on Zen 5). Decode (one
   * token at a time) follows `decode`.
   */
  prefill?: PrefillPrecision;
  /**
   * Decode arithmetic (one token at a time). `fp32` (default): exact. `int8`: the MXFP4 experts' inputs are
   * quantized to int8 per 32-element block as in `prefill: 'int8'` (llama.cpp's CPU decode does the same) and
   * the kernel reads the MXFP4 weights as they are stored (AVX512_VNNI where present): fewer instructions per
   * byte than the fp32 kernel, which is bound by its arithmetic rather than by memory. Attention, the dense
   * projections and the unembedding stay fp32. Logits within ~0.1 of the reference (tested).
   */
  decode?: DecodePrecision;
  /** Tokens per prefill chunk (default 128). */
  maxBatch?: number;
  layout?: CheckpointLayout;
  /** Run only the first N layers (benchmarks use it to separate per-layer time from the unembedding). */
  maxLayers?: number;
}

export interface GenerateOptions {
  maxTokens: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  stop?: number[];
  signal?: AbortSignal;
  onTokens?: (tokens: number[]) => void;
}

export interface GenerateResult {
  tokens: number[];
  finishReason: 'stop' | 'length' | 'abort';
  /** Prompt tokens served from the KV cache. */
  reused: number;
}

/**
 * A loaded gpt-oss checkpoint. Weights stay memory-mapped; the KV cache persists across calls, and each call
 * reuses the longest prefix it shares with the previous context. Calls are serialized.
 */
export class NativeEngine {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly checkpoint: Checkpoint,
    private readonly native: NativeModel,
  ) {}

  static open(dir: string, opts: EngineOptions = {}): NativeEngine {
    let checkpoint = openCheckpoint(dir, opts.layout ? { layout: opts.layout } : {});
    if (opts.maxLayers !== undefined && opts.maxLayers < checkpoint.config.numLayers) {
      const n = Math.max(1, opts.maxLayers);
      const config = {
        ...checkpoint.config,
        numLayers: n,
        layerSliding: checkpoint.config.layerSliding.slice(0, n),
      };
      checkpoint = {
        ...checkpoint,
        config,
        tensors: { ...checkpoint.tensors, layers: checkpoint.tensors.layers.slice(0, n) },
      };
    }
    const addon = loadAddon();
    if (opts.prefill !== undefined && !['fp32', 'bf16', 'int8'].includes(opts.prefill))
      throw new EngineError(`prefill must be 'fp32', 'bf16' or 'int8'`, 'bad_request');
    if (opts.decode !== undefined && !['fp32', 'int8'].includes(opts.decode))
      throw new EngineError(`decode must be 'fp32' or 'int8'`, 'bad_request');
    const threads = opts.threads ?? Math.min(2, availableParallelism());
    if (!Number.isInteger(threads) || threads < 1)
      throw new EngineError(`threads must be a positive integer`, 'bad_request');
    let native: NativeModel;
    try {
      native = new addon.Model({
        config: checkpoint.config,
        files: checkpoint.files,
        tensors: checkpoint.tensors,
        options: {
          threads,
          pin: opts.pin ?? false,
          ...(opts.kernels ? { kernels: opts.kernels } : {}),
          yarn: opts.yarn ?? 'reference',
          maxBatch: opts.maxBatch ?? 128,
          populate: opts.populate ?? true,
          weights: opts.weights ?? 'mmap',
          prefill: opts.prefill ?? 'fp32',
          decode: opts.decode ?? 'fp32',
        },
      });
    } catch (e) {
      throw new EngineError(`loading ${dir} failed: ${(e as Error).message}`, 'native_failure');
    }
    return new NativeEngine(checkpoint, native);
  }

  get config(): ModelConfig {
    return this.checkpoint.config;
  }

  info(): {
    kernels: string;
    threads: number;
    cachedTokens: number;
    prefill: PrefillPrecision;
    decode: DecodePrecision;
  } {
    return this.native.info();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private checkTokens(tokens: readonly number[]): Int32Array {
    if (tokens.length === 0) throw new EngineError('at least one token is required', 'bad_request');
    for (const t of tokens)
      if (!Number.isInteger(t) || t < 0 || t >= this.config.vocabSize)
        throw new EngineError(
          `token id ${t} is outside the vocabulary [0, ${this.config.vocabSize})`,
          'bad_request',
        );
    return Int32Array.from(tokens);
  }

  /**
   * Logits for `tokens` as the whole context. `all`: one row per position from `first` on (positions before
   * `first` came from the cache); otherwise only the last position's row.
   */
  evaluate(
    tokens: readonly number[],
    opts: { all?: boolean } = {},
  ): Promise<{ logits: Float32Array[]; first: number }> {
    const ids = this.checkTokens(tokens);
    return this.serial(async () => {
      const r = await this.native.evaluate(ids, opts.all ?? false).catch((e: Error) => {
        throw new EngineError(e.message, 'native_failure');
      });
      const V = this.config.vocabSize;
      const rows: Float32Array[] = [];
      for (let i = 0; i < r.logits.length / V; i++) rows.push(r.logits.subarray(i * V, (i + 1) * V));
      return { logits: rows, first: r.first };
    });
  }

  /** Full-vocabulary logits at every position, computed from scratch (no cache reuse). */
  logits(tokens: readonly number[]): Promise<Float32Array[]> {
    return this.serial(async () => {
      this.native.reset();
      return undefined;
    }).then(() => this.evaluate(tokens, { all: true }).then((r) => r.logits));
  }

  generate(prompt: readonly number[], opts: GenerateOptions): Promise<GenerateResult> {
    const ids = this.checkTokens(prompt);
    if (!Number.isInteger(opts.maxTokens) || opts.maxTokens < 1)
      throw new EngineError('maxTokens must be a positive integer', 'bad_request');
    return this.serial(async () => {
      if (opts.signal?.aborted) return { tokens: [], finishReason: 'abort' as const, reused: 0 };
      const onAbort = () => this.native.cancel();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const r = await this.native.generate(
          ids,
          {
            maxTokens: opts.maxTokens,
            ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
            ...(opts.topP !== undefined ? { topP: opts.topP } : {}),
            ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
            stop: Int32Array.from(opts.stop ?? []),
          },
          (toks) => opts.onTokens?.(Array.from(toks)),
        );
        return { tokens: Array.from(r.tokens), finishReason: r.finishReason, reused: r.reused };
      } catch (e) {
        throw new EngineError((e as Error).message, 'native_failure');
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
      }
    });
  }

  /** Unmaps the weights and frees the KV cache once pending calls finish; the engine is unusable afterwards. */
  close(): Promise<void> {
    return this.serial(async () => this.native.close());
  }

  /** Drops the KV cache. */
  reset(): Promise<void> {
    return this.serial(async () => this.native.reset());
  }
}
