import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent, run } from '../src/index.js';
import { H, scriptedAgent } from './helpers.js';

describe('OpenTelemetry traces (off unless a tracer provider is registered)', () => {
  const exporter = new InMemorySpanExporter();
  afterAll(() => {
    trace.disable();
  });

  it('records nothing without a provider, then a run span with model-call and tool-call children', async () => {
    const before = scriptedAgent([H.final('Sunny.')]);
    await run(before.agent, 'weather?', { conversationId: 'c0' });
    expect(exporter.getFinishedSpans()).toHaveLength(0);

    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
    const { agent } = scriptedAgent([
      H.analysis('Look it up.') + H.call('functions.get_weather', '{"city":"Oslo"}'),
      H.final('Snow in Oslo.'),
    ]);
    const result = await run(agent, 'Weather in Oslo?', { conversationId: 'c1', turnId: 't-1' });
    expect(result.status).toBe('completed');
    const spans = exporter.getFinishedSpans();
    const runSpan = spans.find((s) => s.name === 'harmonia.run');
    expect(runSpan?.attributes).toMatchObject({
      'harmonia.conversation_id': 'c1',
      'harmonia.turn_id': 't-1',
      'harmonia.status': 'completed',
      'harmonia.model_calls': 2,
    });
    expect(Number(runSpan?.attributes['gen_ai.usage.input_tokens'])).toBe(result.usage.promptTokens);
    const calls = spans.filter((s) => s.name === 'harmonia.model_call');
    expect(calls).toHaveLength(2);
    for (const c of calls) {
      expect(c.parentSpanContext?.spanId).toBe(runSpan?.spanContext().spanId);
      expect(c.attributes).toMatchObject({ 'harmonia.backend': 'script', 'harmonia.effort': 'medium' });
      expect(Number(c.attributes['gen_ai.usage.output_tokens'])).toBeGreaterThan(0);
    }
    const tool = spans.find((s) => s.name === 'harmonia.tool_call');
    expect(tool?.attributes['harmonia.tool']).toBe('functions.get_weather');
    expect(tool?.parentSpanContext?.spanId).toBe(runSpan?.spanContext().spanId);
    await provider.shutdown();
  });

  it('a routed run records the decision on each model-call span', async () => {
    const { agent: plain, backend } = scriptedAgent([H.final('Routed answer.')]);
    const decision = {
      model: '120b' as const,
      effort: 'high' as const,
      reason: 'classifier p(120b)=0.90 >= 0.16',
      arm: '120b-high',
      served: '120b',
    };
    const agent = new Agent({ backend: { choose: async () => ({ decision, backend }) }, store: plain.store });
    const spans = new InMemorySpanExporter();
    trace.disable();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    trace.setGlobalTracerProvider(provider);
    await run(agent, 'Hard question', { conversationId: 'routed' });
    const call = spans.getFinishedSpans().find((s) => s.name === 'harmonia.model_call');
    await provider.shutdown();
    expect(call?.attributes).toMatchObject({
      'harmonia.effort': 'high',
      'harmonia.route.model': '120b',
      'harmonia.route.arm': '120b-high',
      'harmonia.route.served': '120b',
      'harmonia.route.reason': 'classifier p(120b)=0.90 >= 0.16',
    });
  });
});
