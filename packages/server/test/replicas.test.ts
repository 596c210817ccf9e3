/**
 * Two `serve` replicas sharing one durable SQL store: a response made on one is continued on the other through
 * `previous_response_id` (a function-call round trip), with the reasoning passed back from the store.
 */
import { harmonyScript as H, openStore, ScriptedBackend } from '@harmonia/core';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createHarmoniaServer } from '../src/index.js';

describe('replicas on one SQL store', () => {
  it('continues on replica B a function call that replica A returned', async () => {
    const store = await openStore('pglite:memory');
    const a = new ScriptedBackend([
      H.analysis('Need the stock level.') + H.call('functions.stock', '{"sku":"K-1"}'),
    ]);
    const b = new ScriptedBackend([H.final('3 left in stock.')]);
    const serverA = createHarmoniaServer({ backend: a, store });
    const serverB = createHarmoniaServer({ backend: b, store });
    try {
      const client = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 });
      const ca = client(await serverA.listen(0));
      const cb = client(await serverB.listen(0));
      const tools = [
        { type: 'function' as const, name: 'stock', parameters: { type: 'object' }, strict: false },
      ];
      const first = await ca.responses.create({ model: 'm', input: 'Is K-1 in stock?', tools });
      const call = first.output.find((o) => o.type === 'function_call');
      if (call?.type !== 'function_call') throw new Error('no function call');
      const second = await cb.responses.create({
        model: 'm',
        tools,
        previous_response_id: first.id,
        input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"count":3}' }],
      });
      expect(second.output_text).toBe('3 left in stock.');
      const p = b.promptText(0);
      expect(p).toContain('<|channel|>analysis<|message|>Need the stock level.<|end|>');
      expect(p).toContain(
        '<|start|>functions.stock to=assistant<|channel|>commentary<|message|>{"count":3}<|end|>',
      );
      expect((await ca.responses.retrieve(second.id)).id).toBe(second.id);
    } finally {
      await serverA.close();
      await serverB.close();
      await store.dispose?.();
    }
  }, 120_000);
});
