import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { z as z3 } from 'zod/v3';
import {
  Agent,
  AgentConfigError,
  defineFunction,
  defineNamespace,
  echoFunction,
  InMemoryConversationStore,
  ScriptedBackend,
  ToolCallError,
  ToolDefinitionError,
  toJsonSchema,
} from '../src/index.js';

const ctx = { conversationId: 'c', signal: new AbortController().signal, channel: 'commentary' };

describe('defineFunction', () => {
  it('renders zod 4 and zod 3 schemas to the same JSON Schema', () => {
    const v4 = toJsonSchema(
      z.object({ city: z.string().describe('City'), days: z.number().int().optional() }),
    );
    const v3 = toJsonSchema(
      z3.object({ city: z3.string().describe('City'), days: z3.number().int().optional() }),
    );
    expect(v4).toMatchObject({
      type: 'object',
      properties: { city: { type: 'string', description: 'City' } },
      required: ['city'],
    });
    expect(v3).toMatchObject({
      type: 'object',
      properties: { city: { type: 'string', description: 'City' } },
      required: ['city'],
    });
    expect(v4).not.toHaveProperty('$schema');
    expect(v3).not.toHaveProperty('$schema');
  });

  it('validates with the same schema and passes typed arguments and context', async () => {
    let got: { city: string; days?: number } | undefined;
    let conv = '';
    const f = defineFunction({
      name: 'forecast',
      description: 'Forecast',
      parameters: z3.object({ city: z3.string(), days: z3.number().optional() }),
      execute: (args, c) => {
        got = args;
        conv = c.conversationId;
        return 'ok';
      },
    });
    expect(await f.invoke('{"city":"Oslo","days":2}', ctx)).toEqual({ text: 'ok' });
    expect(got).toEqual({ city: 'Oslo', days: 2 });
    expect(conv).toBe('c');
    await expect(f.invoke('{"city":3}', ctx)).rejects.toThrow(/Invalid arguments for forecast: city:/);
    await expect(f.invoke('not json', ctx)).rejects.toBeInstanceOf(ToolCallError);
  });

  it('accepts an empty body as no arguments and serialises object results as JSON', async () => {
    const f = defineFunction({
      name: 'now',
      description: 'Time',
      parameters: z.object({}),
      execute: () => ({ t: 1 }),
    });
    expect(await f.invoke('', ctx)).toEqual({ text: '{"t":1}' });
  });

  it('rejects names the Harmony header cannot carry', () => {
    expect(() =>
      defineFunction({ name: 'Web Search', description: '', parameters: z.object({}), execute: () => '' }),
    ).toThrow(/'Web Search' is not allowed.*'Web_Search'/);
    expect(() => defineNamespace({ name: 'my-faq', functions: [] })).toThrow(ToolDefinitionError);
  });

  it('echo returns its arguments', async () => {
    expect(JSON.parse((await echoFunction().invoke('{"text":"hi","n":2}', ctx)).text)).toEqual({
      text: 'hi',
      n: 2,
    });
  });

  it('agent rejects a namespace registered twice', () => {
    const ns = defineNamespace({ name: 'faq', functions: [] });
    expect(() => new Agent({ tools: [ns, ns], backend: new ScriptedBackend([]) })).toThrow(AgentConfigError);
  });
});

describe('InMemoryConversationStore', () => {
  it('appends, loads copies, lists and closes', async () => {
    const s = new InMemoryConversationStore();
    await s.append('a', [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
    const loaded = await s.load('a');
    loaded!.messages.push({ role: 'user', content: [] });
    expect((await s.load('a'))!.messages).toHaveLength(1);
    expect(await s.load('missing')).toBeNull();
    await s.close('a', 'done');
    expect((await s.list())[0]).toMatchObject({ id: 'a', messageCount: 1, closed: { reason: 'done' } });
  });
});

describe('literal unions', () => {
  it('z.union of literals becomes an enum, rendered as a TypeScript union instead of any', async () => {
    const { jsonSchemaToTypeScript } = await import('../src/index.js');
    const schema = toJsonSchema(
      z.object({
        unit: z.union([z.literal('celsius'), z.literal('fahrenheit')]),
        days: z.union([z.literal(1), z.literal(3), z.literal(7)]).optional(),
        mixed: z.union([z.literal('a'), z.string().min(2)]),
      }),
    );
    const props = (schema as { properties: Record<string, Record<string, unknown>> }).properties;
    expect(props.unit).toEqual({ type: 'string', enum: ['celsius', 'fahrenheit'] });
    expect(props.days).toEqual({ type: 'number', enum: [1, 3, 7] });
    expect(props.mixed).toHaveProperty('anyOf');
    const ts = jsonSchemaToTypeScript(schema as never);
    expect(ts).toContain('"celsius" | "fahrenheit"');
    expect(ts).toContain('days?: number');
    expect(ts).not.toMatch(/unit: any/);
  });
});
