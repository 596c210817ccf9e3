import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CheckpointError } from './errors.js';

/** Element types that can appear in a gpt-oss checkpoint, with their byte widths. */
export const DTYPE_BYTES = { BF16: 2, F16: 2, F32: 4, U8: 1 } as const;
export type DType = keyof typeof DTYPE_BYTES;

export interface SafetensorsEntry {
  name: string;
  dtype: DType;
  shape: number[];
  /** Absolute byte offset of the data in the file. */
  offset: number;
  nbytes: number;
}

export interface SafetensorsFile {
  path: string;
  size: number;
  tensors: Map<string, SafetensorsEntry>;
}

const MAX_HEADER = 100 * 1024 * 1024;

/** Reads and checks a safetensors header (8-byte little-endian length, then JSON). Data stays on disk. */
export function readSafetensorsHeader(path: string): SafetensorsFile {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size < 8)
      throw new CheckpointError(`${path}: truncated file (${size} bytes, no header)`, 'truncated_file');
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > MAX_HEADER)
      throw new CheckpointError(`${path}: header length ${headerLen} is implausible`, 'bad_header');
    if (8 + headerLen > size)
      throw new CheckpointError(
        `${path}: truncated file (header needs ${8 + headerLen} bytes, file has ${size})`,
        'truncated_file',
      );
    const hb = Buffer.alloc(headerLen);
    readSync(fd, hb, 0, headerLen, 8);
    let json: unknown;
    try {
      json = JSON.parse(hb.toString('utf8'));
    } catch (e) {
      throw new CheckpointError(`${path}: header is not valid JSON (${(e as Error).message})`, 'bad_header');
    }
    if (typeof json !== 'object' || json === null)
      throw new CheckpointError(`${path}: header is not an object`, 'bad_header');
    const dataStart = 8 + headerLen;
    const tensors = new Map<string, SafetensorsEntry>();
    for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
      if (name === '__metadata__') continue;
      const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (typeof info.dtype !== 'string' || !(info.dtype in DTYPE_BYTES))
        throw new CheckpointError(
          `${path}: tensor ${name} has unknown dtype ${String(info.dtype)}`,
          'unknown_dtype',
        );
      if (!Array.isArray(info.shape) || !Array.isArray(info.data_offsets) || info.data_offsets.length !== 2)
        throw new CheckpointError(`${path}: tensor ${name} has a malformed entry`, 'bad_header');
      const dtype = info.dtype as DType;
      const shape = info.shape.map(Number);
      const [b, e] = info.data_offsets.map(Number) as [number, number];
      const expected = shape.reduce((a, d) => a * d, 1) * DTYPE_BYTES[dtype];
      if (e - b !== expected)
        throw new CheckpointError(
          `${path}: tensor ${name} occupies ${e - b} bytes but ${dtype}[${shape.join(', ')}] needs ${expected}`,
          'wrong_shape',
        );
      if (dataStart + e > size)
        throw new CheckpointError(
          `${path}: truncated file: tensor ${name} ends at byte ${dataStart + e}, file has ${size}`,
          'truncated_file',
        );
      tensors.set(name, { name, dtype, shape, offset: dataStart + b, nbytes: e - b });
    }
    return { path, size, tensors };
  } finally {
    closeSync(fd);
  }
}

/** Builds a safetensors header for tensors laid out back to back in the given order; padded to 8 bytes. */
export function buildSafetensorsHeader(
  tensors: { name: string; dtype: DType; shape: number[] }[],
  metadata: Record<string, string> = { format: 'pt' },
): { header: Buffer; offsets: number[] } {
  const obj: Record<string, unknown> = { __metadata__: metadata };
  const offsets: number[] = [];
  let pos = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, d) => a * d, 1) * DTYPE_BYTES[t.dtype];
    obj[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [pos, pos + n] };
    offsets.push(pos);
    pos += n;
  }
  let json = JSON.stringify(obj);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const body = Buffer.from(json, 'utf8');
  const header = Buffer.alloc(8 + body.length);
  header.writeBigUInt64LE(BigInt(body.length), 0);
  body.copy(header, 8);
  return { header, offsets };
}
