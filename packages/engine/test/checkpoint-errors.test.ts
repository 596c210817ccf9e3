import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  dequantMxfp4,
  EngineError,
  NativeEngine,
  openCheckpoint,
  readSafetensorsHeader,
  toBf16,
} from '../src/index.js';
import { ensureNative, tinyCheckpoint } from './helpers.js';

let dir: string;
const scratch: string[] = [];
const copy = () => {
  const d = mkdtempSync(join(tmpdir(), 'harmonia-engine-bad-'));
  cpSync(dir, d, { recursive: true });
  scratch.push(d);
  return d;
};
const shard = (d: string) => join(d, 'model-00000-of-00001.safetensors');
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    return { code: (e as CheckpointError).code, message: (e as Error).message };
  }
  throw new Error('expected a CheckpointError');
};

beforeAll(() => {
  ensureNative();
  dir = tinyCheckpoint(3, 'hf');
}, 120_000);
afterAll(() => {
  for (const d of [dir, ...scratch]) rmSync(d, { recursive: true, force: true });
});

describe('checkpoint validation', () => {
  it('writes the real Hugging Face names, shapes and dtypes', () => {
    const ck = openCheckpoint(dir);
    expect(ck.layout).toBe('hf');
    const h = readSafetensorsHeader(shard(dir));
    expect(h.tensors.get('model.layers.0.mlp.experts.gate_up_proj_blocks')).toMatchObject({
      dtype: 'U8',
      shape: [8, 256, 4, 16],
    });
    expect(h.tensors.get('model.layers.0.mlp.experts.down_proj_scales')).toMatchObject({
      dtype: 'U8',
      shape: [8, 128, 4],
    });
    expect(h.tensors.get('model.layers.1.self_attn.sinks')).toMatchObject({ dtype: 'BF16', shape: [4] });
    expect(h.tensors.get('lm_head.weight')).toMatchObject({ dtype: 'BF16', shape: [256, 128] });
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(cfg.layer_types.slice(0, 2)).toEqual(['sliding_attention', 'full_attention']);
    expect(cfg.rope_scaling).toMatchObject({
      rope_type: 'yarn',
      factor: 32,
      beta_fast: 32,
      beta_slow: 1,
      truncate: false,
    });
  });

  it('reports a missing directory, config and shard', () => {
    expect(codeOf(() => openCheckpoint(join(dir, 'nope'))).code).toBe('missing_file');
    const d = copy();
    rmSync(shard(d));
    const r = codeOf(() => openCheckpoint(d));
    expect(r.code).toBe('missing_file');
    expect(r.message).toContain('model-00000-of-00001.safetensors');
  });

  it('reports a truncated file with the tensor that runs past the end', () => {
    const d = copy();
    const size = readFileSync(shard(d)).length;
    truncateSync(shard(d), size - 100);
    const r = codeOf(() => openCheckpoint(d));
    expect(r.code).toBe('truncated_file');
    expect(r.message).toContain('lm_head.weight');
  });

  it('reports a wrong shape against the config', () => {
    const d = copy();
    const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
    cfg.num_attention_heads = 8;
    writeFileSync(join(d, 'config.json'), JSON.stringify(cfg));
    const r = codeOf(() => openCheckpoint(d));
    expect(r.code).toBe('wrong_shape');
    expect(r.message).toMatch(/q_proj\.weight has shape \[256, 128\], expected \[512, 128\]/);
  });

  it('reports an unknown dtype', () => {
    const d = copy();
    const buf = readFileSync(shard(d));
    const at = buf.indexOf('"dtype":"BF16"');
    buf.write('"dtype":"Q4_K"', at);
    writeFileSync(shard(d), buf);
    expect(codeOf(() => openCheckpoint(d)).code).toBe('unknown_dtype');
  });

  it('rejects out-of-vocabulary tokens before running anything', async () => {
    const engine = NativeEngine.open(dir);
    expect(() => engine.evaluate([1, 256])).toThrow(EngineError);
    expect(() => engine.generate([1], { maxTokens: 0 })).toThrow(/maxTokens/);
    // The engine still works afterwards.
    expect((await engine.evaluate([1, 2])).logits[0]).toHaveLength(256);
  });
});

describe('MXFP4 decoding', () => {
  it('uses the low nibble for the even element and 2^(s-127) scales', () => {
    const blocks = new Uint8Array(16);
    blocks[0] = 0x2f; // element 0 = code F (-6), element 1 = code 2 (+1)
    blocks[1] = 0x81; // element 2 = code 1 (+0.5), element 3 = code 8 (-0)
    const out = dequantMxfp4(blocks, new Uint8Array([128]), 1, 32);
    expect(Array.from(out.slice(0, 4))).toEqual([-12, 2, 1, -0]);
  });

  it('rounds floats to bf16 to nearest even', () => {
    expect(toBf16(1)).toBe(0x3f80);
    expect(toBf16(1 + 2 ** -8)).toBe(0x3f80); // tie -> even
    expect(toBf16(1 + 3 * 2 ** -8)).toBe(0x3f82);
  });
});
