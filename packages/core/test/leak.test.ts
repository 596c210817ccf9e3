/**
 * The leak invariant under attack: a model scripted to emit the malformed outputs real deployments produce. Each
 * case failed on the runtime before the single pipeline (reasoning shown as a tool call or an answer, raw markup
 * in the answer, two answers in one run).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryIO } from '../../cli/src/command.js';
import { chatCommand } from '../../cli/src/commands/chat.js';
import {
  ChatCompletionsBackend,
  PROFILES,
  patternMonitor,
  type RunEvent,
  type RunResult,
} from '../src/index.js';
import { FakeServer } from './fakes/server.js';
import { CHAT_FLAVORS, chatCompletions } from './fakes/wire.js';
import { collect, deltas, H, scriptedAgent } from './helpers.js';

const SECRET = 'SECRET-REASONING';

/** Everything a user could see: answer and preamble text, the final text, and displayed tool calls. */
function userVisible(events: RunEvent[], result: RunResult): string {
  const calls = events
    .filter((e) => e.type === 'tool_call_started')
    .map((e) => (e.type === 'tool_call_started' && !e.internal ? `${e.recipient}(${e.arguments})` : ''));
  return [deltas(events, 'final_delta'), deltas(events, 'preamble_delta'), result.finalText, ...calls].join(
    '\n',
  );
}

const answers = (events: RunEvent[]) =>
  new Set(events.filter((e) => e.type === 'final_delta').map((e) => e.turn));

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('leak invariant: malformed headers', () => {
  it('a header that lost <|channel|> is read as that channel, not as a call to a tool named `analysis`', async () => {
    const { agent, backend } = scriptedAgent([
      `analysis<|message|>${SECRET}<|end|><|start|>assistant<|channel|>final<|message|>Four.<|return|>`,
    ]);
    const { events, result } = await collect(agent, '2+2?');
    expect(userVisible(events, result)).not.toContain(SECRET);
    expect(events.some((e) => e.type === 'tool_call_started')).toBe(false);
    expect(result.finalText).toBe('Four.');
    expect(result.reasoning).toBe(SECRET);
    // One answer: the model was called once.
    backend.assertDone();
    expect(backend.calls).toBe(1);
  });

  it('a doubled channel marker is one channel, never a recipient', async () => {
    const { agent, backend } = scriptedAgent([
      `<|channel|>analysis<|channel|>analysis<|message|>${SECRET}<|end|><|start|>assistant<|channel|>final<|message|>Four.<|return|>`,
    ]);
    const { events, result } = await collect(agent, '2+2?');
    expect(userVisible(events, result)).not.toContain(SECRET);
    expect(events.some((e) => e.type === 'tool_call_started')).toBe(false);
    expect(backend.calls).toBe(1);
    expect(result.finalText).toBe('Four.');
  });

  it('`to=analysis` on the analysis channel is reasoning, not a call', async () => {
    const { agent } = scriptedAgent([
      `<|channel|>analysis to=analysis<|message|>${SECRET}<|call|>`,
      'The answer is four.<|return|>',
    ]);
    const { events, result } = await collect(agent, '2+2?');
    expect(events.some((e) => e.type === 'tool_call_started')).toBe(false);
    expect(userVisible(events, result)).not.toContain(SECRET);
    expect(result.finalText).toBe('The answer is four.');
  });

  it('header words written after <|message|> never reach the answer as raw markup', async () => {
    const { agent } = scriptedAgent([' to=<|message|>x<|call|>', ' to=<|message|>Four.<|call|>']);
    const { events, result } = await collect(agent, '2+2?');
    expect(result.finalText).toBe('Four.');
    expect(deltas(events, 'final_delta')).toBe('Four.');
  });

  it('a special token inside the answer is dropped, not shown as text', async () => {
    const { agent } = scriptedAgent([
      '<|constrain|><|endoftext|>',
      '<|constrain|><|endoftext|>',
      H.final('Fine<|constrain|>.'),
    ]);
    const { events, result } = await collect(agent, 'hi');
    expect(result.finalText).toBe('Fine.');
    expect(deltas(events, 'final_delta')).not.toContain('<|');
  });

  it('an answer followed by a call in one output is one answer: the call does not start another model call', async () => {
    const { agent, backend, calls } = scriptedAgent([
      '<|channel|>final<|message|>It is sunny.<|end|><|start|>assistant' +
        H.call('functions.get_weather', '{"city":"Oslo"}'),
    ]);
    const { events, result } = await collect(agent, 'Weather?');
    expect(result.finalText).toBe('It is sunny.');
    expect(answers(events).size).toBe(1);
    expect(calls.cities).toEqual([]);
    expect(backend.calls).toBe(1);
    expect(events.some((e) => e.type === 'harmony_repair' && e.kind === 'call_after_answer')).toBe(true);
  });

  it('an answer cut off by the token limit is withdrawn before the retry answers', async () => {
    const { agent } = scriptedAgent([
      { text: '<|channel|>final<|message|>Half an ans', finishReason: 'length' },
      H.final('Full answer.'),
    ]);
    const { events, result } = await collect(agent, 'hi');
    const w = events.findIndex((e) => e.type === 'answer_withdrawn');
    expect(w).toBeGreaterThan(0);
    expect(events[w]).toMatchObject({ reason: 'truncated' });
    const after = events.slice(w + 1);
    expect(deltas(after, 'final_delta')).toBe(result.finalText);
  });
});

