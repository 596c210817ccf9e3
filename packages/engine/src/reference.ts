import { closeSync, openSync, readSync } from 'node:fs';
import type { Checkpoint, TensorRef } from './checkpoint.js';

/**
 * A float64 forward pass written from the gpt-oss reference (gpt_oss/torch/model.py), for tests on tiny
 * checkpoints. Slow and simple on purpose: no cache, no batching, weights fully dequantized.
 */

export const FP4_VALUES = [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6];

function readBytes(ckpt: Checkpoint, t: TensorRef): Buffer {
  const fd = openSync(ckpt.files[t.file]!, 'r');
  try {
    const b = Buffer.alloc(t.nbytes);
    readSync(fd, b, 0, t.nbytes, t.offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

export function readF64(ckpt: Checkpoint, t: TensorRef): Float64Array {
  const b = readBytes(ckpt, t);
  if (t.dtype === 'F32') return Float64Array.from({ length: b.length / 4 }, (_, i) => b.readFloatLE(4 * i));
  if (t.dtype !== 'BF16') throw new Error(`reference: cannot read ${t.dtype} as float`);
  const tmp = Buffer.alloc(4);
  return Float64Array.from({ length: b.length / 2 }, (_, i) => {
    tmp.writeUInt16LE(0, 0);
    tmp.writeUInt16LE(b.readUInt16LE(2 * i), 2);
    return tmp.readFloatLE(0);
  });
}

/** MXFP4 blocks + E8M0 scales -> dense [rows][K] values (low nibble = even element, scale 2^(s-127)). */
export function dequantMxfp4(blocks: Uint8Array, scales: Uint8Array, rows: number, K: number): Float64Array {
  const out = new Float64Array(rows * K);
  const nb = K / 32;
  for (let r = 0; r < rows; r++)
    for (let b = 0; b < nb; b++) {
      const s = 2 ** (scales[r * nb + b]! - 127);
      for (let j = 0; j < 16; j++) {
        const byte = blocks[(r * nb + b) * 16 + j]!;
        out[r * K + b * 32 + 2 * j] = FP4_VALUES[byte & 15]! * s;
        out[r * K + b * 32 + 2 * j + 1] = FP4_VALUES[byte >> 4]! * s;
      }
    }
  return out;
}

/** YaRN inverse frequencies and concentration; `llama.cpp` floors/ceils the correction range. */
export function yarnTable(
  ckpt: Checkpoint,
  mode: 'reference' | 'llama.cpp',
): { invFreq: number[]; concentration: number } {
  const c = ckpt.config;
  const half = c.headDim / 2;
  let low = (half * Math.log(c.initialContextLength / (c.ropeNtkBeta * 2 * Math.PI))) / Math.log(c.ropeTheta);
  let high =
    (half * Math.log(c.initialContextLength / (c.ropeNtkAlpha * 2 * Math.PI))) / Math.log(c.ropeTheta);
  if (mode === 'llama.cpp') {
    low = Math.max(0, Math.floor(low));
    high = Math.min(c.headDim - 1, Math.ceil(high));
  }
  const invFreq: number[] = [];
  for (let i = 0; i < half; i++) {
    const extrap = 1 / c.ropeTheta ** ((2 * i) / c.headDim);
    if (c.ropeScalingFactor <= 1) {
      invFreq.push(extrap);
      continue;
    }
    const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
    invFreq.push((extrap / c.ropeScalingFactor) * ramp + extrap * (1 - ramp));
  }
  const concentration = c.ropeScalingFactor > 1 ? 0.1 * Math.log(c.ropeScalingFactor) + 1 : 1;
  return { invFreq, concentration };
}

function matvec(
  W: Float64Array,
  rows: number,
  K: number,
  x: Float64Array,
  bias?: Float64Array,
): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = bias ? bias[r]! : 0;
    for (let k = 0; k < K; k++) s += W[r * K + k]! * x[k]!;
    y[r] = s;
  }
  return y;
}

function rmsnorm(x: Float64Array, g: Float64Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const r = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * r * g[i]!);
}

