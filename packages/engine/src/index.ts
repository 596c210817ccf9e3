export { NativeBackend, registerNativeBackend } from './backend.js';
export {
  addonCurrent,
  type BuildProgress,
  buildProgressLine,
  ensureNativeBuilt,
  nativeBuilt,
  sourcesDigest,
} from './build.js';
export type { Checkpoint, CheckpointLayout, CheckpointTensors, LayerRefs, TensorRef } from './checkpoint.js';
export { openCheckpoint } from './checkpoint.js';
export type { ModelConfig } from './config.js';
export { parseHfConfig, parseOriginalConfig, toHfConfig, toOriginalConfig } from './config.js';
export type {
  DecodePrecision,
  EngineOptions,
  GenerateOptions,
  GenerateResult,
  PrefillPrecision,
  YarnMode,
} from './engine.js';
export { NativeEngine } from './engine.js';
export type { EngineErrorCode } from './errors.js';
export { CheckpointError, EngineError, NativeUnavailableError } from './errors.js';
export type { GgufOptions } from './gguf.js';
export { writeGguf } from './gguf.js';
export { ADDON_PATH, measureReadBandwidth, nativeAvailable } from './native.js';
export { dequantMxfp4, FP4_VALUES, referenceLogits, yarnTable } from './reference.js';
export type { DType, SafetensorsEntry, SafetensorsFile } from './safetensors.js';
export { buildSafetensorsHeader, readSafetensorsHeader } from './safetensors.js';
export type { SynthOptions, SynthPreset } from './synth.js';
export { presetConfig, toBf16, writeSyntheticCheckpoint } from './synth.js';
