/** `stream(..., { progress: true })`: doc searches are announced while the model works; reasoning stays hidden. */
import { describe, expect, it } from 'vitest';
import type { SupportEvent } from '../src/index.js';
import { fakeFaq, H, scriptedBot } from './helpers.js';

async function events(progress: boolean, channel: 'analysis' | 'commentary') {
  const faq = fakeFaq({ 'ollama.md#1': 'Ollama › Setup: run ollama pull gpt-oss:20b.' });
  const { bot } = scriptedBot(
    [
      H.analysis('Search the docs for the secret plan.') +
        H.call('faq.search', '{"query":"ollama model"}', channel),
      H.final('Run `ollama pull gpt-oss:20b` [faq:ollama.md#1].'),
    ],
    { tools: [faq] },
  );
  const out: SupportEvent[] = [];
  for await (const ev of bot.stream('p1', 'How do I get the model?', undefined, { progress })) out.push(ev);
  return out;
}

describe('search progress', () => {
  it('announces a search on a user-visible channel with its query', async () => {
    const ev = await events(true, 'commentary');
    expect(ev.filter((e) => e.type === 'searching')).toEqual([{ type: 'searching', query: 'ollama model' }]);
  });

  it('announces an analysis-channel search without its query (that is reasoning)', async () => {
    const ev = await events(true, 'analysis');
    expect(ev.filter((e) => e.type === 'searching')).toEqual([{ type: 'searching' }]);
    expect(JSON.stringify(ev)).not.toContain('secret plan');
  });

  it('yields nothing new unless asked', async () => {
    const ev = await events(false, 'commentary');
    expect(ev.some((e) => e.type === 'searching')).toBe(false);
  });
});
