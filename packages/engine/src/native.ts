import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Checkpoint } from './checkpoint.js';
import type { ModelConfig } from './config.js';
import { NativeUnavailableError } from './errors.js';

/** The addon's surface (native/addon.cc). */
export interface NativeModel {
  evaluate(tokens: Int32Array, allLogits: boolean): Promise<{ logits: Float32Array; first: number }>;
  generate(
    prompt: Int32Array,
    opts: { maxTokens: number; temperature?: number; topP?: number; seed?: number; stop: Int32Array },
    onTokens: (tokens: Int32Array) => void,
  ): Promise<{ tokens: Int32Array; finishReason: 'stop' | 'length' | 'abort'; reused: number }>;
  cancel(): void;
  reset(): void;
  close(): void;
  info(): {
    kernels: string;
    threads: number;
    cachedTokens: number;
    prefill: 'fp32' | 'bf16' | 'int8';
    decode: 'fp32' | 'int8';
  };
}

export interface NativeSpec {
  config: ModelConfig;
  files: string[];
  tensors: Checkpoint['tensors'];
  options: {
    threads: number;
    pin: boolean;
    kernels?: string;
    yarn: 'reference' | 'llama.cpp';
    maxBatch: number;
    populate: boolean;
    weights: 'mmap' | 'copy';
    prefill: 'fp32' | 'bf16' | 'int8';
    decode: 'fp32' | 'int8';
  };
}

interface Addon {
  Model: new (spec: NativeSpec) => NativeModel;
  measureReadBandwidth(bytes: number, threads: number, reps?: number): number;
}

/** Where `pnpm --filter @harmonia/engine run build:native` puts the addon (same path from src/ and dist/). */
export const ADDON_PATH = fileURLToPath(new URL('../build/Release/harmonia_engine.node', import.meta.url));

let cached: Addon | undefined;

export function loadAddon(): Addon {
  if (cached) return cached;
  if (!existsSync(ADDON_PATH))
    throw new NativeUnavailableError(
      `the native engine is not built (${ADDON_PATH} is missing): run 'pnpm --filter @harmonia/engine run build:native'`,
    );
  try {
    cached = createRequire(import.meta.url)(ADDON_PATH) as Addon;
    return cached;
  } catch (e) {
    throw new NativeUnavailableError(
      `the native engine failed to load from ${ADDON_PATH}: ${(e as Error).message}`,
    );
  }
}

export function nativeAvailable(): boolean {
  try {
    loadAddon();
    return true;
  } catch {
    return false;
  }
}

/** Median DRAM read bandwidth in GB/s (AVX2 streaming sum over `bytes`, pinned threads). For benchmarks. */
export function measureReadBandwidth(bytes: number, threads: number, reps = 7): number {
  return loadAddon().measureReadBandwidth(bytes, threads, reps);
}
