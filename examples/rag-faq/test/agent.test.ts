import { ScriptedBackend } from '@harmonia/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createFaqAgent, HashingEmbedder } from '../src/index.js';
import { tempDir } from './helpers.js';

const H = {
  analysis: (t: string) => `<|channel|>analysis<|message|>${t}<|end|><|start|>assistant`,
  call: (recipient: string, args: string) =>
    ` to=${recipient}<|channel|>analysis <|constrain|>json<|message|>${args}<|call|>`,
  final: (t: string) => `<|channel|>final<|message|>${t}<|return|>`,
};

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
        H.call('faq.search', '{"query":"ollama pull model download size","limit":3}'),
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
});
