/**
 * `--backend native:DIR` end to end: the CLI wiring opens a synthetic checkpoint (random weights, gpt-oss's real
 * vocabulary) with the native engine, and the agent loop drives it through Harmony. Random weights make tokens,
 * not sense, so the turn must be classified as truncated and retried — never crash, never hang.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, memoryIO } from '@harmonia/cli';
import { writeSyntheticCheckpoint } from '@harmonia/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'harmonia-native-'));
  writeSyntheticCheckpoint({ out: dir, preset: 'tiny', seed: 3, overrides: { vocabSize: 201088 } });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('harmonia run --backend native:DIR', () => {
  it('samples from the in-process engine and handles its unparseable output as a truncated turn', async () => {
    const events = join(dir, 'events.jsonl');
    const t = memoryIO();
    const code = await main(
      [
        'run',
        '--backend',
        `native:${dir}`,
        '--input',
        'hello',
        '--max-tokens',
        '16',
        '--max-turns',
        '2',
        '--events',
        events,
      ],
      t.io,
    );
    expect(code).toBe(1);
    // Said in the CLI's terms: the flag that raises the limit.
    expect(t.stderr()).toContain(
      'harmonia run: The agent made 2 model calls without a final answer. Raise --max-model-calls',
    );
    const lines = readFileSync(events, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; backend?: string; outcome?: string });
    const started = lines.filter((e) => e.type === 'turn_started');
    expect(started).toHaveLength(2);
    expect(started[0]!.backend).toBe(`native:${dir}`);
    expect(lines.filter((e) => e.type === 'turn_outcome').map((e) => e.outcome)).toEqual([
      'truncated',
      'truncated',
    ]);
  }, 120_000);
});