/** Logits (one full-vocabulary row per position) for `tokens`, in float64. */
export function referenceLogits(
  ckpt: Checkpoint,
  tokens: number[],
  opts: { yarn?: 'reference' | 'llama.cpp'; stats?: { clamped: number } } = {},
): number[][] {
  const c = ckpt.config;
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const hd = c.headDim;
  const nq = c.numHeads * hd;
  const nkv = c.numKvHeads * hd;
  const qpk = c.numHeads / c.numKvHeads;
  const { invFreq, concentration } = yarnTable(ckpt, opts.yarn ?? 'reference');
  const rope = (v: Float64Array, heads: number, pos: number) => {
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < hd / 2; i++) {
        const a = v[h * hd + i]!;
        const b = v[h * hd + i + hd / 2]!;
        const cs = Math.cos(pos * invFreq[i]!) * concentration;
        const sn = Math.sin(pos * invFreq[i]!) * concentration;
        v[h * hd + i] = a * cs - b * sn;
        v[h * hd + i + hd / 2] = b * cs + a * sn;
      }
  };
  const embed = readF64(ckpt, ckpt.tensors.embed);
  let xs = tokens.map((t) => embed.slice(t * H, (t + 1) * H));
  for (let l = 0; l < c.numLayers; l++) {
    const L = ckpt.tensors.layers[l]!;
    const w = (t: TensorRef) => readF64(ckpt, t);
    const [attnNorm, qW, qB, kW, kB, vW, vB, oW, oB, sinks] = [
      L.attnNorm,
      L.qW,
      L.qB,
      L.kW,
      L.kB,
      L.vW,
      L.vB,
      L.oW,
      L.oB,
      L.sinks,
    ].map(w) as Float64Array[];
    const qs: Float64Array[] = [];
    const ks: Float64Array[] = [];
    const vs: Float64Array[] = [];
    xs.forEach((x, t) => {
      const xn = rmsnorm(x, attnNorm!, c.rmsNormEps);
      const q = matvec(qW!, nq, H, xn, qB);
      const k = matvec(kW!, nkv, H, xn, kB);
      rope(q, c.numHeads, t);
      rope(k, c.numKvHeads, t);
      qs.push(q);
      ks.push(k);
      vs.push(matvec(vW!, nkv, H, xn, vB));
    });
    const window = c.layerSliding[l] ? c.slidingWindow : 0;
    xs = xs.map((x, t) => {
      const att = new Float64Array(nq);
      for (let h = 0; h < c.numHeads; h++) {
        const g = Math.floor(h / qpk);
        const keys: number[] = [];
        for (let j = 0; j <= t; j++) if (window === 0 || t - j < window) keys.push(j);
        const scores = keys.map((j) => {
          let s = 0;
          for (let d = 0; d < hd; d++) s += qs[t]![h * hd + d]! * ks[j]![g * hd + d]!;
          return s / Math.sqrt(hd);
        });
        const m = Math.max(sinks![h]!, ...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const denom = e.reduce((a, b) => a + b, Math.exp(sinks![h]! - m));
        keys.forEach((j, idx) => {
          for (let d = 0; d < hd; d++) att[h * hd + d]! += (e[idx]! / denom) * vs[j]![g * hd + d]!;
        });
      }
      const o = matvec(oW!, H, nq, att, oB);
      return x.map((v, i) => v + o[i]!);
    });
    // MoE
    const mlpNorm = w(L.mlpNorm);
    const routerW = w(L.routerW);
    const routerB = w(L.routerB);
    const b1 = w(L.mlp1Bias);
    const b2 = w(L.mlp2Bias);
    const blocks1 = new Uint8Array(readBytes(ckpt, L.mlp1Blocks));
    const scales1 = new Uint8Array(readBytes(ckpt, L.mlp1Scales));
    const blocks2 = new Uint8Array(readBytes(ckpt, L.mlp2Blocks));
    const scales2 = new Uint8Array(readBytes(ckpt, L.mlp2Scales));
    const W1: Float64Array[] = [];
    const W2: Float64Array[] = [];
    const bpe1 = 2 * I * (H / 32);
    const bpe2 = H * (I / 32);
    for (let e = 0; e < c.numExperts; e++) {
      W1.push(dequantMxfp4(blocks1.subarray(e * bpe1 * 16), scales1.subarray(e * bpe1), 2 * I, H));
      W2.push(dequantMxfp4(blocks2.subarray(e * bpe2 * 16), scales2.subarray(e * bpe2), H, I));
    }
    xs = xs.map((x) => {
      const xn = rmsnorm(x, mlpNorm, c.rmsNormEps);
      const g = matvec(routerW, c.numExperts, H, xn, routerB);
      const order = [...g.keys()].sort((a, b) => g[b]! - g[a]! || a - b).slice(0, c.expertsPerToken);
      const m = g[order[0]!]!;
      const ex = order.map((e) => Math.exp(g[e]! - m));
      const sum = ex.reduce((a, b) => a + b, 0);
      const out = Float64Array.from(x);
      order.forEach((e, j) => {
        const h = matvec(W1[e]!, 2 * I, H, xn, b1.subarray(e * 2 * I, (e + 1) * 2 * I));
        const a = new Float64Array(I);
        for (let i = 0; i < I; i++) {
          if (opts.stats && (h[2 * i]! > c.swigluLimit || Math.abs(h[2 * i + 1]!) > c.swigluLimit))
            opts.stats.clamped++;
          const gate = Math.min(h[2 * i]!, c.swigluLimit);
          const up = Math.min(Math.max(h[2 * i + 1]!, -c.swigluLimit), c.swigluLimit);
          a[i] = (gate / (1 + Math.exp(-c.swigluAlpha * gate))) * (up + 1);
        }
        const y = matvec(W2[e]!, H, I, a, b2.subarray(e * H, (e + 1) * H));
        for (let i = 0; i < H; i++) out[i]! += (ex[j]! / sum) * y[i]!;
      });
      return out;
    });
  }
  const norm = readF64(ckpt, ckpt.tensors.norm);
  const unembed = readF64(ckpt, ckpt.tensors.unembed);
  return xs.map((x) => Array.from(matvec(unembed, c.vocabSize, H, rmsnorm(x, norm, c.rmsNormEps))));
}
