import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import type { Checkpoint, TensorRef } from './checkpoint.js';

/**
 * Converts a gpt-oss checkpoint to a GGUF file llama.cpp's `gpt-oss` architecture loads (for the oracle test
 * and the benchmark peer). No npm package writes GGUF, so this is a small writer of GGUF v3.
 */
export interface GgufOptions {
  /** Dense (attention, embeddings, lm_head) weight type: F32 for exact comparisons, BF16 like the checkpoint. */
  dense: 'F32' | 'BF16';
  /** Expert weight type: F32 (exact dequantization; oracle) or MXFP4 (ggml's own block layout). */
  experts: 'F32' | 'MXFP4';
}

const GGML = { F32: 0, BF16: 30, MXFP4: 39 } as const;
type GgmlType = keyof typeof GGML;
const FP4 = [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6];

type Value =
  | { t: 'u32' | 'i32' | 'f32' | 'str' | 'bool'; v: number | string | boolean }
  | { t: 'arr'; el: 'str' | 'i32'; v: (string | number)[] };

class Bytes {
  private parts: Buffer[] = [];
  u32(n: number) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    this.parts.push(b);
  }
  u64(n: number) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    this.parts.push(b);
  }
  str(s: string) {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.parts.push(b);
  }
  value(v: Value) {
    switch (v.t) {
      case 'u32':
        this.u32(4);
        return this.u32(v.v as number);
      case 'i32': {
        this.u32(5);
        const b = Buffer.alloc(4);
        b.writeInt32LE(v.v as number);
        return this.parts.push(b);
      }
      case 'f32': {
        this.u32(6);
        const b = Buffer.alloc(4);
        b.writeFloatLE(v.v as number);
        return this.parts.push(b);
      }
      case 'bool':
        this.u32(7);
        return this.parts.push(Buffer.from([v.v ? 1 : 0]));
      case 'str':
        this.u32(8);
        return this.str(v.v as string);
      case 'arr': {
        this.u32(9);
        this.u32(v.el === 'str' ? 8 : 5);
        this.u64(v.v.length);
        for (const x of v.v) {
          if (v.el === 'str') this.str(x as string);
          else {
            const b = Buffer.alloc(4);
            b.writeInt32LE(x as number);
            this.parts.push(b);
          }
        }
      }
    }
  }
  concat() {
    return Buffer.concat(this.parts);
  }
}

interface OutTensor {
  name: string;
  ne: number[];
  type: GgmlType;
  nbytes: number;
  /** Produces the data in order, in pieces. */
  data: () => Generator<Buffer>;
}

function readRange(ckpt: Checkpoint, t: TensorRef, start: number, length: number): Buffer {
  const fd = openSync(ckpt.files[t.file]!, 'r');
  try {
    const b = Buffer.alloc(length);
    readSync(fd, b, 0, length, t.offset + start);
    return b;
  } finally {
    closeSync(fd);
  }
}

function toF32(src: Buffer, dtype: string): Buffer {
  if (dtype === 'F32') return src;
  const out = Buffer.alloc(src.length * 2);
  for (let i = 0; i < src.length / 2; i++) out.writeUInt32LE((src.readUInt16LE(2 * i) << 16) >>> 0, 4 * i);
  return out;
}

function toBf16(src: Buffer, dtype: string): Buffer {
  if (dtype === 'BF16') return src;
  throw new Error('BF16 GGUF output needs BF16 sources');
}

/** gpt-2 byte-level token strings for ids 0..255. */
function byteTokens(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const map = new Map<number, string>();
  let n = 0;
  for (let b = 0; b < 256; b++)
    map.set(b, keep.includes(b) ? String.fromCodePoint(b) : String.fromCodePoint(256 + n++));
  return Array.from({ length: 256 }, (_, b) => map.get(b)!);
}

