import { CheckpointError } from './errors.js';

/** The gpt-oss hyperparameters the engine needs, in one naming scheme for both checkpoint layouts. */
export interface ModelConfig {
  numLayers: number;
  numExperts: number;
  expertsPerToken: number;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  swigluLimit: number;
  swigluAlpha: number;
  headDim: number;
  numHeads: number;
  numKvHeads: number;
  slidingWindow: number;
  initialContextLength: number;
  ropeTheta: number;
  ropeScalingFactor: number;
  ropeNtkAlpha: number;
  ropeNtkBeta: number;
  rmsNormEps: number;
  /** Per layer: does it use the sliding window? gpt-oss: even layers do. */
  layerSliding: boolean[];
}

type Json = Record<string, unknown>;

function num(cfg: Json, key: string, where: string, fallback?: number): number {
  const v = cfg[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (v === undefined && fallback !== undefined) return fallback;
  throw new CheckpointError(`${where}: "${key}" must be a number (got ${JSON.stringify(v)})`, 'bad_config');
}

function check(c: ModelConfig, where: string): ModelConfig {
  const positive: (keyof ModelConfig)[] = [
    'numLayers',
    'numExperts',
    'expertsPerToken',
    'vocabSize',
    'hiddenSize',
    'intermediateSize',
    'headDim',
    'numHeads',
    'numKvHeads',
  ];
  for (const k of positive) {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v <= 0)
      throw new CheckpointError(`${where}: ${k} must be a positive integer`, 'bad_config');
  }
  if (c.hiddenSize % 32 || c.intermediateSize % 32)
    throw new CheckpointError(
      `${where}: hidden and intermediate sizes must be multiples of 32 (MXFP4 blocks)`,
      'bad_config',
    );
  if (c.numHeads % c.numKvHeads)
    throw new CheckpointError(`${where}: heads must be a multiple of KV heads`, 'bad_config');
  if (c.expertsPerToken > c.numExperts)
    throw new CheckpointError(`${where}: experts per token exceeds the number of experts`, 'bad_config');
  if (c.headDim % 2 || c.headDim > 512)
    throw new CheckpointError(`${where}: unsupported head_dim ${c.headDim}`, 'bad_config');
  return c;
}

/** Parses a Hugging Face `config.json` (model_type gpt_oss). */
export function parseHfConfig(cfg: Json, where: string): ModelConfig {
  const rope = (cfg.rope_scaling ?? {}) as Json;
  const numLayers = num(cfg, 'num_hidden_layers', where);
  const layerTypes = Array.isArray(cfg.layer_types) ? (cfg.layer_types as unknown[]) : undefined;
  if (layerTypes && layerTypes.length !== numLayers)
    throw new CheckpointError(
      `${where}: layer_types has ${layerTypes.length} entries for ${numLayers} layers`,
      'bad_config',
    );
  const expertsPerToken =
    typeof cfg.num_experts_per_tok === 'number'
      ? cfg.num_experts_per_tok
      : num(cfg, 'experts_per_token', where, 4);
  return check(
    {
      numLayers,
      numExperts: num(cfg, 'num_local_experts', where),
      expertsPerToken,
      vocabSize: num(cfg, 'vocab_size', where),
      hiddenSize: num(cfg, 'hidden_size', where),
      intermediateSize: num(cfg, 'intermediate_size', where),
      swigluLimit: num(cfg, 'swiglu_limit', where, 7),
      swigluAlpha: num(cfg, 'swiglu_alpha', where, 1.702),
      headDim: num(cfg, 'head_dim', where, 64),
      numHeads: num(cfg, 'num_attention_heads', where),
      numKvHeads: num(cfg, 'num_key_value_heads', where),
      slidingWindow: num(cfg, 'sliding_window', where, 128),
      initialContextLength: num(
        rope,
        'original_max_position_embeddings',
        where,
        num(cfg, 'initial_context_length', where, 4096),
      ),
      ropeTheta: num(cfg, 'rope_theta', where, 150000),
      ropeScalingFactor: num(rope, 'factor', where, 1),
      ropeNtkAlpha: num(rope, 'beta_slow', where, 1),
      ropeNtkBeta: num(rope, 'beta_fast', where, 32),
      rmsNormEps: num(cfg, 'rms_norm_eps', where, 1e-5),
      layerSliding: Array.from({ length: numLayers }, (_, i) =>
        layerTypes ? layerTypes[i] === 'sliding_attention' : i % 2 === 0,
      ),
    },
    where,
  );
}

