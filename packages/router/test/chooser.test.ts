import { Agent, type ChooseContext, run, ScriptedBackend } from '@harmonia/core';
import { describe, expect, it } from 'vitest';
import {
  createRouterChooser,
  llmRouterFromBackend,
  parseLlmRouteAnswer,
  RouterChooserError,
} from '../src/index.js';

const SIMPLE = 'What are your store hours on Saturday?';
const HARD =
  'My router keeps dropping the connection every 20 minutes. I already restarted it, updated the firmware, changed the channel and moved it. It still drops on 5 GHz only. What else can I try?';
const final = (t: string) => `<|channel|>final<|message|>${t}<|return|>`;
const ctx = (input: string, extra: Partial<ChooseContext> = {}): ChooseContext => ({
  conversationId: 'c1',
  input,
  history: [],
  ...extra,
});

describe('createRouterChooser', () => {
  it('returns the backend of the chosen model with the decision', async () => {
    const small = new ScriptedBackend([], { id: 'small' });
    const large = new ScriptedBackend([], { id: 'large' });
    const chooser = createRouterChooser({ backends: { '20b': small, '120b': large } });
    const a = await chooser.choose(ctx(SIMPLE, { conversationId: 'a' }));
    expect(a.decision).toMatchObject({ model: '20b', effort: 'low' });
    expect(a.backend).toBe(small);
    const b = await chooser.choose(ctx(HARD, { conversationId: 'b' }));
    expect(b.decision.model).toBe('120b');
    expect(b.backend).toBe(large);
    expect(b.decision.scores?.p120b).toBeGreaterThan(b.decision.scores?.threshold ?? 1);
  });

  it('is sticky per conversation and escalates on trouble', async () => {
    const small = new ScriptedBackend([]);
    const large = new ScriptedBackend([]);
    const chooser = createRouterChooser({ backends: { '20b': small, '120b': large } });
    expect((await chooser.choose(ctx(SIMPLE))).decision.arm).toBe('20b-low');
    expect((await chooser.choose(ctx(HARD))).decision.reason).toMatch(/^sticky/);
    const up = await chooser.choose(ctx(SIMPLE, { trouble: 'monitor_flagged' }));
    expect(up.decision.arm).toBe('120b-medium');
    expect(up.backend).toBe(large);
    expect((await chooser.choose(ctx('thanks'))).decision.arm).toBe('120b-medium');
  });

  it('needs a backend for each model size', () => {
    const b = new ScriptedBackend([]);
    expect(() => createRouterChooser({ backends: {} })).toThrow(RouterChooserError);
    expect(() => createRouterChooser({ backends: { '30b': b } as never })).toThrow(/unknown arm '30b'/);
    expect(() => createRouterChooser({ backends: { '20b': b }, policy: { model: '120b' } })).toThrow(
      /pins 120b/,
    );
    // One model covered: it is pinned and only the effort is routed.
    expect(createRouterChooser({ backends: { '20b': b } }).router.policy.model).toBe('20b');
  });
});

describe('LLM-as-router fallback', () => {
  const backends = { '20b': new ScriptedBackend([]), '120b': new ScriptedBackend([]) };

  it('asks the LLM only inside the uncertain band, once per conversation', async () => {
    const asked: string[] = [];
    const llm = async (instructions: string, query: string) => {
      expect(instructions).toContain('JSON');
      asked.push(query);
      return 'Sure: {"model":"120b","effort":"high"}';
    };
    const always = createRouterChooser({ backends, llm, policy: { uncertainBand: [0, 1] } });
    const d = (await always.choose(ctx(SIMPLE))).decision;
    expect(d).toMatchObject({ model: '120b', effort: 'high', arm: '120b-high' });
    expect(d.reason).toMatch(/classifier unsure .* LLM router chose 120b-high/);
    expect((await always.choose(ctx('thanks'))).decision.arm).toBe('120b-high');
    expect(asked).toEqual([SIMPLE]);

    const never = createRouterChooser({ backends, llm, policy: { uncertainBand: [0.999, 1] } });
    expect((await never.choose(ctx(SIMPLE))).decision.arm).toBe('20b-low');
    expect(asked).toHaveLength(1);
  });

  it('keeps the classifier choice when the LLM fails or answers nonsense', async () => {
    const failing = createRouterChooser({
      backends,
      policy: { uncertainBand: [0, 1] },
      llm: async () => {
        throw new Error('backend down');
      },
    });
    const f = (await failing.choose(ctx(SIMPLE))).decision;
    expect(f.arm).toBe('20b-low');
    expect(f.reason).toContain('LLM router failed: backend down');
    const vague = createRouterChooser({
      backends,
      policy: { uncertainBand: [0, 1] },
      llm: async () => 'not sure',
    });
    expect((await vague.choose(ctx(SIMPLE))).decision.reason).toContain('no model/effort');
  });

  it('accepts a parsed answer and fills in what it leaves out', async () => {
    const c = createRouterChooser({
      backends,
      policy: { uncertainBand: [0, 1] },
      llm: async () => ({ effort: 'medium' }),
    });
    expect((await c.choose(ctx(SIMPLE))).decision.arm).toBe('20b-medium');
  });

  it('can ask gpt-oss through a token backend, in Harmony, at low effort', async () => {
    const router20b = new ScriptedBackend(
      [
        '<|channel|>analysis<|message|>A multi-step problem.<|end|><|start|>assistant<|channel|>final<|message|>{"model":"120b","effort":"high"}<|return|>',
      ],
      { id: 'router-20b' },
    );
    const c = createRouterChooser({
      backends,
      policy: { uncertainBand: [0, 1] },
      llm: llmRouterFromBackend(router20b),
    });
    const d = (await c.choose(ctx(SIMPLE, { conversationId: 'llm-backend' }))).decision;
    expect(d.arm).toBe('120b-high');
    const prompt = router20b.promptText(0);
    expect(prompt).toContain('Reasoning: low');
    expect(prompt).toContain('<|start|>developer<|message|># Instructions');
    expect(prompt).toContain(`<|start|>user<|message|>${SIMPLE}<|end|>`);
    expect(prompt.endsWith('<|start|>assistant')).toBe(true);
    router20b.assertDone();
  });

  it('parses replies', () => {
    expect(parseLlmRouteAnswer('{"model": "20b", "effort": "low"}')).toEqual({ model: '20b', effort: 'low' });
    expect(parseLlmRouteAnswer('model=120B')).toEqual({ model: '120b' });
    expect(parseLlmRouteAnswer('no idea')).toBeUndefined();
  });
});

