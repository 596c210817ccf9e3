import { afterEach, describe, expect, it } from 'vitest';
import {
  Agent,
  ChatCompletionsBackend,
  InMemoryConversationStore,
  outputGuardrail,
  PROFILES,
  type RunEvent,
  sentenceEnds,
} from '../src/index.js';
import { FakeServer } from './fakes/server.js';
import { CHAT_FLAVORS, chatCompletions } from './fakes/wire.js';
import { collect, deltas, H, scriptedAgent } from './helpers.js';

/** Trips on an email address; records every text it was asked about. */
function noEmails(seen: string[] = []) {
  return outputGuardrail('no_emails', (out) => {
    seen.push(out);
    return /@/.test(out)
      ? { ok: false, reason: 'contains an email address', reply: '[redacted]' }
      : { ok: true };
  });
}

const LEAKY = 'Sure. Refunds take 30 days. Write to bob@example.com for help. Thanks!';
const CLEAN = 'Sure. Refunds take 30 days: see the policy.\nAnything else? Version 3.5 is out';

const userFacing = (events: RunEvent[]) =>
  events.filter((e) => e.type === 'final_delta' || e.type === 'guardrail_tripped').map((e) => e.type);

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('sentenceEnds', () => {
  it('ends sentences at punctuation followed by whitespace and at newlines, not inside numbers', () => {
    const t = 'One. Two! 3.5 is x; y\nz?';
    expect(sentenceEnds(t).map((e) => t.slice(0, e))).toEqual([
      'One.',
      'One. Two!',
      'One. Two! 3.5 is x;',
      'One. Two! 3.5 is x; y\n',
    ]);
    expect(sentenceEnds(t, 5)).toEqual(sentenceEnds(t).slice(1));
  });
});

describe('guardStreaming: sentence (the default)', () => {
  it('a guardrail tripping mid-answer releases nothing past the last passed sentence', async () => {
    const seen: string[] = [];
    const store = new InMemoryConversationStore();
    const { agent } = scriptedAgent([H.analysis('Answer.') + H.final(LEAKY)], {
      store,
      guardrails: { output: [noEmails(seen)] },
    });
    const { events, result } = await collect(agent, 'refunds?', { conversationId: 'g' });
    expect(deltas(events, 'final_delta')).toBe('Sure. Refunds take 30 days.');
    expect(userFacing(events).at(-1)).toBe('guardrail_tripped');
    expect(result).toMatchObject({
      status: 'blocked',
      finalText: '[redacted]',
      stop: { by: 'output_guardrail', reason: 'contains an email address' },
    });
    // Checked on everything so far, a sentence at a time; the turn stopped at the trip.
    expect(seen).toEqual([
      'Sure.',
      'Sure. Refunds take 30 days.',
      'Sure. Refunds take 30 days. Write to bob@example.com for help.',
    ]);
    // Only the reply is stored as the assistant's answer.
    const stored = (await store.load('g'))?.messages ?? [];
    expect(JSON.stringify(stored)).not.toContain('bob@example.com');
    expect(stored.at(-1)).toMatchObject({ channel: 'final', content: [{ text: '[redacted]' }] });
  });

  it('a passing answer streams all of it, a sentence at a time, and finalText is the whole answer', async () => {
    const { agent } = scriptedAgent([H.final(CLEAN)], { guardrails: { output: [noEmails()] } });
    const { events, result } = await collect(agent, 'refunds?');
    const parts = events.filter((e) => e.type === 'final_delta').map((e) => e.delta);
    expect(parts.join('')).toBe(CLEAN);
    expect(parts).toEqual([
      'Sure.',
      ' Refunds take 30 days:',
      // The period is known to end a sentence only when the newline arrives: one release.
      ' see the policy.\n',
      'Anything else?',
      ' Version 3.5 is out',
    ]);
    expect(result).toMatchObject({ status: 'completed', finalText: CLEAN });
  });

  it('a trip on the last, unterminated sentence is caught by the whole-answer check', async () => {
    const { agent } = scriptedAgent([H.final('Hi. Mail bob@example.com')], {
      guardrails: { output: [noEmails()] },
    });
    const { events, result } = await collect(agent, 'contact?');
    expect(deltas(events, 'final_delta')).toBe('Hi.');
    expect(result).toMatchObject({ status: 'blocked', finalText: '[redacted]' });
  });

  it('gates Chat Completions answers the same way, whatever the chunking', async () => {
    server = await new FakeServer(
      chatCompletions(CHAT_FLAVORS.vllm, [{ reasoning: 'ok', content: LEAKY }, { content: CLEAN }]),
    ).start();
    const agent = new Agent({
      backend: new ChatCompletionsBackend({
        baseURL: `${server.url}/v1`,
        model: 'm',
        profile: PROFILES.vllm,
      }),
      guardrails: { output: [noEmails()] },
    });
    const first = await collect(agent, 'refunds?');
    expect(deltas(first.events, 'final_delta')).toBe('Sure. Refunds take 30 days.');
    expect(first.result).toMatchObject({ status: 'blocked', finalText: '[redacted]' });
    const second = await collect(agent, 'again?');
    expect(deltas(second.events, 'final_delta')).toBe(CLEAN);
    expect(second.result.finalText).toBe(CLEAN);
  });
});

describe('guardStreaming: answer and off', () => {
  it('answer: nothing is shown until the whole answer passed', async () => {
    const { agent } = scriptedAgent([H.final(LEAKY), H.final(CLEAN)], {
      guardrails: { output: [noEmails()] },
      guardStreaming: 'answer',
    });
    const blocked = await collect(agent, 'a');
    expect(userFacing(blocked.events)).toEqual(['guardrail_tripped']);
    const passed = await collect(agent, 'b');
    expect(passed.events.filter((e) => e.type === 'final_delta').map((e) => e.delta)).toEqual([CLEAN]);
  });

  it('off (per run): text streams as it arrives and is withdrawn afterwards', async () => {
    const { agent } = scriptedAgent([H.final(LEAKY)], { guardrails: { output: [noEmails()] } });
    const { events, result } = await collect(agent, 'a', { guardStreaming: 'off' });
    expect(deltas(events, 'final_delta')).toBe(LEAKY);
    expect(userFacing(events).at(-1)).toBe('guardrail_tripped');
    expect(result.finalText).toBe('[redacted]');
  });
});