describe('leak invariant: calls made while reasoning', () => {
  it('events mark analysis-channel calls internal; chat prints their arguments only with --show-reasoning', async () => {
    const steps = [
      H.callAfterChannel('functions.echo', `{"text":"${SECRET}"}`, 'analysis'),
      H.final('Done.'),
    ];
    const dir = await mkdtemp(join(tmpdir(), 'harmonia-leak-'));
    const file = join(dir, 'script.json');
    await writeFile(file, JSON.stringify(steps));
    const plain = memoryIO('hi\n/exit\n');
    expect(await chatCommand.run(['--backend', `script:${file}`, '--tools', 'echo'], plain.io)).toBe(0);
    expect(plain.stdout()).toContain('Done.');
    expect(plain.stdout()).toContain('functions.echo');
    expect(plain.stdout()).not.toContain(SECRET);
    const dev = memoryIO('hi\n/exit\n');
    await chatCommand.run(['--backend', `script:${file}`, '--tools', 'echo', '--show-reasoning'], dev.io);
    expect(dev.stdout()).toContain(SECRET);

    const { agent } = scriptedAgent([
      H.callAfterChannel('functions.get_weather', '{"city":"Oslo"}', 'analysis'),
      H.call('functions.get_weather', '{"city":"Rome"}'),
      H.final('Snow and sun.'),
    ]);
    const { events } = await collect(agent, 'Weather?');
    const started = events.filter((e) => e.type === 'tool_call_started');
    expect(started.map((e) => e.type === 'tool_call_started' && e.internal)).toEqual([true, false]);
  });
});

describe('leak invariant: message backends', () => {
  it('flattened output (special tokens stripped by the server) never streams its reasoning as the answer', async () => {
    server = await new FakeServer(
      chatCompletions(CHAT_FLAVORS.vllm, [
        { content: `analysisThe user asks. ${SECRET}.assistantfinalFour.` },
      ]),
    ).start();
    const { agent } = scriptedAgent([], {
      backend: new ChatCompletionsBackend({
        baseURL: `${server.url}/v1`,
        model: 'm',
        profile: PROFILES.vllm,
      }),
    });
    const { events, result } = await collect(agent, '2+2?');
    expect(userVisible(events, result)).not.toContain(SECRET);
    expect(result.finalText).toBe('Four.');
  });

  it('a monitor stop keeps the parsed messages and usage on message backends too', async () => {
    server = await new FakeServer(
      chatCompletions(CHAT_FLAVORS.vllm, [{ reasoning: 'We will exfiltrate the keys.', content: 'Sure.' }]),
    ).start();
    const { agent } = scriptedAgent([], {
      backend: new ChatCompletionsBackend({
        baseURL: `${server.url}/v1`,
        model: 'm',
        profile: PROFILES.vllm,
      }),
      monitor: patternMonitor([{ pattern: /exfiltrate/, reason: 'exfiltration' }]),
    });
    const { events, result } = await collect(agent, 'hi');
    expect(result.status).toBe('stopped');
    expect(deltas(events, 'final_delta')).toBe('');
    expect(result.usage.promptTokens).toBeGreaterThan(0);
    expect(result.turns[0]?.outcome).toBe('final');
  });
});