/** Parses the `original/config.json` (the reference's ModelConfig dataclass fields). */
export function parseOriginalConfig(cfg: Json, where: string): ModelConfig {
  const numLayers = num(cfg, 'num_hidden_layers', where);
  return check(
    {
      numLayers,
      numExperts: num(cfg, 'num_experts', where),
      expertsPerToken: num(cfg, 'experts_per_token', where, 4),
      vocabSize: num(cfg, 'vocab_size', where),
      hiddenSize: num(cfg, 'hidden_size', where),
      intermediateSize: num(cfg, 'intermediate_size', where),
      swigluLimit: num(cfg, 'swiglu_limit', where, 7),
      swigluAlpha: 1.702,
      headDim: num(cfg, 'head_dim', where, 64),
      numHeads: num(cfg, 'num_attention_heads', where),
      numKvHeads: num(cfg, 'num_key_value_heads', where),
      slidingWindow: num(cfg, 'sliding_window', where, 128),
      initialContextLength: num(cfg, 'initial_context_length', where, 4096),
      ropeTheta: num(cfg, 'rope_theta', where, 150000),
      ropeScalingFactor: num(cfg, 'rope_scaling_factor', where, 32),
      ropeNtkAlpha: num(cfg, 'rope_ntk_alpha', where, 1),
      ropeNtkBeta: num(cfg, 'rope_ntk_beta', where, 32),
      rmsNormEps: 1e-5,
      layerSliding: Array.from({ length: numLayers }, (_, i) => i % 2 === 0),
    },
    where,
  );
}

/** Renders a config as Hugging Face `config.json` content. */
export function toHfConfig(c: ModelConfig): Json {
  return {
    architectures: ['GptOssForCausalLM'],
    model_type: 'gpt_oss',
    num_hidden_layers: c.numLayers,
    num_local_experts: c.numExperts,
    num_experts_per_tok: c.expertsPerToken,
    experts_per_token: c.expertsPerToken,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    swiglu_limit: c.swigluLimit,
    head_dim: c.headDim,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    sliding_window: c.slidingWindow,
    layer_types: c.layerSliding.map((s) => (s ? 'sliding_attention' : 'full_attention')),
    rope_theta: c.ropeTheta,
    rope_scaling: {
      rope_type: 'yarn',
      factor: c.ropeScalingFactor,
      beta_fast: c.ropeNtkBeta,
      beta_slow: c.ropeNtkAlpha,
      original_max_position_embeddings: c.initialContextLength,
      truncate: false,
    },
    initial_context_length: c.initialContextLength,
    max_position_embeddings: c.initialContextLength * c.ropeScalingFactor,
    rms_norm_eps: c.rmsNormEps,
    attention_bias: true,
    tie_word_embeddings: false,
    hidden_act: 'silu',
    eos_token_id: 200002,
    pad_token_id: 199999,
    torch_dtype: 'bfloat16',
    quantization_config: {
      quant_method: 'mxfp4',
      modules_to_not_convert: [
        'model.layers.*.self_attn',
        'model.layers.*.mlp.router',
        'model.embed_tokens',
        'lm_head',
      ],
    },
  };
}

/** Renders a config as `original/config.json` content. */
export function toOriginalConfig(c: ModelConfig): Json {
  return {
    num_hidden_layers: c.numLayers,
    num_experts: c.numExperts,
    experts_per_token: c.expertsPerToken,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    swiglu_limit: c.swigluLimit,
    head_dim: c.headDim,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    sliding_window: c.slidingWindow,
    initial_context_length: c.initialContextLength,
    rope_theta: c.ropeTheta,
    rope_scaling_factor: c.ropeScalingFactor,
    rope_ntk_alpha: c.ropeNtkAlpha,
    rope_ntk_beta: c.ropeNtkBeta,
  };
}
