import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  Agent,
  ChatCompletionsBackend,
  OutputValidationError,
  PROFILES,
  type RunResult,
  run,
  ScriptedBackend,
} from '../src/index.js';
import { FakeServer } from './fakes/server.js';
import { CHAT_FLAVORS, chatCompletions } from './fakes/wire.js';
import { collect, deltas, H, scriptedAgent } from './helpers.js';

const Answer = z.object({ city: z.string(), celsius: z.number() });

describe('structured output', () => {
  it('describes the format in the developer message, keeps tools, validates and re-asks', async () => {
    const { agent, backend, calls } = scriptedAgent(
      [
        H.call('functions.get_weather', '{"city":"Oslo"}'),
        H.final('It is -3 in Oslo.'),
        H.final('```json\n{"city":"Oslo","celsius":"-3"}\n```'),
        H.final('{"city":"Oslo","celsius":-3}'),
      ],
      { output: { name: 'weather_report', schema: Answer }, maxRetries: 2 },
    );
    const res = await run(agent, 'Oslo?');
    expect(res.output).toEqual({ city: 'Oslo', celsius: -3 });
    expect(calls.cities).toEqual(['Oslo']);
    const p0 = backend.promptText(0);
    expect(p0).toContain('# Response Formats\n\n## weather_report\n\n{"type":"object"');
    expect(p0.indexOf('# Response Formats')).toBeLessThan(p0.indexOf('# Tools'));
    expect(backend.promptText(2)).toContain('does not match the response format (not JSON');
    expect(backend.promptText(3)).toMatch(
      /does not match the response format \(celsius: [^)]*expected number/i,
    );
  });

  it('types the output from the schema', () => {
    const typed = new Agent({ backend: new ScriptedBackend([]), output: { schema: Answer } });
    expectTypeOf(typed).toEqualTypeOf<Agent<{ city: string; celsius: number }>>();
    expectTypeOf(run(typed, 'x').catch(() => undefined)).resolves.toEqualTypeOf<
      RunResult<{ city: string; celsius: number }> | undefined
    >();
  });

  it('fails with OutputValidationError when the model never complies', async () => {
    const { agent } = scriptedAgent([H.final('no'), H.final('still no')], {
      output: { schema: Answer },
      maxRetries: 1,
    });
    await expect(run(agent, 'x')).rejects.toBeInstanceOf(OutputValidationError);
  });
});

describe('output sanitizer', () => {
  it('re-splits raw Harmony markup a server leaked into content, never showing reasoning', async () => {
    const leaked =
      '<|channel|>analysis<|message|>private thoughts<|end|><|start|>assistant<|channel|>final<|message|>Hello there.';
    const server = await new FakeServer(
      chatCompletions(CHAT_FLAVORS.lmstudio, [{ content: leaked }]),
    ).start();
    try {
      const { agent } = scriptedAgent([], {
        backend: new ChatCompletionsBackend({
          baseURL: `${server.url}/v1`,
          model: 'm',
          profile: PROFILES.lmstudio,
        }),
      });
      const { result, events } = await collect(agent, 'hi');
      expect(result.finalText).toBe('Hello there.');
      expect(deltas(events, 'final_delta')).not.toContain('private thoughts');
      expect(deltas(events, 'final_delta')).toBe('Hello there.');
      expect(result.reasoning).toBe('private thoughts');
      expect(result.newMessages.find((m) => m.channel === 'analysis')).toBeDefined();
    } finally {
      await server.close();
    }
  });
});