describe('Agent runtime with the router as its backend chooser', () => {
  it('routes a simple question to 20b at low effort', async () => {
    const small = new ScriptedBackend([final('We open 9 to 5 on Saturdays.')], { id: '20b' });
    const large = new ScriptedBackend([], { id: '120b' });
    const agent = new Agent({ backend: createRouterChooser({ backends: { '20b': small, '120b': large } }) });
    const result = await run(agent, SIMPLE, { conversationId: 'shop-1' });
    expect(result.finalText).toBe('We open 9 to 5 on Saturdays.');
    expect(result.routing).toHaveLength(1);
    expect(result.routing[0]).toMatchObject({ model: '20b', effort: 'low' });
    expect(result.routing[0]?.reason).toMatch(/classifier p\(120b\)/);
    expect(small.promptText(0)).toContain('Reasoning: low');
    expect(large.calls).toBe(0);
    small.assertDone();
  });

  it('escalates after empty turns, records why, and sticks to the escalated arm', async () => {
    const small = new ScriptedBackend(['', ''], { id: '20b' });
    const large = new ScriptedBackend(
      [final('Try a fixed 20 MHz channel width.'), final('You are welcome!')],
      {
        id: '120b',
      },
    );
    const agent = new Agent({ backend: createRouterChooser({ backends: { '20b': small, '120b': large } }) });
    const first = await run(agent, SIMPLE, { conversationId: 'c-esc' });
    expect(first.finalText).toBe('Try a fixed 20 MHz channel width.');
    expect(first.routing.map((d) => `${d.model}-${d.effort}`)).toEqual([
      '20b-low',
      '20b-medium',
      '120b-medium',
    ]);
    expect(first.routing[1]?.reason).toBe('escalated after empty turn: 20b-low -> 20b-medium');
    expect(first.turns.map((t) => t.backend)).toEqual(['20b', '20b', '120b']);
    expect(small.promptText(0)).toContain('Reasoning: low');
    expect(small.promptText(1)).toContain('Reasoning: medium');
    expect(large.promptText(0)).toContain('Reasoning: medium');

    const second = await run(agent, 'thanks!', { conversationId: 'c-esc' });
    expect(second.finalText).toBe('You are welcome!');
    expect(second.routing[0]).toMatchObject({ model: '120b', effort: 'medium' });
    expect(second.routing[0]?.reason).toMatch(/^sticky/);
    small.assertDone();
    large.assertDone();
  });
});

describe('decisions in the store', () => {
  it('records new decisions and restores a sticky one after a restart', async () => {
    const { InMemoryConversationStore } = await import('@harmonia/core');
    const { routingRecordId } = await import('../src/index.js');
    const store = new InMemoryConversationStore();
    const backends = { '20b': new ScriptedBackend([]), '120b': new ScriptedBackend([]) };
    const first = createRouterChooser({ backends, store });
    expect((await first.choose(ctx(HARD, { conversationId: 's1' }))).decision.model).toBe('120b');
    expect((await first.choose(ctx(SIMPLE, { conversationId: 's1' }))).decision.reason).toMatch(/^sticky/);
    const rec = await store.load(routingRecordId('s1'));
    // Only the new decision is recorded, not the sticky repeat.
    expect(rec?.messages).toHaveLength(1);
    const entry = rec?.messages[0]?.content[0] as { text: string } | undefined;
    expect(JSON.parse(entry?.text ?? '{}')).toMatchObject({
      model: '120b',
      served: '120b',
    });
    // A new process over the same store: the conversation keeps 120b although the message is simple.
    const second = createRouterChooser({ backends, store });
    const again = await second.choose(ctx(SIMPLE, { conversationId: 's1' }));
    expect(again.decision).toMatchObject({ model: '120b' });
    expect(again.decision.reason).toMatch(/^sticky/);
    expect((await second.choose(ctx(SIMPLE, { conversationId: 's2' }))).decision.model).toBe('20b');
  });
});
