import { describe, expect, it } from 'vitest';
import { Agent, promptView, renderConversationForCompletion, run, ScriptedBackend } from '../src/index.js';
import { H, weatherTool } from './helpers.js';

describe('incremental prompt rendering', () => {
  it('sends exactly the tokens of a full Harmony render, call after call and run after run', async () => {
    const backend = new ScriptedBackend([
      H.analysis('Think.') + H.call('functions.get_weather', '{"city":"Oslo"}'),
      H.preamble('One more.') + H.callAfterChannel('python', 'print(1)'),
      H.analysis('Done.') + H.final('Snow.'),
      H.final('Bye.'),
    ]);
    const python = {
      name: 'python',
      placement: 'system' as const,
      config: () => ({ name: 'python', description: 'Runs code.', tools: [] }),
      call: async () => ({ text: '1' }),
    };
    const agent = new Agent({
      instructions: 'Be brief.',
      tools: [weatherTool({ cities: [] }), python],
      backend,
      currentDate: '2026-01-15',
    });
    const first = await run(agent, 'Oslo?', { conversationId: 'p' });
    const second = await run(agent, 'Thanks', { conversationId: 'p' });
    const [sys, dev] = first.transcript;
    const history = [...first.newMessages, ...second.newMessages];
    // History as it stood before each model call (user message + everything before that call's output).
    const before = [1, 4, 7, 10].map((n) => history.slice(0, n));
    before.forEach((h, i) => {
      const expected = renderConversationForCompletion(
        { messages: [sys!, dev!, ...promptView(h)] },
        'assistant',
      );
      expect(backend.requests[i]!.prompt).toEqual(expected);
    });
  });

  it('re-renders the system and developer messages when a tool config changes', async () => {
    let description = 'Version one.';
    const dynamic = {
      name: 'kb',
      placement: 'developer' as const,
      config: () => ({
        name: 'kb',
        description,
        tools: [{ name: 'get', description: 'Get.', parameters: null }],
      }),
      call: async () => ({ text: 'x' }),
    };
    const backend = new ScriptedBackend([H.final('a'), H.final('b')]);
    const agent = new Agent({ tools: [dynamic], backend, currentDate: '2026-01-15' });
    await run(agent, 'one');
    description = 'Version two.';
    await run(agent, 'two');
    expect(backend.promptText(0)).toContain('Version one.');
    expect(backend.promptText(1)).toContain('Version two.');
  });
});
