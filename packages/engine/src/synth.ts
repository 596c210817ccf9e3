import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type ModelConfig, toHfConfig, toOriginalConfig } from './config.js';
import { buildSafetensorsHeader, DTYPE_BYTES, type DType } from './safetensors.js';

/** Random-weight checkpoints with the real gpt-oss tensor names, shapes, dtypes and MXFP4 packing. */
export type SynthPreset = 'tiny' | '20b';

export interface SynthOptions {
  out: string;
  preset: SynthPreset;
  layers?: number;
  seed?: number;
  /** `hf` (default): config.json + model-*.safetensors; `original`: original/; `both`. */
  layout?: 'hf' | 'original' | 'both';
  /** Start a new HF shard once a shard holds this many bytes (default 4 GiB). */
  shardBytes?: number;
  /** Dimension overrides on top of the preset (tests use a wider `tiny` to reach the kernels' K-blocking). */
  overrides?: Partial<Pick<ModelConfig, 'hiddenSize' | 'intermediateSize' | 'numExperts' | 'vocabSize'>>;
}

export function presetConfig(preset: SynthPreset, layers?: number): ModelConfig {
  const base =
    preset === 'tiny'
      ? {
          numLayers: 4,
          numExperts: 8,
          vocabSize: 256,
          hiddenSize: 128,
          intermediateSize: 128,
          numHeads: 4,
          numKvHeads: 2,
          slidingWindow: 4,
        }
      : {
          numLayers: 24,
          numExperts: 32,
          vocabSize: 201088,
          hiddenSize: 2880,
          intermediateSize: 2880,
          numHeads: 64,
          numKvHeads: 8,
          slidingWindow: 128,
        };
  const numLayers = layers ?? base.numLayers;
  return {
    ...base,
    numLayers,
    expertsPerToken: 4,
    swigluLimit: 7,
    swigluAlpha: 1.702,
    headDim: 64,
    initialContextLength: 4096,
    ropeTheta: 150000,
    ropeScalingFactor: 32,
    ropeNtkAlpha: 1,
    ropeNtkBeta: 32,
    rmsNormEps: 1e-5,
    layerSliding: Array.from({ length: numLayers }, (_, i) => i % 2 === 0),
  };
}

/** How one piece of a tensor is filled. Pieces are seeded by name, so both layouts hold identical values. */
type Fill =
  | { kind: 'uniform'; lo: number; hi: number; count: number }
  | { kind: 'bytes'; count: number }
  | { kind: 'byteRange'; lo: number; hi: number; count: number };
interface Part {
  id: string;
  fill: Fill;
}
interface TensorPlan {
  name: string;
  dtype: DType;
  shape: number[];
  parts: Part[];
}

function hashSeed(seed: number, id: string): number {
  let h = (2166136261 ^ seed) >>> 0;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619) >>> 0;
  return h || 1;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** float -> bf16 bits, round to nearest even. */
