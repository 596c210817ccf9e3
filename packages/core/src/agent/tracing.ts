import { context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import type { RoutingDecision } from '../backend/types.js';

/**
 * OpenTelemetry spans for runs, model calls and tool calls. Off unless configured: the API's default tracer
 * does nothing until the application registers a tracer provider (e.g. the OpenTelemetry Node SDK with an OTLP
 * exporter); then every run is a `harmonia.run` span with `harmonia.model_call` and `harmonia.tool_call` children.
 */
const tracer = () => trace.getTracer('harmonia');

export type { Span };

export function startRunSpan(attrs: { agent: string; conversationId: string; turnId: string }): Span {
  return tracer().startSpan('harmonia.run', {
    attributes: {
      'harmonia.agent': attrs.agent,
      'harmonia.conversation_id': attrs.conversationId,
      'harmonia.turn_id': attrs.turnId,
    },
  });
}

export function startChildSpan(
  parent: Span | undefined,
  name: string,
  attributes: Record<string, string | number>,
): Span {
  const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
  return tracer().startSpan(name, { attributes }, ctx);
}

/** A routing decision as span attributes (`harmonia.route.*`); none without a decision. */
export function routeAttributes(d: RoutingDecision | undefined): Record<string, string> {
  if (!d) return {};
  return {
    'harmonia.route.model': d.model,
    'harmonia.route.effort': d.effort,
    'harmonia.route.reason': d.reason,
    ...(d.arm ? { 'harmonia.route.arm': d.arm } : {}),
    ...(d.served ? { 'harmonia.route.served': d.served } : {}),
  };
}

/** Ends a span, marking it failed when `err` is given. */
export function endSpan(span: Span | undefined, err?: unknown): void {
  if (!span) return;
  if (err !== undefined) {
    const e = err instanceof Error ? err : new Error(String(err));
    span.recordException(e);
    span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
  }
  span.end();
}

/** Ends a run's span with its status and token usage. */
export function endRunSpan(
  span: Span,
  status: string,
  usage: { modelCalls: number; promptTokens: number; completionTokens: number; cachedPromptTokens: number },
  err?: unknown,
): void {
  span.setAttributes({
    'harmonia.status': status,
    'harmonia.model_calls': usage.modelCalls,
    'gen_ai.usage.input_tokens': usage.promptTokens,
    'gen_ai.usage.output_tokens': usage.completionTokens,
    'harmonia.usage.cached_input_tokens': usage.cachedPromptTokens,
  });
  endSpan(span, err);
}
