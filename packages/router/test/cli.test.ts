import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/src/command.js';
import { routerCommand } from '../../cli/src/commands/router.js';
import { validateWeights } from '../src/index.js';
import { DATA_DIR } from './helpers.js';

async function cli(args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => {
    out += d;
  });
  stderr.on('data', (d) => {
    err += d;
  });
  const code = await routerCommand.run(args, { stdout, stderr, stdin: new PassThrough() });
  return { code, out, err };
}

describe('harmonia router', () => {
  it('a price table changes the cost figures of eval and the budget of route', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'router-prices-'));
    const data = join(dir, 'rows.jsonl');
    writeFileSync(
      data,
      [
        { prompt: 'hi', model: '20b', effort: 'low' },
        { prompt: 'What are your store hours?', model: '20b', effort: 'low' },
        {
          prompt: 'Reconcile my three refunds against the invoice and the chargeback.',
          model: '120b',
          effort: 'medium',
        },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const costSaved = async (extra: string[]) =>
      (
        JSON.parse((await cli(['eval', '--data', data, '--all', '--json', ...extra])).out) as {
          cost: { costSaved: number };
        }
      ).cost.costSaved;
    // 120b ten times dearer than the default: routing saves more against always 120b-high.
    const dear = join(dir, 'dear.json');
    writeFileSync(dear, JSON.stringify({ '120b': { inputPerMTok: 1.5, outputPerMTok: 6 } }));
    expect(await costSaved(['--prices', dear])).toBeGreaterThan(await costSaved([]));
    // The budget mode reads the same table: 20b-low costs more than the budget, nothing fits.
    const pricey = join(dir, 'pricey.json');
    writeFileSync(pricey, JSON.stringify({ '20b': { inputPerMTok: 100, outputPerMTok: 100 } }));
    const hard =
      'My router keeps dropping the connection every 20 minutes. I already restarted it, updated the firmware and moved it. What else can I try?';
    const cheap = JSON.parse((await cli(['route', '--explain', '--max-cost', '0.001', hard])).out) as {
      reason: string;
    };
    const costly = JSON.parse(
      (await cli(['route', '--explain', '--prices', pricey, '--max-cost', '0.001', 'hi'])).out,
    ) as { reason: string };
    expect(costly.reason).not.toBe(cheap.reason);
    expect(costly.reason).toMatch(/budget|fits|cheapest/i);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ '30b': { inputPerMTok: 1 } }));
    await expect(cli(['eval', '--data', data, '--prices', bad])).rejects.toThrow(UsageError);
  });

  it('route prints {"model","effort","scores"} as one JSON line', async () => {
    const { code, out } = await cli(['route', 'What are your store hours?']);
    expect(code).toBe(0);
    expect(out.trim().split('\n')).toHaveLength(1);
    const j = JSON.parse(out) as Record<string, unknown>;
    expect(Object.keys(j)).toEqual(['model', 'effort', 'scores']);
    expect(['20b', '120b']).toContain(j.model);
    expect(['low', 'medium', 'high']).toContain(j.effort);
    const scores = j.scores as Record<string, number>;
    for (const k of ['p120b', 'low', 'medium', 'high', 'threshold']) expect(typeof scores[k]).toBe('number');
    const explained = JSON.parse((await cli(['route', '--explain', 'hi'])).out) as { reason: string };
    expect(explained.reason).toMatch(/classifier/);
  });

  it('trains deterministically and evaluates the result on held-out rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'router-cli-'));
    const rows = readFileSync(`${DATA_DIR}support.jsonl`, 'utf8');
    writeFileSync(join(dir, 'mine.jsonl'), rows);
    const w1 = join(dir, 'w1.json');
    const w2 = join(dir, 'w2.json');
    const t = await cli([
      'train',
      '--data',
      join(dir, 'mine.jsonl'),
      '--out',
      w1,
      '--seed',
      '3',
      '--epochs',
      '4',
    ]);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/trained on \d+ rows/);
    await cli(['train', '--data', join(dir, 'mine.jsonl'), '--out', w2, '--seed', '3', '--epochs', '4']);
    expect(readFileSync(w1, 'utf8')).toBe(readFileSync(w2, 'utf8'));
    expect(() => validateWeights(JSON.parse(readFileSync(w1, 'utf8')), w1)).not.toThrow();

    const e = await cli(['eval', '--data', join(dir, 'mine.jsonl'), '--weights', w1]);
    expect(e.code).toBe(0);
    expect(e.out).toContain('held-out 20%');
    expect(e.out).toContain('Effort head: accuracy');
    const cv = await cli(['eval', '--data', join(dir, 'mine.jsonl'), '--folds', '3', '--epochs', '2']);
    expect(cv.code).toBe(0);
    expect(cv.out).toContain('3-fold cross-validation');
    expect(cv.err).toMatch(/fold 3\/3: trained on \d+ rows, scored \d+/);
    const r = await cli(['route', '--weights', w1, 'thanks!']);
    expect(JSON.parse(r.out).model).toMatch(/^(20b|120b)$/);
  });

  it('reports bad usage and bad files clearly', async () => {
    await expect(cli(['route'])).rejects.toThrow(UsageError);
    await expect(cli(['train', '--out', 'x.json'])).rejects.toThrow(/--data/);
    await expect(cli(['train', '--data', 'a.jsonl', '--out', 'x', '--seed', 'abc'])).rejects.toThrow(
      /--seed/,
    );
    await expect(cli(['eval', '--bogus'])).rejects.toThrow(UsageError);
    await expect(cli(['eval', '--data', 'a.jsonl', '--folds', '1'])).rejects.toThrow(/--folds/);
    await expect(cli(['eval', '--data', 'a.jsonl', '--folds', '5', '--weights', 'w.json'])).rejects.toThrow(
      /--folds trains its own models/,
    );
    await expect(cli(['eval', '--data', 'a.jsonl', '--seed', '2'])).rejects.toThrow(/go with --folds/);
    await expect(cli(['eval', '--data', '/nonexistent.jsonl'])).rejects.toThrow(
      /cannot read \/nonexistent\.jsonl/,
    );
    const help = await cli(['train', '--help']);
    expect(help.out).toContain('--seed');
  });
});
