import { ToolCallError, type ToolDescription, type ToolNamespace } from '@harmonia/core';

/**
 * The client's own function tools as the `functions` namespace, answered by the client: the run ends at a
 * call (a `function_call` item / `tool_calls`), and the client's output continues it.
 */
export function clientFunctions(tools: readonly ToolDescription[]): ToolNamespace {
  const config = { name: 'functions', description: null, tools: [...tools] };
  return {
    name: 'functions',
    placement: 'developer',
    external: true,
    config: () => config,
    async call() {
      throw new ToolCallError('client functions are answered by the client');
    },
  };
}

/**
 * A server-side namespace whose per-conversation state (python kernel, browser context) is keyed by `session`
 * instead of the run's conversation id: one session per `previous_response_id` chain.
 */
export function sessionScoped(ns: ToolNamespace, session: string): ToolNamespace {
  return {
    name: ns.name,
    placement: ns.placement,
    ...(ns.stateful !== undefined ? { stateful: ns.stateful } : {}),
    config: () => ns.config(),
    ...(ns.prepare ? { prepare: (signal: AbortSignal) => ns.prepare!(signal) } : {}),
    call: (fn, args, ctx) => ns.call(fn, args, { ...ctx, conversationId: session }),
  };
}