export function toBf16(v: number): number {
  f32[0] = v;
  const b = u32[0]!;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Streams one part's bytes in chunks of at most `chunk` elements. */
function* partBytes(seed: number, part: Part, dtype: DType): Generator<Buffer> {
  let s = hashSeed(seed, part.id);
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  const { fill } = part;
  const chunk = 1 << 20;
  for (let done = 0; done < fill.count; done += chunk) {
    const n = Math.min(chunk, fill.count - done);
    if (fill.kind === 'uniform') {
      if (dtype !== 'BF16') throw new Error('uniform fill is written as bf16');
      const out = new Uint16Array(n);
      const span = fill.hi - fill.lo;
      for (let i = 0; i < n; i++) out[i] = toBf16(fill.lo + (next() / 4294967296) * span);
      yield Buffer.from(out.buffer);
    } else if (fill.kind === 'bytes') {
      const words = new Uint32Array(Math.ceil(n / 4));
      for (let i = 0; i < words.length; i++) words[i] = next();
      yield Buffer.from(words.buffer, 0, n);
    } else {
      const out = Buffer.alloc(n);
      const span = fill.hi - fill.lo + 1;
      for (let i = 0; i < n; i++) out[i] = fill.lo + (next() % span);
      yield out;
    }
  }
}

function plan(c: ModelConfig, layout: 'hf' | 'original'): TensorPlan[] {
  const H = c.hiddenSize;
  const E = c.numExperts;
  const I = c.intermediateSize;
  const nq = c.numHeads * c.headDim;
  const nkv = c.numKvHeads * c.headDim;
  const a = 1.7 / Math.sqrt(H);
  const u = (id: string, count: number, lo: number, hi: number): Part => ({
    id,
    fill: { kind: 'uniform', lo, hi, count },
  });
  // E8M0 scales chosen so an MXFP4 row times a unit-RMS input lands near 1-3: the SwiGLU clamp at 7 is hit.
  const scaleByte = (K: number) => Math.round(127 - Math.log2(1.45 * Math.sqrt(K)));
  const blocks = (id: string, count: number): Part => ({ id, fill: { kind: 'bytes', count } });
  const scales = (id: string, count: number, K: number): Part => ({
    id,
    fill: { kind: 'byteRange', lo: scaleByte(K) - 1, hi: scaleByte(K) + 1, count },
  });
  const t = (name: string, dtype: DType, shape: number[], parts: Part[]): TensorPlan => ({
    name,
    dtype,
    shape,
    parts,
  });
  const hf = layout === 'hf';
  const out: TensorPlan[] = [
    t(
      hf ? 'model.embed_tokens.weight' : 'embedding.weight',
      'BF16',
      [c.vocabSize, H],
      [u('embed', c.vocabSize * H, -1, 1)],
    ),
  ];
  for (let n = 0; n < c.numLayers; n++) {
    const id = (s: string) => `L${n}.${s}`;
    const qW = u(id('qW'), nq * H, -a, a);
    const kW = u(id('kW'), nkv * H, -a, a);
    const vW = u(id('vW'), nkv * H, -a, a);
    const qB = u(id('qB'), nq, -0.1, 0.1);
    const kB = u(id('kB'), nkv, -0.1, 0.1);
    const vB = u(id('vB'), nkv, -0.1, 0.1);
    const attnNorm = u(id('attnNorm'), H, 0.8, 1.2);
    const oW = u(id('oW'), H * nq, -1.7 / Math.sqrt(nq), 1.7 / Math.sqrt(nq));
    const oB = u(id('oB'), H, -0.1, 0.1);
    const sinks = u(id('sinks'), c.numHeads, -1, 1);
    const mlpNorm = u(id('mlpNorm'), H, 0.8, 1.2);
    const rW = u(id('routerW'), E * H, -a, a);
    const rB = u(id('routerB'), E, -0.5, 0.5);
    const b1 = blocks(id('mlp1Blocks'), E * 2 * I * (H / 32) * 16);
    const s1 = scales(id('mlp1Scales'), E * 2 * I * (H / 32), H);
    const bias1 = u(id('mlp1Bias'), E * 2 * I, -1, 1);
    const b2 = blocks(id('mlp2Blocks'), E * H * (I / 32) * 16);
    const s2 = scales(id('mlp2Scales'), E * H * (I / 32), I);
    const bias2 = u(id('mlp2Bias'), E * H, -0.1, 0.1);
    if (hf) {
      const p = `model.layers.${n}`;
      out.push(
        t(`${p}.input_layernorm.weight`, 'BF16', [H], [attnNorm]),
        t(`${p}.self_attn.q_proj.weight`, 'BF16', [nq, H], [qW]),
        t(`${p}.self_attn.q_proj.bias`, 'BF16', [nq], [qB]),
        t(`${p}.self_attn.k_proj.weight`, 'BF16', [nkv, H], [kW]),
        t(`${p}.self_attn.k_proj.bias`, 'BF16', [nkv], [kB]),
        t(`${p}.self_attn.v_proj.weight`, 'BF16', [nkv, H], [vW]),
        t(`${p}.self_attn.v_proj.bias`, 'BF16', [nkv], [vB]),
        t(`${p}.self_attn.o_proj.weight`, 'BF16', [H, nq], [oW]),
        t(`${p}.self_attn.o_proj.bias`, 'BF16', [H], [oB]),
        t(`${p}.self_attn.sinks`, 'BF16', [c.numHeads], [sinks]),
        t(`${p}.post_attention_layernorm.weight`, 'BF16', [H], [mlpNorm]),
        t(`${p}.mlp.router.weight`, 'BF16', [E, H], [rW]),
        t(`${p}.mlp.router.bias`, 'BF16', [E], [rB]),
        t(`${p}.mlp.experts.gate_up_proj_blocks`, 'U8', [E, 2 * I, H / 32, 16], [b1]),
        t(`${p}.mlp.experts.gate_up_proj_scales`, 'U8', [E, 2 * I, H / 32], [s1]),
        t(`${p}.mlp.experts.gate_up_proj_bias`, 'BF16', [E, 2 * I], [bias1]),
        t(`${p}.mlp.experts.down_proj_blocks`, 'U8', [E, H, I / 32, 16], [b2]),
        t(`${p}.mlp.experts.down_proj_scales`, 'U8', [E, H, I / 32], [s2]),
        t(`${p}.mlp.experts.down_proj_bias`, 'BF16', [E, H], [bias2]),
      );
    } else {
      const p = `block.${n}`;
      out.push(
        t(`${p}.attn.norm.scale`, 'BF16', [H], [attnNorm]),
        t(`${p}.attn.qkv.weight`, 'BF16', [nq + 2 * nkv, H], [qW, kW, vW]),
        t(`${p}.attn.qkv.bias`, 'BF16', [nq + 2 * nkv], [qB, kB, vB]),
        t(`${p}.attn.sinks`, 'BF16', [c.numHeads], [sinks]),
        t(`${p}.attn.out.weight`, 'BF16', [H, nq], [oW]),
        t(`${p}.attn.out.bias`, 'BF16', [H], [oB]),
        t(`${p}.mlp.norm.scale`, 'BF16', [H], [mlpNorm]),
        t(`${p}.mlp.gate.weight`, 'BF16', [E, H], [rW]),
        t(`${p}.mlp.gate.bias`, 'BF16', [E], [rB]),
        t(`${p}.mlp.mlp1_weight.blocks`, 'U8', [E, 2 * I, H / 32, 16], [b1]),
        t(`${p}.mlp.mlp1_weight.scales`, 'U8', [E, 2 * I, H / 32], [s1]),
        t(`${p}.mlp.mlp1_bias`, 'BF16', [E, 2 * I], [bias1]),
        t(`${p}.mlp.mlp2_weight.blocks`, 'U8', [E, H, I / 32, 16], [b2]),
        t(`${p}.mlp.mlp2_weight.scales`, 'U8', [E, H, I / 32], [s2]),
        t(`${p}.mlp.mlp2_bias`, 'BF16', [E, H], [bias2]),
      );
    }
  }
  out.push(
    t(hf ? 'model.norm.weight' : 'norm.scale', 'BF16', [H], [u('norm', H, 0.8, 1.2)]),
    t(
      hf ? 'lm_head.weight' : 'unembedding.weight',
      'BF16',
      [c.vocabSize, H],
      [u('unembed', c.vocabSize * H, -a, a)],
    ),
  );
  return out;
}

const bytesOf = (t: TensorPlan) => t.shape.reduce((x, d) => x * d, 1) * DTYPE_BYTES[t.dtype];

function writeShard(path: string, tensors: TensorPlan[], seed: number): void {
  const { header } = buildSafetensorsHeader(tensors);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header);
    for (const t of tensors)
      for (const part of t.parts) for (const buf of partBytes(seed, part, t.dtype)) writeSync(fd, buf);
  } finally {
    closeSync(fd);
  }
}

