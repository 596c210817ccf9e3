import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ModelConfig, parseHfConfig, parseOriginalConfig } from './config.js';
import { CheckpointError } from './errors.js';
import { type DType, readSafetensorsHeader, type SafetensorsEntry } from './safetensors.js';

export type CheckpointLayout = 'hf' | 'original';

/** One tensor (or a row slice of one) the engine reads: which file, where, which type. */
export interface TensorRef {
  name: string;
  file: number;
  offset: number;
  nbytes: number;
  dtype: DType;
  shape: number[];
}

export interface LayerRefs {
  attnNorm: TensorRef;
  qW: TensorRef;
  qB: TensorRef;
  kW: TensorRef;
  kB: TensorRef;
  vW: TensorRef;
  vB: TensorRef;
  oW: TensorRef;
  oB: TensorRef;
  sinks: TensorRef;
  mlpNorm: TensorRef;
  routerW: TensorRef;
  routerB: TensorRef;
  mlp1Blocks: TensorRef;
  mlp1Scales: TensorRef;
  mlp1Bias: TensorRef;
  mlp2Blocks: TensorRef;
  mlp2Scales: TensorRef;
  mlp2Bias: TensorRef;
}

export interface CheckpointTensors {
  embed: TensorRef;
  norm: TensorRef;
  unembed: TensorRef;
  layers: LayerRefs[];
}

export interface Checkpoint {
  dir: string;
  layout: CheckpointLayout;
  config: ModelConfig;
  files: string[];
  tensors: CheckpointTensors;
}

function readJson(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new CheckpointError(`missing file: ${path}`, 'missing_file');
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError(`${path}: not valid JSON (${(e as Error).message})`, 'bad_config');
  }
}

function detectLayout(dir: string): { layout: CheckpointLayout; root: string } {
  if (!existsSync(dir)) throw new CheckpointError(`missing checkpoint directory: ${dir}`, 'missing_file');
  const cfgPath = join(dir, 'config.json');
  if (existsSync(cfgPath)) {
    const cfg = readJson(cfgPath);
    if ('num_experts' in cfg && !('num_local_experts' in cfg)) return { layout: 'original', root: dir };
    const hasHfWeights = readdirSync(dir).some((f) => f.endsWith('.safetensors'));
    if (hasHfWeights || !existsSync(join(dir, 'original', 'config.json'))) return { layout: 'hf', root: dir };
  }
  if (existsSync(join(dir, 'original', 'config.json')))
    return { layout: 'original', root: join(dir, 'original') };
  throw new CheckpointError(
    `missing file: ${cfgPath} (a gpt-oss checkpoint has config.json + model-*.safetensors, or original/config.json)`,
    'missing_file',
  );
}

function listWeightFiles(root: string, layout: CheckpointLayout): string[] {
  const index = join(root, 'model.safetensors.index.json');
  if (layout === 'hf' && existsSync(index)) {
    const map = (readJson(index).weight_map ?? {}) as Record<string, string>;
    const files = [...new Set(Object.values(map))].sort();
    for (const f of files)
      if (!existsSync(join(root, f)))
        throw new CheckpointError(
          `missing file: ${join(root, f)} (listed in model.safetensors.index.json)`,
          'missing_file',
        );
    return files.map((f) => join(root, f));
  }
  const files = readdirSync(root)
    .filter((f) => f.endsWith('.safetensors'))
    .sort();
  if (files.length === 0)
    throw new CheckpointError(`missing file: no *.safetensors in ${root}`, 'missing_file');
  return files.map((f) => join(root, f));
}

