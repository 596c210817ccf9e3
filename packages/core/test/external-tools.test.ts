/**
 * External namespaces (tools the caller of `run` answers, e.g. an HTTP client's own functions) and
 * `prepare` (namespaces that connect before the first model call).
 */
import { describe, expect, it } from 'vitest';
import {
  Agent,
  InMemoryConversationStore,
  type Message,
  run,
  ScriptedBackend,
  type ToolNamespace,
} from '../src/index.js';
import { H } from './helpers.js';

function clientFunctions(): ToolNamespace {
  return {
    name: 'functions',
    placement: 'developer',
    external: true,
    config: () => ({
      name: 'functions',
      tools: [{ name: 'get_time', description: 'Time in a city', parameters: { type: 'object' } }],
    }),
    call: async () => {
      throw new Error('an external namespace is never called by the runtime');
    },
  };
}

describe('external tool namespaces', () => {
  it('ends the run with the pending call, then continues from the tool answer without a new user message', async () => {
    const backend = new ScriptedBackend([
      H.analysis('Need the time.') + H.call('functions.get_time', '{"city":"Oslo"}'),
      H.final('It is 10:00 in Oslo.'),
    ]);
    const store = new InMemoryConversationStore();
    const agent = new Agent({ backend, tools: [clientFunctions()], store });
    const first = await run(agent, 'Time in Oslo?');
    expect(first.status).toBe('tool_calls');
    expect(first.pendingCalls).toEqual([
      { recipient: 'functions.get_time', arguments: '{"city":"Oslo"}', channel: 'commentary' },
    ]);
    const answer: Message = {
      role: 'tool',
      name: 'functions.get_time',
      recipient: 'assistant',
      channel: 'commentary',
      content: [{ type: 'text', text: '{"time":"10:00"}' }],
    };
    const second = await run(agent, { messages: [answer] }, { conversationId: first.conversationId });
    expect(second.status).toBe('completed');
    expect(second.finalText).toBe('It is 10:00 in Oslo.');
    const p1 = backend.promptText(1);
    // Reasoning before the call is passed back, the tool answer follows the call, no extra user message.
    expect(p1).toContain('<|channel|>analysis<|message|>Need the time.<|end|>');
    expect(p1).toContain(
      '<|start|>functions.get_time to=assistant<|channel|>commentary<|message|>{"time":"10:00"}<|end|>',
    );
    expect(p1.match(/<\|start\|>user/g)).toHaveLength(1);
    backend.assertDone();
  });

  it('calls prepare once per run before the first model call; a failing prepare fails the run', async () => {
    let prepared = 0;
    const ns: ToolNamespace = {
      name: 'kb',
      placement: 'developer',
      config: () => ({ name: 'kb', tools: [{ name: `t${prepared}`, description: 'x' }] }),
      prepare: async () => {
        prepared++;
      },
      call: async () => ({ text: 'ok' }),
    };
    const backend = new ScriptedBackend([H.final('hi')]);
    await run(new Agent({ backend, tools: [ns] }), 'hello');
    expect(prepared).toBe(1);
    // The prompt shows the tools as listed by prepare.
    expect(backend.promptText(0)).toContain('type t1 = () => any;');
    const broken: ToolNamespace = {
      ...ns,
      prepare: async () => Promise.reject(new Error('cannot start kb')),
    };
    await expect(
      run(new Agent({ backend: new ScriptedBackend([]), tools: [broken] }), 'hello'),
    ).rejects.toThrow('cannot start kb');
  });
});
