import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { harmonyScript as H, run, ScriptedBackend } from '@harmonia/core';
import { HashingEmbedder } from '@harmonia/support';
import { afterAll, describe, expect, it } from 'vitest';
import { createDocsAgent } from '../src/index.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('the rag-faq template: faq.search on a plain agent', () => {
  it('searches the folder it indexed and returns the cited answer', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'harmonia-ragfaq-'));
    dirs.push(dir);
    await writeFile(join(dir, 'hours.md'), '# Hours\n\nThe shop opens at 9 on weekdays.\n');
    const backend = new ScriptedBackend([
      H.analysis('search') + H.call('faq.search', '{"query":"opening hours"}', 'analysis'),
      H.analysis('found') + H.final('At 9 [faq:hours.md#0].'),
    ]);
    const { agent, index } = await createDocsAgent({
      backend,
      docsDir: dir,
      db: join(dir, 'db'),
      embedder: new HashingEmbedder(),
    });
    const result = await run(agent, 'When do you open?');
    expect(result.finalText).toBe('At 9 [faq:hours.md#0].');
    expect(backend.promptText(1)).toContain('The shop opens at 9 on weekdays.');
    index.close();
  });
});