/** Opens a checkpoint directory: reads config and headers, checks every tensor's shape and dtype. */
export function openCheckpoint(dir: string, opts: { layout?: CheckpointLayout } = {}): Checkpoint {
  const detected = detectLayout(dir);
  const layout = opts.layout ?? detected.layout;
  const root =
    layout === detected.layout ? detected.root : layout === 'original' ? join(dir, 'original') : dir;
  const cfgPath = join(root, 'config.json');
  const config =
    layout === 'hf'
      ? parseHfConfig(readJson(cfgPath), cfgPath)
      : parseOriginalConfig(readJson(cfgPath), cfgPath);
  const files = listWeightFiles(root, layout);
  const byName = new Map<string, { entry: SafetensorsEntry; file: number }>();
  files.forEach((f, i) => {
    for (const [name, entry] of readSafetensorsHeader(f).tensors) byName.set(name, { entry, file: i });
  });

  const c = config;
  const H = c.hiddenSize;
  const E = c.numExperts;
  const I = c.intermediateSize;
  const nq = c.numHeads * c.headDim;
  const nkv = c.numKvHeads * c.headDim;

  const get = (name: string, shape: number[], dtypes: DType[]): TensorRef => {
    const hit = byName.get(name);
    if (!hit) throw new CheckpointError(`missing tensor ${name} in ${root}`, 'missing_tensor');
    const { entry, file } = hit;
    if (!dtypes.includes(entry.dtype))
      throw new CheckpointError(
        `${files[file]}: tensor ${name} has dtype ${entry.dtype}, expected ${dtypes.join(' or ')}`,
        'unknown_dtype',
      );
    if (entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i]))
      throw new CheckpointError(
        `${files[file]}: tensor ${name} has shape [${entry.shape.join(', ')}], expected [${shape.join(', ')}]`,
        'wrong_shape',
      );
    return { name, file, offset: entry.offset, nbytes: entry.nbytes, dtype: entry.dtype, shape };
  };
  const rows = (t: TensorRef, start: number, count: number): TensorRef => {
    const rowBytes = t.nbytes / t.shape[0]!;
    return {
      ...t,
      name: `${t.name}[${start}:${start + count}]`,
      offset: t.offset + start * rowBytes,
      nbytes: count * rowBytes,
      shape: [count, ...t.shape.slice(1)],
    };
  };
  const small: DType[] = ['BF16', 'F32'];
  const mat: DType[] = ['BF16'];
  const u8: DType[] = ['U8'];

  const layers: LayerRefs[] = [];
  let tensors: CheckpointTensors;
  if (layout === 'hf') {
    for (let n = 0; n < c.numLayers; n++) {
      const p = `model.layers.${n}`;
      layers.push({
        attnNorm: get(`${p}.input_layernorm.weight`, [H], small),
        qW: get(`${p}.self_attn.q_proj.weight`, [nq, H], mat),
        qB: get(`${p}.self_attn.q_proj.bias`, [nq], small),
        kW: get(`${p}.self_attn.k_proj.weight`, [nkv, H], mat),
        kB: get(`${p}.self_attn.k_proj.bias`, [nkv], small),
        vW: get(`${p}.self_attn.v_proj.weight`, [nkv, H], mat),
        vB: get(`${p}.self_attn.v_proj.bias`, [nkv], small),
        oW: get(`${p}.self_attn.o_proj.weight`, [H, nq], mat),
        oB: get(`${p}.self_attn.o_proj.bias`, [H], small),
        sinks: get(`${p}.self_attn.sinks`, [c.numHeads], small),
        mlpNorm: get(`${p}.post_attention_layernorm.weight`, [H], small),
        routerW: get(`${p}.mlp.router.weight`, [E, H], small),
        routerB: get(`${p}.mlp.router.bias`, [E], small),
        mlp1Blocks: get(`${p}.mlp.experts.gate_up_proj_blocks`, [E, 2 * I, H / 32, 16], u8),
        mlp1Scales: get(`${p}.mlp.experts.gate_up_proj_scales`, [E, 2 * I, H / 32], u8),
        mlp1Bias: get(`${p}.mlp.experts.gate_up_proj_bias`, [E, 2 * I], small),
        mlp2Blocks: get(`${p}.mlp.experts.down_proj_blocks`, [E, H, I / 32, 16], u8),
        mlp2Scales: get(`${p}.mlp.experts.down_proj_scales`, [E, H, I / 32], u8),
        mlp2Bias: get(`${p}.mlp.experts.down_proj_bias`, [E, H], small),
      });
    }
    tensors = {
      embed: get('model.embed_tokens.weight', [c.vocabSize, H], mat),
      norm: get('model.norm.weight', [H], small),
      unembed: get('lm_head.weight', [c.vocabSize, H], mat),
      layers,
    };
  } else {
    for (let n = 0; n < c.numLayers; n++) {
      const p = `block.${n}`;
      const qkvW = get(`${p}.attn.qkv.weight`, [nq + 2 * nkv, H], mat);
      const qkvB = get(`${p}.attn.qkv.bias`, [nq + 2 * nkv], small);
      layers.push({
        attnNorm: get(`${p}.attn.norm.scale`, [H], small),
        qW: rows(qkvW, 0, nq),
        qB: rows(qkvB, 0, nq),
        kW: rows(qkvW, nq, nkv),
        kB: rows(qkvB, nq, nkv),
        vW: rows(qkvW, nq + nkv, nkv),
        vB: rows(qkvB, nq + nkv, nkv),
        oW: get(`${p}.attn.out.weight`, [H, nq], mat),
        oB: get(`${p}.attn.out.bias`, [H], small),
        sinks: get(`${p}.attn.sinks`, [c.numHeads], small),
        mlpNorm: get(`${p}.mlp.norm.scale`, [H], small),
        routerW: get(`${p}.mlp.gate.weight`, [E, H], small),
        routerB: get(`${p}.mlp.gate.bias`, [E], small),
        mlp1Blocks: get(`${p}.mlp.mlp1_weight.blocks`, [E, 2 * I, H / 32, 16], u8),
        mlp1Scales: get(`${p}.mlp.mlp1_weight.scales`, [E, 2 * I, H / 32], u8),
        mlp1Bias: get(`${p}.mlp.mlp1_bias`, [E, 2 * I], small),
        mlp2Blocks: get(`${p}.mlp.mlp2_weight.blocks`, [E, H, I / 32, 16], u8),
        mlp2Scales: get(`${p}.mlp.mlp2_weight.scales`, [E, H, I / 32], u8),
        mlp2Bias: get(`${p}.mlp.mlp2_bias`, [E, H], small),
      });
    }
    tensors = {
      embed: get('embedding.weight', [c.vocabSize, H], mat),
      norm: get('norm.scale', [H], small),
      unembed: get('unembedding.weight', [c.vocabSize, H], mat),
      layers,
    };
  }
  return { dir, layout, config, files, tensors };
}
