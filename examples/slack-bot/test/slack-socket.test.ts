import { harmonyScript as H, InMemoryConversationStore, ScriptedBackend } from '@harmonia/core';
import { createChatAdapter, createSupportBot } from '@harmonia/support';
import { afterEach, describe, expect, it } from 'vitest';
import { SLACK_MAX_LENGTH, type SlackApp, startSlackApp } from '../src/index.js';
import { BOT_USER, type FakeSlack, startFakeSlack } from './fake-slack.js';
import { type FakeSocketMode, startFakeSocketMode } from './fake-socket-mode.js';

let socket: FakeSocketMode;
let fake: FakeSlack;
let slack: SlackApp | undefined;

afterEach(async () => {
  await slack?.stop();
  await socket?.close();
  await fake?.close();
});

async function until<T>(f: () => T | undefined, ms = 10_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('slack bot in Socket Mode: real Bolt + @slack/socket-mode against a local fake', () => {
  it('connects with the app token, acks events, answers mentions in the thread and follows the thread from the store', async () => {
    socket = await startFakeSocketMode();
    fake = await startFakeSlack(socket.url);
    const store = new InMemoryConversationStore();
    const backend = new ScriptedBackend([H.final('Socket answer.'), H.final('Follow-up answer.')]);
    const bot = createSupportBot({ policy: { product: 'Harmonia', allowed: ['Harmonia'] }, backend, store });
    const adapter = createChatAdapter(bot, {
      formatLink: (url, label) => `<${url}|${label}>`,
      maxLength: SLACK_MAX_LENGTH,
      editIntervalMs: 0,
    });
    slack = await startSlackApp({
      token: 'xoxb-test',
      appToken: 'xapp-test',
      adapter,
      slackApiUrl: fake.apiUrl,
      follows: async (id) => (await store.load(id)) !== null,
    });
    expect(slack.mode).toBe('socket');
    expect(slack.server).toBeUndefined();
    expect(socket.connected()).toBe(1);
    const open = fake.calls.find((c) => c.method === 'apps.connections.open');
    expect(open?.auth).toBe('Bearer xapp-test');

    await socket.sendEvent({
      type: 'app_mention',
      user: 'U1',
      text: `<@${BOT_USER}> how do I install it?`,
      ts: '1700000000.000100',
      channel: 'C1',
    });
    const answer = await until(() => fake.messages().find((m) => m.text === 'Socket answer.'));
    expect(answer.thread_ts).toBe('1700000000.000100');
    expect(answer.channel).toBe('C1');
    expect(socket.acks).toEqual(['env-1']);

    // A follow-up in the thread without a mention, after a restart of the app: the store says the thread is ours.
    await slack.stop();
    slack = await startSlackApp({
      token: 'xoxb-test',
      appToken: 'xapp-test',
      adapter,
      slackApiUrl: fake.apiUrl,
      follows: async (id) => (await store.load(id)) !== null,
    });
    await until(() => (socket.connected() >= 1 ? true : undefined));
    await socket.sendEvent({
      type: 'message',
      channel_type: 'channel',
      user: 'U1',
      text: 'and then?',
      ts: '1700000000.000200',
      thread_ts: '1700000000.000100',
      channel: 'C1',
    });
    await until(() => fake.messages().find((m) => m.text === 'Follow-up answer.'));
    expect(backend.promptText(1)).toContain('how do I install it?');
  });
});
