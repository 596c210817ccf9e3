import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { harmonyScript as H, ScriptedBackend } from '@harmonia/core';
import { HashingEmbedder } from '@harmonia/support';
import { afterAll, describe, expect, it } from 'vitest';
import { createKestrelBot } from '../src/index.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('the support-bot template (Kestrel docs, real LanceDB, scripted model)', () => {
  it('indexes its own docs and answers from them with a citation, under its own policy', async () => {
    const db = await mkdtemp(join(tmpdir(), 'harmonia-kestrel-'));
    dirs.push(db);
    const backend = new ScriptedBackend([
      H.analysis('Wi-Fi question; search.') + H.call('faq.search', '{"query":"5 GHz wifi"}', 'analysis'),
      H.analysis('2.4 GHz only.') + H.final('Kestrel supports 2.4 GHz networks only [faq:wifi.md#1].'),
    ]);
    const { bot, index, report } = await createKestrelBot({ backend, db, embedder: new HashingEmbedder() });
    expect(report.added).toContain('wifi.md');
    const reply = await bot.ask('t1', 'Why does my 5 GHz network not show up?');
    expect(reply.text).toBe('Kestrel supports 2.4 GHz networks only [faq:wifi.md#1].');
    expect(reply.citations).toEqual(['wifi.md#1']);
    expect(backend.promptText(0)).toContain('public support assistant for Kestrel');
    expect(backend.promptText(1)).toContain('2.4 GHz networks only');
    index.close();
  });
});
