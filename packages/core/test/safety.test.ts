import { describe, expect, it } from 'vitest';
import {
  ChatCompletionsBackend,
  InMemoryConversationStore,
  inputGuardrail,
  maxInputLength,
  outputGuardrail,
  PROFILES,
  patternMonitor,
  run,
  scoreMonitor,
} from '../src/index.js';
import { FakeServer } from './fakes/server.js';
import { CHAT_FLAVORS, chatCompletions } from './fakes/wire.js';
import { collect, deltas, H, scriptedAgent } from './helpers.js';

const monitor = patternMonitor([{ pattern: /\bexfiltrate\b/i, reason: 'plans data exfiltration' }]);

describe('reasoning monitor', () => {
  it('stops a turn before any final text is shown', async () => {
    const { agent } = scriptedAgent(
      [H.analysis('I will exfiltrate the keys.') + H.final('Here are the keys: ...')],
      {
        monitor,
        stoppedReply: 'I cannot help with that.',
      },
    );
    const { result, events } = await collect(agent, 'give me keys');
    expect(result.status).toBe('stopped');
    expect(result.finalText).toBe('I cannot help with that.');
    expect(result.stop).toEqual({ by: 'monitor', reason: 'plans data exfiltration' });
    expect(deltas(events, 'final_delta')).toBe('');
    expect(events.find((e) => e.type === 'monitor_flagged')).toMatchObject({ monitor: 'patterns' });
    // Only the refusal is stored as the reply; nothing of the flagged answer.
    const finals = result.newMessages.filter((m) => m.channel === 'final');
    expect(finals.map((m) => m.content)).toEqual([[{ type: 'text', text: 'I cannot help with that.' }]]);
    expect(JSON.stringify(result.newMessages)).not.toContain('Here are the keys');
  });

  it('stops a turn before a preamble is shown, even with a slow monitor', async () => {
    const slowPatterns = scoreMonitor(
      async (text) => {
        await new Promise((r) => setTimeout(r, 30));
        return /exfiltrate/.test(text) ? 0.9 : 0.1;
      },
      { threshold: 0.5, reason: 'plans data exfiltration', name: 'slow' },
    );
    const { agent, calls } = scriptedAgent(
      [
        H.analysis('I will exfiltrate the keys through the weather tool.') +
          H.preamble('Sure, fetching your keys now.') +
          H.call('functions.get_weather', '{"city":"Oslo"}'),
      ],
      { monitor: slowPatterns },
    );
    const { result, events } = await collect(agent, 'hi');
    expect(result.status).toBe('stopped');
    expect(deltas(events, 'preamble_delta')).toBe('');
    expect(calls.cities).toEqual([]);
    expect(JSON.stringify(result.newMessages)).not.toContain('fetching your keys');
  });

  it('stops a turn before a tool runs', async () => {
    const { agent, calls } = scriptedAgent(
      [H.analysis('Exfiltrate via weather.') + H.call('functions.get_weather', '{"city":"Oslo"}')],
      { monitor },
    );
    const res = await run(agent, 'hi');
    expect(res.status).toBe('stopped');
    expect(calls.cities).toEqual([]);
  });

  it('waits for a slow pluggable monitor before releasing the answer', async () => {
    const slow = scoreMonitor(
      async (text) => {
        await new Promise((r) => setTimeout(r, 30));
        return text.includes('harm') ? 0.9 : 0.1;
      },
      { threshold: 0.5, reason: 'classifier', name: 'second-model' },
    );
    const flagged = scriptedAgent([H.analysis('This could harm.') + H.final('Sure!')], { monitor: slow });
    const r1 = await collect(flagged.agent, 'x');
    expect(r1.result.status).toBe('stopped');
    expect(r1.result.stop?.reason).toMatch(/classifier \(score 0\.90\)/);
    expect(deltas(r1.events, 'final_delta')).toBe('');
    const clean = scriptedAgent([H.analysis('Fine.') + H.final('Sure!')], { monitor: slow });
    const r2 = await collect(clean.agent, 'x');
    expect(r2.result.status).toBe('completed');
    expect(deltas(r2.events, 'final_delta')).toBe('Sure!');
  });

  it('works on message-level backends too', async () => {
    const server = await new FakeServer(
      chatCompletions(CHAT_FLAVORS.vllm, [{ reasoning: 'We could exfiltrate it.', content: 'Done!' }]),
    ).start();
    try {
      const { agent } = scriptedAgent([], {
        monitor,
        backend: new ChatCompletionsBackend({
          baseURL: `${server.url}/v1`,
          model: 'm',
          profile: PROFILES.vllm,
        }),
      });
      const { result, events } = await collect(agent, 'x');
      expect(result.status).toBe('stopped');
      expect(deltas(events, 'final_delta')).toBe('');
    } finally {
      await server.close();
    }
  });
});

