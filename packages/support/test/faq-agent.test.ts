import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BackendUnavailableError, harmonyScript, ScriptedBackend } from '@harmonia/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createFaqAgent, FaqConfigError, faqAgentFromEnv, HashingEmbedder } from '../src/index.js';
import { tempDir } from './faq-helpers.js';

const H = harmonyScript;

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

describe('the FAQ support agent over the bundled docs (real LanceDB, scripted model)', () => {
  it('searches the docs during its reasoning, reads the results, and answers with citations', async () => {
    const db = await tempDir('agent-db');
    cleanups.push(db.cleanup);
    let searchResult = '';
    const backend = new ScriptedBackend([
      H.analysis('The user asks about the Ollama model download. Search.') +
        H.call('faq.search', '{"query":"ollama pull model download size","limit":3}', 'analysis'),
      () => {
        searchResult = backend.promptText(1);
        return (
          H.analysis('Entry ollama.md#1 says ollama pull gpt-oss:20b, about 14 GB.') +
          H.final('Run `ollama pull gpt-oss:20b` (about 14 GB) [faq:ollama.md#1].')
        );
      },
    ]);
    const agent = await createFaqAgent({
      backend,
      db: db.dir,
      embedder: new HashingEmbedder(),
      docsBaseUrl: 'https://docs.example.com/harmonia/',
    });
    expect(agent.report.added).toHaveLength(25);
    expect(backend.calls).toBe(0);
    const reply = await agent.bot.ask('u1', 'How large is the Ollama download?');
    expect(reply.status).toBe('completed');
    expect(reply.citations).toEqual(['ollama.md#1']);
    expect(reply.text).not.toContain('Search.');
    // The developer message describes the faq namespace; the tool result came from LanceDB, framed as untrusted.
    const first = backend.promptText(0);
    expect(first).toContain('namespace faq');
    expect(searchResult).toContain('[untrusted content');
    expect(searchResult).toContain('[faq:ollama.md#1] Running gpt-oss with Ollama › Setup');
    expect(agent.link('ollama.md#1')).toBe('https://docs.example.com/harmonia/ollama');
    backend.assertDone();
    agent.index.close();
  });

  it('is configured from the environment the bot templates document', async () => {
    const dir = await tempDir('env');
    cleanups.push(dir.cleanup);
    const docs = join(dir.dir, 'docs');
    await import('node:fs/promises').then((fs) => fs.mkdir(docs));
    await writeFile(join(docs, 'hours.md'), '# Hours\n\nThe shop opens at 9 on weekdays.\n');
    const script = join(dir.dir, 'script.json');
    await writeFile(script, JSON.stringify([H.final('We open at 9 [faq:hours.md#0].')]));
    const env = {
      HARMONIA_BACKEND: `script:${script}`,
      HARMONIA_DOCS: docs,
      HARMONIA_DB: join(dir.dir, 'db'),
      DOCS_BASE_URL: 'https://shop.example/help',
      HARMONIA_MAX_REPLIES: '1',
    };
    const agent = await faqAgentFromEnv(env, { embedder: new HashingEmbedder() });
    expect(agent.report.added).toEqual(['hours.md']);
    expect(agent.link('hours.md#0')).toBe('https://shop.example/help/hours');
    expect((await agent.bot.ask('u1', 'When do you open?')).text).toContain('We open at 9');
    // The reply cap of 1 came from HARMONIA_MAX_REPLIES: the second question gets no model call.
    expect((await agent.bot.ask('u1', 'And on Sunday?')).status).toBe('capped');
    agent.index.close();

    await expect(faqAgentFromEnv({ ...env, HARMONIA_MAX_REPLIES: 'lots' })).rejects.toBeInstanceOf(
      FaqConfigError,
    );
    // Routed arms from the environment: the simple question goes to the 20b arm.
    const routedAgent = await faqAgentFromEnv(
      { ...env, HARMONIA_BACKEND: '', HARMONIA_ROUTE: `20b=script:${script},120b=script:/nonexistent.json` },
      { embedder: new HashingEmbedder() },
    ).catch((e: unknown) => e);
    // The 120b arm's script file is missing: building the routed backend reads every arm.
    expect((routedAgent as Error).message).toContain('nonexistent.json');
    await expect(faqAgentFromEnv({ ...env, HARMONIA_ROUTE: `20b=script:${script}` })).rejects.toThrow(
      /HARMONIA_BACKEND or HARMONIA_ROUTE, not both/,
    );
    await expect(
      faqAgentFromEnv({ ...env, HARMONIA_BACKEND: '', HARMONIA_ROUTE: '30b=script:x.json' }),
    ).rejects.toThrow(/HARMONIA_ROUTE: .*unknown arm '30b'/);
    const unset = await faqAgentFromEnv({}).catch((e: unknown) => e);
    expect(unset).toBeInstanceOf(BackendUnavailableError);
    expect((unset as Error).message).toContain('ollama pull gpt-oss:20b');
  });
});
