import { InMemoryConversationStore, ScriptedBackend } from '@harmonia/core';
import { describe, expect, it } from 'vitest';
import { type ChatSink, createChatAdapter, createSupportBot } from '../src/index.js';
import { H, POLICY, scriptedBot } from './helpers.js';

describe('createSupportBot', () => {
  it('puts the topic policy and the trust rule in the developer message', async () => {
    const { bot, backend } = scriptedBot([H.analysis('fine') + H.final('Hello.')]);
    await bot.ask('p1', 'hi');
    const prompt = backend.promptText(0);
    const developer = prompt.slice(prompt.indexOf('<|start|>developer'), prompt.indexOf('<|start|>user'));
    expect(developer).toContain('Help only with: installing and configuring Harmonia; model backends');
    expect(developer).toContain('untrusted data');
    expect(developer).toContain('escalate_to_human');
    expect(developer).toContain('end_conversation');
  });

  it('routes each question with @harmonia/router when given one backend per model size', async () => {
    const small = new ScriptedBackend([H.analysis('easy') + H.final('Use pnpm.')], { id: 'small' });
    const large = new ScriptedBackend([H.analysis('hard') + H.final('Prove it by induction.')], {
      id: 'large',
    });
    const bot = createSupportBot({
      policy: POLICY,
      backends: { '20b': small, '120b': large },
      currentDate: null,
    });
    const reply = await bot.ask('r1', 'hi, how do I install it?');
    expect(reply.routing).toHaveLength(1);
    expect(['20b', '120b']).toContain(reply.routing[0]!.model);
    expect(reply.routing[0]!.reason).toMatch(/p\(120b\)/);
    expect(small.calls + large.calls).toBe(1);
  });

  it('escalates to a human through the callback when the model asks for it', async () => {
    const seen: string[] = [];
    const { bot } = scriptedBot(
      [
        H.analysis('They want a person.') +
          H.call('functions.escalate_to_human', '{"summary":"wants a refund"}', 'commentary'),
        H.final('A person will follow up here.'),
      ],
      { escalate: (e) => void seen.push(`${e.conversationId}: ${e.summary}`) },
    );
    const reply = await bot.ask('e1', 'I want to talk to a human about a refund');
    expect(reply.escalated).toMatchObject({ by: 'model', summary: 'wants a refund', conversationId: 'e1' });
    expect(seen).toEqual(['e1: wants a refund']);
    expect(reply.text).toBe('A person will follow up here.');
  });

  it('reset starts a fresh conversation (and reply count) under the same id', async () => {
    const { bot, backend } = scriptedBot(
      [H.analysis('a') + H.final('One.'), H.analysis('b') + H.final('Two.')],
      { maxReplies: 1 },
    );
    expect((await bot.ask('x', 'q1')).text).toBe('One.');
    expect((await bot.ask('x', 'q2')).status).toBe('capped');
    await bot.reset('x');
    expect((await bot.ask('x', 'q3')).text).toBe('Two.');
    expect(backend.promptText(1)).not.toContain('q1');
  });

  it('a reset is kept in the store: another bot on the same store (a replica, a restart) sees it', async () => {
    const store = new InMemoryConversationStore();
    const first = scriptedBot([H.final('One.')], { maxReplies: 1, store });
    expect((await first.bot.ask('y', 'q1')).text).toBe('One.');
    await first.bot.reset('y');
    const second = scriptedBot([H.final('Fresh.')], { maxReplies: 1, store });
    expect((await second.bot.ask('y', 'q2')).text).toBe('Fresh.');
    expect(second.backend.promptText(0)).not.toContain('q1');
    expect(await store.generation('y')).toBe(1);
  });
});

function recordingSink() {
  const log: string[] = [];
  const sink: ChatSink = {
    typing: async () => void log.push('typing'),
    post: async (t) => void log.push(`post ${t}`),
    edit: async (t) => void log.push(`edit ${t}`),
  };
  return { log, sink };
}

describe('createChatAdapter', () => {
  const link = (id: string) => `https://docs.example.com/${id.replace(/#.*/, '').replace('.md', '')}`;

  it('shows typing, streams the answer in sentence steps with bounded edits, and renders citations as links', async () => {
    const { bot } = scriptedBot([
      H.analysis('SECRET-REASONING: the user is asking about Ollama.') +
        H.final('First, install Ollama. Then pull the model. See [faq:ollama.md#1].'),
    ]);
    const adapter = createChatAdapter(bot, {
      link,
      formatLink: (u, l) => `[${l}](<${u}>)`,
      editIntervalMs: 0,
    });
    const { log, sink } = recordingSink();
    await adapter.onMessage(
      { conversationId: 'd1', text: 'ollama?', author: 'ann', isModerator: false },
      sink,
    );
    expect(log[0]).toBe('typing');
    expect(log[1]).toBe('post First, install Ollama.');
    expect(log.at(-1)).toBe(
      'edit First, install Ollama. Then pull the model. See [ollama](<https://docs.example.com/ollama>).',
    );
    expect(log.join('\n')).not.toContain('SECRET-REASONING');
  });

  it('with a long edit interval posts once and edits once at the end', async () => {
    const { bot } = scriptedBot([H.analysis('x') + H.final('A. B. C. D. E.')]);
    const adapter = createChatAdapter(bot, { formatLink: (u) => u, editIntervalMs: 60_000 });
    const { log, sink } = recordingSink();
    await adapter.onMessage({ conversationId: 'd2', text: 'q', author: 'ann', isModerator: false }, sink);
    expect(log).toEqual(['typing', 'post A.', 'edit A. B. C. D. E.']);
  });

  it('moderator commands reset and close; others are told no', async () => {
    const { bot, backend } = scriptedBot([]);
    const adapter = createChatAdapter(bot, { formatLink: (u) => u });
    const { log, sink } = recordingSink();
    await adapter.onMessage(
      { conversationId: 'm1', text: '!close spam', author: 'eve', isModerator: false },
      sink,
    );
    await adapter.onMessage(
      { conversationId: 'm1', text: '!close spam', author: 'mod', isModerator: true },
      sink,
    );
    await adapter.onMessage({ conversationId: 'm1', text: 'hello', author: 'eve', isModerator: false }, sink);
    await adapter.onMessage({ conversationId: 'm1', text: '!reset', author: 'mod', isModerator: true }, sink);
    expect(log).toEqual([
      'post Only moderators can do that.',
      'post Conversation closed: spam',
      'typing',
      'post This conversation is closed. Start a new one if you need more help.',
      'post Conversation reset. Ask me anything about the product.',
    ]);
    expect(bot.closures).toMatchObject([{ conversationId: 'm1', reason: 'spam', by: 'mod' }]);
    expect(backend.calls).toBe(0);
  });

  it('handles messages of one conversation one at a time, in order', async () => {
    const { bot } = scriptedBot([H.analysis('1') + H.final('One.'), H.analysis('2') + H.final('Two.')]);
    const adapter = createChatAdapter(bot, { formatLink: (u) => u });
    const { log, sink } = recordingSink();
    await Promise.all([
      adapter.onMessage({ conversationId: 'q', text: 'a', author: 'x', isModerator: false }, sink),
      adapter.onMessage({ conversationId: 'q', text: 'b', author: 'x', isModerator: false }, sink),
    ]);
    expect(log).toEqual(['typing', 'post One.', 'typing', 'post Two.']);
  });
});