/** Writes `ckpt` as a gpt-oss GGUF at `path`. */
export function writeGguf(ckpt: Checkpoint, path: string, opts: GgufOptions): void {
  const c = ckpt.config;
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const E = c.numExperts;
  const tensors: OutTensor[] = [];
  const dense = (name: string, t: TensorRef, ne: number[], type: GgmlType = opts.dense) => {
    const n = ne.reduce((a, b) => a * b, 1);
    tensors.push({
      name,
      ne,
      type,
      nbytes: n * (type === 'F32' ? 4 : 2),
      data: function* () {
        const elBytes = t.dtype === 'F32' ? 4 : 2;
        const step = 1 << 22;
        for (let i = 0; i < n; i += step) {
          const src = readRange(ckpt, t, i * elBytes, Math.min(step, n - i) * elBytes);
          yield type === 'F32' ? toF32(src, t.dtype) : toBf16(src, t.dtype);
        }
      },
    });
  };
  /** Expert rows `rowSel` (all, even or odd) of an MXFP4 [E][rows][K] tensor. */
  const experts = (
    name: string,
    blocks: TensorRef,
    scales: TensorRef,
    rows: number,
    K: number,
    rowSel: 'all' | 'even' | 'odd',
  ) => {
    const outRows = rowSel === 'all' ? rows : rows / 2;
    const nb = K / 32;
    const type: GgmlType = opts.experts;
    const rowBytes = type === 'F32' ? K * 4 : nb * 17;
    tensors.push({
      name,
      ne: [K, outRows, E],
      type,
      nbytes: rowBytes * outRows * E,
      data: function* () {
        for (let e = 0; e < E; e++) {
          const blk = readRange(ckpt, blocks, e * rows * nb * 16, rows * nb * 16);
          const sc = readRange(ckpt, scales, e * rows * nb, rows * nb);
          const out = Buffer.alloc(rowBytes * outRows);
          for (let o = 0; o < outRows; o++) {
            const r = rowSel === 'all' ? o : rowSel === 'even' ? 2 * o : 2 * o + 1;
            const base = r * nb * 16;
            for (let b = 0; b < nb; b++) {
              const s = sc[r * nb + b]!;
              const src = base + b * 16;
              if (type === 'F32') {
                const scale = 2 ** (s - 127);
                for (let j = 0; j < 16; j++) {
                  const byte = blk[src + j]!;
                  out.writeFloatLE(FP4[byte & 15]! * scale, o * rowBytes + (b * 32 + 2 * j) * 4);
                  out.writeFloatLE(FP4[byte >> 4]! * scale, o * rowBytes + (b * 32 + 2 * j + 1) * 4);
                }
              } else {
                // HF: byte j = elements (2j, 2j+1). ggml: byte j = elements (j, j+16).
                const at = o * rowBytes + b * 17;
                out[at] = s;
                for (let j = 0; j < 16; j++) {
                  const lo = (blk[src + (j >> 1)]! >> ((j & 1) * 4)) & 15;
                  const k = j + 16;
                  const hi = (blk[src + (k >> 1)]! >> ((k & 1) * 4)) & 15;
                  out[at + 1 + j] = lo | (hi << 4);
                }
              }
            }
          }
          yield out;
        }
      },
    });
  };
  /** Gate (even) or up (odd) half of the interleaved [E][2I] bias, as F32 [E][I]. */
  const splitBias = (name: string, t: TensorRef, which: 'even' | 'odd') => {
    tensors.push({
      name,
      ne: [I, E],
      type: 'F32',
      nbytes: I * E * 4,
      data: function* () {
        const all = toF32(readRange(ckpt, t, 0, t.nbytes), t.dtype);
        const out = Buffer.alloc(I * E * 4);
        for (let e = 0; e < E; e++)
          for (let i = 0; i < I; i++)
            out.writeFloatLE(
              all.readFloatLE((e * 2 * I + 2 * i + (which === 'odd' ? 1 : 0)) * 4),
              (e * I + i) * 4,
            );
        yield out;
      },
    });
  };
  const T = ckpt.tensors;
  const nq = c.numHeads * c.headDim;
  const nkv = c.numKvHeads * c.headDim;
  dense('token_embd.weight', T.embed, [H, c.vocabSize]);
  for (let n = 0; n < c.numLayers; n++) {
    const L = T.layers[n]!;
    const p = `blk.${n}`;
    dense(`${p}.attn_norm.weight`, L.attnNorm, [H], 'F32');
    dense(`${p}.attn_q.weight`, L.qW, [H, nq]);
    dense(`${p}.attn_q.bias`, L.qB, [nq], 'F32');
    dense(`${p}.attn_k.weight`, L.kW, [H, nkv]);
    dense(`${p}.attn_k.bias`, L.kB, [nkv], 'F32');
    dense(`${p}.attn_v.weight`, L.vW, [H, nkv]);
    dense(`${p}.attn_v.bias`, L.vB, [nkv], 'F32');
    dense(`${p}.attn_output.weight`, L.oW, [nq, H]);
    dense(`${p}.attn_output.bias`, L.oB, [H], 'F32');
    dense(`${p}.attn_sinks.weight`, L.sinks, [c.numHeads], 'F32');
    dense(`${p}.post_attention_norm.weight`, L.mlpNorm, [H], 'F32');
    dense(`${p}.ffn_gate_inp.weight`, L.routerW, [H, E], 'F32');
    dense(`${p}.ffn_gate_inp.bias`, L.routerB, [E], 'F32');
    experts(`${p}.ffn_gate_exps.weight`, L.mlp1Blocks, L.mlp1Scales, 2 * I, H, 'even');
    experts(`${p}.ffn_up_exps.weight`, L.mlp1Blocks, L.mlp1Scales, 2 * I, H, 'odd');
    experts(`${p}.ffn_down_exps.weight`, L.mlp2Blocks, L.mlp2Scales, H, I, 'all');
    splitBias(`${p}.ffn_gate_exps.bias`, L.mlp1Bias, 'even');
    splitBias(`${p}.ffn_up_exps.bias`, L.mlp1Bias, 'odd');
    dense(`${p}.ffn_down_exps.bias`, L.mlp2Bias, [H, E], 'F32');
  }
  dense('output_norm.weight', T.norm, [H], 'F32');
  dense('output.weight', T.unembed, [H, c.vocabSize]);

  const bytes = byteTokens();
  const tokens = Array.from({ length: c.vocabSize }, (_, i) => (i < 256 ? bytes[i]! : `<|reserved_${i}|>`));
  const types = Array.from({ length: c.vocabSize }, (_, i) => (i < 256 ? 1 : 3));
  const a = 'gpt-oss';
  const kv: [string, Value][] = [
    ['general.architecture', { t: 'str', v: a }],
    ['general.name', { t: 'str', v: 'harmonia synthetic gpt-oss' }],
    ['general.alignment', { t: 'u32', v: 32 }],
    [`${a}.context_length`, { t: 'u32', v: c.initialContextLength * c.ropeScalingFactor }],
    [`${a}.embedding_length`, { t: 'u32', v: H }],
    [`${a}.block_count`, { t: 'u32', v: c.numLayers }],
    [`${a}.feed_forward_length`, { t: 'u32', v: I }],
    [`${a}.expert_feed_forward_length`, { t: 'u32', v: I }],
    [`${a}.expert_count`, { t: 'u32', v: E }],
    [`${a}.expert_used_count`, { t: 'u32', v: c.expertsPerToken }],
    [`${a}.attention.head_count`, { t: 'u32', v: c.numHeads }],
    [`${a}.attention.head_count_kv`, { t: 'u32', v: c.numKvHeads }],
    [`${a}.attention.key_length`, { t: 'u32', v: c.headDim }],
    [`${a}.attention.value_length`, { t: 'u32', v: c.headDim }],
    [`${a}.attention.layer_norm_rms_epsilon`, { t: 'f32', v: c.rmsNormEps }],
    [`${a}.attention.sliding_window`, { t: 'u32', v: c.slidingWindow }],
    [`${a}.rope.dimension_count`, { t: 'u32', v: c.headDim }],
    [`${a}.rope.freq_base`, { t: 'f32', v: c.ropeTheta }],
    [`${a}.rope.scaling.type`, { t: 'str', v: 'yarn' }],
    [`${a}.rope.scaling.factor`, { t: 'f32', v: c.ropeScalingFactor }],
    [`${a}.rope.scaling.original_context_length`, { t: 'u32', v: c.initialContextLength }],
    ['tokenizer.ggml.model', { t: 'str', v: 'gpt2' }],
    ['tokenizer.ggml.pre', { t: 'str', v: 'gpt-4o' }],
    ['tokenizer.ggml.tokens', { t: 'arr', el: 'str', v: tokens }],
    ['tokenizer.ggml.token_type', { t: 'arr', el: 'i32', v: types }],
    ['tokenizer.ggml.merges', { t: 'arr', el: 'str', v: [] }],
    ['tokenizer.ggml.bos_token_id', { t: 'u32', v: c.vocabSize - 2 }],
    ['tokenizer.ggml.eos_token_id', { t: 'u32', v: c.vocabSize - 1 }],
  ];
  const align = (n: number) => Math.ceil(n / 32) * 32;
  const head = new Bytes();
  head.u32(0x46554747); // "GGUF"
  head.u32(3);
  head.u64(tensors.length);
  head.u64(kv.length);
  for (const [k, v] of kv) {
    head.str(k);
    head.value(v);
  }
  let offset = 0;
  for (const t of tensors) {
    head.str(t.name);
    head.u32(t.ne.length);
    for (const d of t.ne) head.u64(d);
    head.u32(GGML[t.type]);
    head.u64(offset);
    offset = align(offset + t.nbytes);
  }
  const header = head.concat();
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header);
    writeSync(fd, Buffer.alloc(align(header.length) - header.length));
    for (const t of tensors) {
      let written = 0;
      for (const piece of t.data()) {
        writeSync(fd, piece);
        written += piece.length;
      }
      if (written !== t.nbytes)
        throw new Error(`gguf: ${t.name} wrote ${written} bytes, expected ${t.nbytes}`);
      writeSync(fd, Buffer.alloc(align(written) - written));
    }
  } finally {
    closeSync(fd);
  }
}
