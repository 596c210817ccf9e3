import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIO, UsageError } from '../../cli/src/command.js';
import { engineCommand } from '../../cli/src/commands/engine.js';
import { ensureNative } from './helpers.js';

let dir: string;
beforeAll(() => {
  ensureNative();
  dir = join(mkdtempSync(join(tmpdir(), 'harmonia-engine-cli-')), 'ckpt');
}, 120_000);
afterAll(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const t = memoryIO();
  const code = await engineCommand.run(args, t.io);
  return { code, out: t.stdout(), err: t.stderr() };
}

describe('harmonia engine', () => {
  it('synth, logits and generate work end to end', async () => {
    const s = await run(['synth', '--out', dir, '--preset', 'tiny', '--seed', '4']);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.out).layers).toBe(4);
    const l = await run(['logits', '--model', dir, '--tokens', '5,6,7', '--yarn', 'llama.cpp']);
    expect(l.code).toBe(0);
    const logits = JSON.parse(l.out).logits as number[][];
    expect(logits).toHaveLength(3);
    expect(logits[0]).toHaveLength(256);
    const g = await run([
      'generate',
      '--model',
      dir,
      '--tokens',
      '5,6,7',
      '--max-tokens',
      '4',
      '--yarn',
      'llama.cpp',
    ]);
    expect(g.code).toBe(0);
    const ids = g.out.split('\n')[0]!.split(',').map(Number);
    expect(ids).toHaveLength(4);
    // Greedy: the first generated token is the argmax of the last position's logits.
    const last = logits[2]!;
    expect(ids[0]).toBe(last.indexOf(Math.max(...last)));
    // The precision flags reach the engine: int8 logits differ from the exact ones, but not by much.
    const q = await run([
      'logits',
      '--model',
      dir,
      '--tokens',
      '5,6,7',
      '--yarn',
      'llama.cpp',
      '--prefill',
      'int8',
    ]);
    expect(q.code).toBe(0);
    const qrows = JSON.parse(q.out).logits as number[][];
    const diff = Math.max(...qrows.flatMap((row, t) => row.map((x, i) => Math.abs(x - logits[t]![i]!))));
    expect(diff).toBeGreaterThan(1e-4);
    expect(diff).toBeLessThan(1.0);
    const gq = await run(
      ['generate', '--model', dir, '--tokens', '5,6,7', '--max-tokens', '4'].concat([
        '--prefill',
        'int8',
        '--decode',
        'int8',
      ]),
    );
    expect(gq.code).toBe(0);
    expect(gq.out.split('\n')[0]!.split(',')).toHaveLength(4);
  });

  it('reports bad flags as usage errors and bad models as exit code 1', async () => {
    await expect(run(['logits', '--model', dir])).rejects.toBeInstanceOf(UsageError);
    await expect(run(['synth', '--out', dir, '--preset', 'huge'])).rejects.toThrow(/tiny/);
    await expect(run(['logits', '--model', dir, '--tokens', '1', '--prefill', 'int4'])).rejects.toThrow(
      /--prefill must be fp32, int8 or bf16/,
    );
    await expect(
      run(['generate', '--model', dir, '--tokens', '1', '--max-tokens', '1', '--decode', 'bf16']),
    ).rejects.toThrow(/--decode must be fp32 or int8/);
    const r = await run(['logits', '--model', join(dir, 'missing'), '--tokens', '1']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/missing checkpoint directory/);
  });
});