/** Writes a synthetic checkpoint; returns the config and the files written. */
export function writeSyntheticCheckpoint(opts: SynthOptions): { config: ModelConfig; files: string[] } {
  const config = { ...presetConfig(opts.preset, opts.layers), ...opts.overrides };
  const seed = opts.seed ?? 1;
  const layout = opts.layout ?? 'hf';
  const files: string[] = [];
  mkdirSync(opts.out, { recursive: true });
  if (layout === 'hf' || layout === 'both') {
    const tensors = plan(config, 'hf');
    const limit = opts.shardBytes ?? 4 * 1024 ** 3;
    const shards: TensorPlan[][] = [[]];
    let size = 0;
    for (const t of tensors) {
      if (size > 0 && size + bytesOf(t) > limit) {
        shards.push([]);
        size = 0;
      }
      shards[shards.length - 1]!.push(t);
      size += bytesOf(t);
    }
    const pad = (i: number) => String(i).padStart(5, '0');
    const weightMap: Record<string, string> = {};
    shards.forEach((shard, i) => {
      const name = `model-${pad(i)}-of-${pad(shards.length)}.safetensors`;
      writeShard(join(opts.out, name), shard, seed);
      for (const t of shard) weightMap[t.name] = name;
      files.push(join(opts.out, name));
    });
    const total = tensors.reduce((x, t) => x + bytesOf(t), 0);
    writeFileSync(
      join(opts.out, 'model.safetensors.index.json'),
      `${JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2)}\n`,
    );
    writeFileSync(join(opts.out, 'config.json'), `${JSON.stringify(toHfConfig(config), null, 2)}\n`);
  }
  if (layout === 'original' || layout === 'both') {
    const dir = join(opts.out, 'original');
    mkdirSync(dir, { recursive: true });
    writeShard(join(dir, 'model.safetensors'), plan(config, 'original'), seed);
    writeFileSync(join(dir, 'config.json'), `${JSON.stringify(toOriginalConfig(config), null, 2)}\n`);
    files.push(join(dir, 'model.safetensors'));
  }
  return { config, files };
}