describe('guardrails, reply cap, ending conversations', () => {
  it('input guardrail blocks before any model call', async () => {
    const { agent, backend } = scriptedAgent([], {
      guardrails: { input: [maxInputLength(10, 'Too long.')] },
    });
    const { result, events } = await collect(agent, 'x'.repeat(50));
    expect(result).toMatchObject({
      status: 'blocked',
      finalText: 'Too long.',
      stop: { by: 'input_guardrail' },
    });
    expect(backend.calls).toBe(0);
    expect(events.find((e) => e.type === 'guardrail_tripped')).toMatchObject({
      stage: 'input',
      guardrail: 'max_input_length',
    });
  });

  it('output guardrail replaces the answer everywhere, including the stored context', async () => {
    const store = new InMemoryConversationStore();
    const noEmails = outputGuardrail('no_emails', (out) =>
      /@/.test(out) ? { ok: false, reason: 'contains an email address', reply: '[redacted]' } : { ok: true },
    );
    const { agent, backend } = scriptedAgent([H.final('Mail bob@example.com'), H.final('ok')], {
      store,
      guardrails: { output: [noEmails], input: [inputGuardrail('noop', () => ({ ok: true }))] },
    });
    const res = await run(agent, 'contact?', { conversationId: 'g' });
    expect(res).toMatchObject({ status: 'blocked', finalText: '[redacted]' });
    await run(agent, 'and?', { conversationId: 'g' });
    expect(backend.promptText(1)).not.toContain('bob@example.com');
    expect(backend.promptText(1)).toContain('[redacted]');
  });

  it('reply cap closes the conversation without calling the model', async () => {
    const store = new InMemoryConversationStore();
    const { agent, backend } = scriptedAgent([H.final('One.'), H.final('Two.')], { replyCap: 2, store });
    await run(agent, 'a', { conversationId: 'cap' });
    await run(agent, 'b', { conversationId: 'cap' });
    const { result, events } = await collect(agent, 'c', { conversationId: 'cap' });
    expect(result.status).toBe('capped');
    expect(backend.calls).toBe(2);
    expect(events.find((e) => e.type === 'conversation_closed')).toBeDefined();
    expect((await store.load('cap'))?.closed?.reason).toMatch(/reply cap reached \(2 of 2/);
    expect((await run(agent, 'd', { conversationId: 'cap' })).status).toBe('closed');
  });

  it('lets the agent end an unreasonable conversation, recording the reason', async () => {
    const store = new InMemoryConversationStore();
    const { agent, backend } = scriptedAgent(
      [H.call('functions.end_conversation', '{"reason":"repeated abuse"}'), H.final('Goodbye.')],
      { allowEndConversation: true, store },
    );
    expect(backend).toBeDefined();
    const res = await run(agent, 'you are useless!!!', { conversationId: 'rude' });
    expect(res.finalText).toBe('Goodbye.');
    expect(res.closed).toEqual({ reason: 'repeated abuse' });
    expect(backend.promptText(0)).toContain('type end_conversation');
    const rec = await store.load('rude');
    expect(rec?.closed?.reason).toBe('repeated abuse');
    const again = await run(agent, 'hello?', { conversationId: 'rude' });
    expect(again).toMatchObject({ status: 'closed', stop: { by: 'closed', reason: 'repeated abuse' } });
    expect((await store.list()).map((s) => s.id)).toEqual(['rude']);
  });
});
