import { harmonyScript, ScriptedBackend } from '@harmonia/core';
import { createChatAdapter, createSupportBot } from '@harmonia/support';
import { afterEach, describe, expect, it } from 'vitest';
import { SLACK_MAX_LENGTH, type SlackApp, startSlackApp } from '../src/index.js';
import { BOT_USER, type FakeSlack, sendEvent, startFakeSlack } from './fake-slack.js';

const H = harmonyScript;
const SECRET = 'test-signing-secret';
const MOD = 'UMOD';

let fake: FakeSlack;
let slack: SlackApp;

async function setup(steps: string[], maxReplies = 5) {
  fake = await startFakeSlack();
  const backend = new ScriptedBackend(steps);
  const bot = createSupportBot({
    policy: { product: 'Harmonia', allowed: ['Harmonia'] },
    backend,
    maxReplies,
  });
  const adapter = createChatAdapter(bot, {
    link: (id) => `https://docs.example.com/${id.replace(/\.md#.*/, '')}`,
    formatLink: (url, label) => `<${url}|${label}>`,
    maxLength: SLACK_MAX_LENGTH,
    editIntervalMs: 0,
  });
  slack = await startSlackApp({
    token: 'xoxb-test',
    signingSecret: SECRET,
    adapter,
    port: 0,
    slackApiUrl: fake.apiUrl,
    processBeforeResponse: true,
    moderators: [MOD],
  });
  return { backend };
}

const mention = (text: string, ts: string, extra: Record<string, unknown> = {}) => ({
  type: 'app_mention',
  user: 'U1',
  text: `<@${BOT_USER}> ${text}`,
  ts,
  channel: 'C1',
  ...extra,
});

afterEach(async () => {
  await slack?.stop();
  await fake?.close();
});

describe('slack bot: real Bolt app, signed events, fake Web API on 127.0.0.1', () => {
  it('answers a mention in its thread with streamed updates and Slack links, never the reasoning', async () => {
    await setup([
      H.analysis('PRIVATE-REASONING about vLLM') +
        H.final('Start vLLM first. Then set HARMONIA_BACKEND [faq:vllm.md#1].'),
    ]);
    const res = await sendEvent(slack.port, SECRET, mention('how do I use vLLM?', '1700000000.000100'));
    expect(res.status).toBe(200);
    const [msg] = fake.messages();
    expect(msg).toMatchObject({
      channel: 'C1',
      thread_ts: '1700000000.000100',
      text: 'Start vLLM first. Then set HARMONIA_BACKEND <https://docs.example.com/vllm|vllm>.',
    });
    expect(msg!.updates).toBeGreaterThanOrEqual(1);
    const post = fake.calls.find((c) => c.method === 'chat.postMessage')!;
    expect(post.auth).toBe('Bearer xoxb-test');
    expect(JSON.stringify(fake.calls)).not.toContain('PRIVATE-REASONING');
  });

  it('continues in the thread without a mention; moderators can close it, others cannot', async () => {
    const { backend } = await setup([
      H.analysis('a') + H.final('First.'),
      H.analysis('b') + H.final('Second.'),
    ]);
    await sendEvent(slack.port, SECRET, mention('q1', '1700000000.000200'));
    const follow = (text: string, user = 'U1') => ({
      type: 'message',
      channel_type: 'channel',
      user,
      text,
      ts: `1700000000.00${Math.floor(Math.random() * 9000 + 1000)}`,
      thread_ts: '1700000000.000200',
      channel: 'C1',
    });
    await sendEvent(slack.port, SECRET, follow('q2'));
    expect(backend.promptText(1)).toContain('q1');
    await sendEvent(slack.port, SECRET, follow('!close no reason'));
    await sendEvent(slack.port, SECRET, follow('!close duplicate ticket', MOD));
    await sendEvent(slack.port, SECRET, follow('q3'));
    expect(fake.messages().map((m) => m.text)).toEqual([
      'First.',
      'Second.',
      'Only moderators can do that.',
      'Conversation closed: duplicate ticket',
      'This conversation is closed. Start a new one if you need more help.',
    ]);
    expect(fake.messages().every((m) => m.thread_ts === '1700000000.000200')).toBe(true);
    expect(backend.calls).toBe(2);
  });

  it('answers DMs, applies the reply cap, and rejects bad signatures and stale requests', async () => {
    const { backend } = await setup([H.analysis('x') + H.final('DM answer.')], 1);
    const dm = (text: string, ts: string) => ({
      type: 'message',
      channel_type: 'im',
      user: 'U1',
      text,
      ts,
      channel: 'D1',
    });
    await sendEvent(slack.port, SECRET, dm('hi', '1700000000.000300'));
    await sendEvent(slack.port, SECRET, dm('again', '1700000000.000301'));
    expect(fake.messages().map((m) => [m.channel, m.thread_ts, m.text.slice(0, 20)])).toEqual([
      ['D1', undefined, 'DM answer.'],
      ['D1', undefined, "I've reached my limi"],
    ]);
    expect(backend.calls).toBe(1);
    const before = fake.calls.length;
    expect((await sendEvent(slack.port, SECRET, dm('x', '1.1'), { wrongSecret: true })).status).toBe(401);
    expect((await sendEvent(slack.port, SECRET, dm('x', '1.2'), { ageSeconds: 600 })).status).toBe(401);
    expect(fake.calls.length).toBe(before);
  });

  it('ignores its own messages and other bots', async () => {
    const { backend } = await setup([]);
    await sendEvent(slack.port, SECRET, {
      type: 'message',
      channel_type: 'im',
      bot_id: 'B2',
      text: 'hi',
      ts: '1.3',
      channel: 'D1',
    });
    await sendEvent(slack.port, SECRET, {
      type: 'message',
      channel_type: 'im',
      user: BOT_USER,
      text: 'hi',
      ts: '1.4',
      channel: 'D1',
    });
    expect(backend.calls).toBe(0);
    expect(fake.messages()).toEqual([]);
  });
});
