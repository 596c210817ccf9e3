import {
  harmonyScript as H,
  ScriptedBackend,
  type TokenBackend,
  type TokenChunk,
  type TokenRequest,
} from '@harmonia/core';
import { describe, expect, it } from 'vitest';
import { ModelMonitor, parseVerdict, type SupportEvent } from '../src/index.js';
import { POLICY, scriptedBot } from './helpers.js';

const PURPOSE = 'Harmonia: installing it, model backends, the bots and the FAQ agent.';

/** A judge that never answers (until aborted). */
class SilentBackend implements TokenBackend {
  readonly kind = 'tokens' as const;
  readonly id = 'silent';
  async generate(): Promise<never> {
    throw new Error('not used');
  }
  async *stream(request: TokenRequest): AsyncIterable<TokenChunk> {
    await new Promise<void>((resolve) => request.signal?.addEventListener('abort', () => resolve()));
    yield { type: 'finish', finishReason: 'abort', usage: { promptTokens: 0, completionTokens: 0 } };
  }
}

async function collect(stream: AsyncIterable<SupportEvent>) {
  const events: SupportEvent[] = [];
  for await (const ev of stream) events.push(ev);
  return events;
}

describe('the model-based monitor', () => {
  it('reads ON / OFF verdicts and fails closed on anything else', () => {
    expect(parseVerdict('ON')).toEqual({ flagged: false });
    expect(parseVerdict('OFF: writes a poem')).toEqual({
      flagged: true,
      reason: 'off task (judge): writes a poem',
    });
    expect(parseVerdict('I think it is fine')).toMatchObject({ flagged: true });
  });

  it('gates the first visible token: the judge says OFF, the user sees only the refusal', async () => {
    const judge = new ScriptedBackend([H.analysis('A poem is off topic.') + H.final('OFF: writes a poem')]);
    const { bot } = scriptedBot(
      [
        H.analysis('The user wants a poem about winter. Here it goes.') +
          H.final('Snow falls soft on silent hills.'),
      ],
      { topicMonitor: new ModelMonitor({ backend: judge, purpose: PURPOSE }) },
    );
    const events = await collect(bot.stream('m1', 'Write a poem about winter.'));
    const texts = events.map((e) => (e.type === 'text' ? e.text : e.reply.text));
    expect(texts.join('\n')).not.toContain('Snow');
    expect(events.at(-1)).toMatchObject({
      type: 'done',
      reply: { status: 'stopped', text: 'Sorry, I can only help with questions about Harmonia.' },
    });
    // The judge saw the reasoning and the rubric, not the answer.
    expect(judge.promptText(0)).toContain('The user wants a poem about winter');
    expect(judge.promptText(0)).toContain('OFF: <short reason>');
  });

  it('lets an on-task answer through when the judge says ON', async () => {
    const judge = new ScriptedBackend([H.final('ON'), H.final('ON'), H.final('ON')]);
    const { bot } = scriptedBot([H.analysis('Install question.') + H.final('Run pnpm install.')], {
      topicMonitor: new ModelMonitor({ backend: judge, purpose: PURPOSE }),
    });
    const reply = await bot.ask('m2', 'How do I install it?');
    expect(reply).toMatchObject({ status: 'completed', text: 'Run pnpm install.' });
  });

  it('fails closed when the judge does not answer in time', async () => {
    const { bot } = scriptedBot([H.analysis('Install question.') + H.final('Run pnpm install.')], {
      topicMonitor: new ModelMonitor({ backend: new SilentBackend(), purpose: PURPOSE, timeoutMs: 200 }),
    });
    const started = Date.now();
    const events = await collect(bot.stream('m3', 'How do I install it?'));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(events.filter((e) => e.type === 'text').map((e) => (e as { text: string }).text)).not.toContain(
      'Run pnpm install.',
    );
    expect(events.at(-1)).toMatchObject({
      type: 'done',
      reply: { status: 'stopped', text: `Sorry, I can only help with questions about ${POLICY.product}.` },
    });
    const done = events.at(-1) as { reply: { stop?: { reason: string } } };
    expect(done.reply.stop?.reason, done.reply.stop?.reason).toMatch(/timed out after 200 ms/);
  });

  it('keeps nothing of its checks: the judge store does not grow, and no check sees another', async () => {
    const n = 200;
    const judge = new ScriptedBackend(Array.from({ length: n }, () => H.final('ON')));
    const monitor = new ModelMonitor({ backend: judge, purpose: PURPOSE });
    const ctx = { conversationId: 'c', input: 'q', signal: new AbortController().signal };
    for (let i = 0; i < n; i++) {
      const v = await monitor.checkReasoning(`Check number ${i}: the user asks about backends.`, ctx);
      expect(v).toEqual({ flagged: false });
    }
    expect(await monitor.judgeAgent.store.list()).toEqual([]);
    expect(await monitor.judgeAgent.store.load(`judge-c-${n}`)).toBeNull();
    // The last check's prompt holds its own text only, no earlier check's.
    expect(judge.promptText(n - 1)).toContain(`Check number ${n - 1}:`);
    expect(judge.promptText(n - 1)).not.toContain('Check number 0:');
  });
});
