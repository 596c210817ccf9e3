import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../src/index.js';
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
});
