import { harmonyScript, ScriptedBackend, type ScriptStep } from '@harmonia/core';
import { createChatAdapter, createSupportBot } from '@harmonia/support';
import { afterEach, describe, expect, it } from 'vitest';
import { DISCORD_MAX_LENGTH, type DiscordApp, startDiscordApp } from '../src/index.js';
import { BOT, CHANNEL, type FakeDiscord, MOD_ROLE, startFakeDiscord } from './fake-discord.js';

const H = harmonyScript;
const REASONING = 'PRIVATE-REASONING: the user asks about Ollama setup';

let fake: FakeDiscord;
let app: DiscordApp;

async function setup(steps: ScriptStep[], maxReplies = 5, editIntervalMs = 0) {
  fake = await startFakeDiscord();
  const backend = new ScriptedBackend(steps);
  const bot = createSupportBot({
    policy: { product: 'Harmonia', allowed: ['Harmonia'] },
    backend,
    maxReplies,
  });
  const adapter = createChatAdapter(bot, {
    link: (id) => `https://docs.example.com/${id.replace(/\.md#.*/, '')}`,
    formatLink: (url, label) => `[${label}](<${url}>)`,
    maxLength: DISCORD_MAX_LENGTH,
    editIntervalMs,
  });
  app = await startDiscordApp({
    token: 'fake-token',
    adapter,
    restApi: fake.api,
    moderatorRoles: [MOD_ROLE],
  });
  return { backend, bot, adapter };
}

// Under the 20 s test timeout, so a wait that never ends fails here, with this message.
async function until<T>(f: () => T | undefined, ms = 15_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

afterEach(async () => {
  await app?.stop();
  await fake?.close();
});

describe('discord bot against a fake Discord on 127.0.0.1', () => {
  it('answers a mention in a new thread with typing, streamed edits and citation links, and no reasoning', async () => {
    await setup([
      H.analysis(REASONING) + H.final('Install Ollama. Then run ollama pull gpt-oss:20b [faq:ollama.md#1].'),
    ]);
    fake.message({ content: `<@${BOT.id}> how do I set up ollama?` });
    const done = await until(() => fake.posted().find((p) => p.content.includes('docs.example.com')));
    const threadReq = fake.requests.find((r) => r.path.endsWith('/threads'));
    expect(threadReq?.path).toMatch(new RegExp(`^/channels/${CHANNEL}/messages/\\d+/threads$`));
    expect(threadReq?.body?.name).toBe('how do I set up ollama?');
    expect(done.channelId).not.toBe(CHANNEL);
    expect(done.content).toBe(
      'Install Ollama. Then run ollama pull gpt-oss:20b [ollama](<https://docs.example.com/ollama>).',
    );
    expect(done.edits).toBeGreaterThanOrEqual(1); // posted at the first sentence, then edited
    expect(fake.requests.some((r) => r.path === `/channels/${done.channelId}/typing`)).toBe(true);
    const sent = fake.requests.filter((r) => r.method !== 'GET').map((r) => JSON.stringify(r.body ?? ''));
    expect(sent.join('\n')).not.toContain('PRIVATE-REASONING');
    expect(
      fake.requests.find((r) => r.method === 'POST' && r.path.endsWith('/messages'))?.body?.allowed_mentions,
    ).toEqual({ parse: [] });
  });

  it('continues the conversation in its thread and lets only moderators reset or close it', async () => {
    const { backend } = await setup([
      H.analysis('a') + H.final('First answer.'),
      H.analysis('b') + H.final('Second answer.'),
    ]);
    fake.message({ content: `<@${BOT.id}> first question` });
    const first = await until(() => fake.posted().find((p) => p.content === 'First answer.'));
    const thread = first.channelId;
    fake.message({ content: 'follow-up', channelId: thread });
    await until(() => fake.posted().find((p) => p.content === 'Second answer.' && p.channelId === thread));
    expect(backend.promptText(1)).toContain('first question'); // same conversation

    fake.message({ content: '!close spam', channelId: thread, roles: [] });
    await until(() => fake.posted().find((p) => p.content === 'Only moderators can do that.'));
    fake.message({ content: '!close off topic', channelId: thread, roles: [MOD_ROLE], authorId: '77' });
    await until(() => fake.posted().find((p) => p.content === 'Conversation closed: off topic'));
    fake.message({ content: 'hello again', channelId: thread });
    await until(() => fake.posted().find((p) => p.content.startsWith('This conversation is closed')));
    expect(backend.calls).toBe(2);
  });

  it('answers DMs as their own conversation and respects the reply cap', async () => {
    const { backend } = await setup([H.analysis('x') + H.final('DM answer.')], 1);
    fake.message({ content: 'hi there', channelId: '600', guild: false });
    await until(() => fake.posted().find((p) => p.content === 'DM answer.' && p.channelId === '600'));
    fake.message({ content: 'one more', channelId: '600', guild: false });
    await until(() => fake.posted().find((p) => p.content.includes('passed it to a person')));
    expect(backend.calls).toBe(1);
  });

  it('stays up when the model fails: the user gets a polite error reply, and the next message is answered', async () => {
    const { backend } = await setup([
      () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:11434');
      },
      H.final('Working again.'),
    ]);
    fake.message({ content: 'are you there?', channelId: '601', guild: false });
    await until(() =>
      fake.posted().find((p) => p.content.startsWith("Sorry, I couldn't answer that just now")),
    );
    fake.message({ content: 'and now?', channelId: '601', guild: false });
    await until(() => fake.posted().find((p) => p.content === 'Working again.'));
    expect(backend.calls).toBe(2);
    // The client is still connected and handling events.
    expect(app.client.isReady()).toBe(true);
  });

  it('splits an answer over 2,000 characters into several messages on sentence boundaries', async () => {
    const long = Array.from(
      { length: 120 },
      (_, i) => `Step ${i}: run the command and check the output.`,
    ).join(' ');
    // Edits of the growing last message at most every 20 ms (as in production, at a shorter interval): a new
    // message still goes out as soon as the previous one is full.
    const { backend, adapter } = await setup([H.final(long)], 5, 20);
    fake.message({ content: 'give me every step', channelId: '602', guild: false });
    // Wait for the end of the turn, not for a marker in the text: a streamed message grows a sentence (or a
    // "Step 119:") at a time, so any text seen mid-stream may still be edited.
    await until(() => backend.calls === 1 && adapter.inFlight === 0);
    const parts = fake.posted().filter((p) => p.channelId === '602');
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts) {
      expect(p.content.length).toBeLessThanOrEqual(DISCORD_MAX_LENGTH);
      expect(p.content.endsWith('output.')).toBe(true);
    }
    expect(parts.map((p) => p.content).join(' ')).toBe(long);
    // It was streamed: messages were edited as the answer grew, and each was posted once.
    expect(parts.some((p) => p.edits > 0)).toBe(true);
    expect(
      fake.requests.filter((r) => r.method === 'POST' && r.path === '/channels/602/messages'),
    ).toHaveLength(parts.length);
  });
});
