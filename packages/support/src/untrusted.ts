import {
  defuseSpecialTokenText,
  frameToolOutput,
  frameUntrusted,
  INJECTION_PATTERNS,
  type ToolContext,
  type ToolNamespace,
  type ToolOutput,
} from '@harmonia/core';

// The framing and the patterns live in core (the runtime frames every untrusted namespace's answers with them).
export { frameUntrusted, INJECTION_PATTERNS };

/** Neutralises special-token look-alikes for display or re-rendering: `<|end|>` → `‹|end|›`. */
export const defuseSpecialTokens: (text: string) => string = defuseSpecialTokenText;

export interface UntrustedFinding {
  conversationId: string;
  tool: string;
  reason: string;
}

/**
 * Marks a namespace's output as untrusted data: special-token look-alikes are defused (`<|end|>` → `‹|end|›`),
 * the text is framed as quoted data, and injection-looking content is reported to `onFinding` (the support bot
 * uses it to tighten its monitor for the rest of the turn). The runtime already encodes tool text without
 * special tokens; this also protects message-level backends and anything that re-renders the text.
 */
export function untrustedNamespace(
  inner: ToolNamespace,
  onFinding?: (finding: UntrustedFinding) => void,
): ToolNamespace {
  return {
    name: inner.name,
    placement: inner.placement,
    config: () => inner.config(),
    async call(fn: string | undefined, args: string, ctx: ToolContext): Promise<ToolOutput> {
      const out = frameToolOutput(await inner.call(fn, args, ctx));
      const tool = fn ? `${inner.name}.${fn}` : inner.name;
      const findings = (out.meta?.injection as string[] | undefined) ?? [];
      for (const reason of findings) onFinding?.({ conversationId: ctx.conversationId, tool, reason });
      return out;
    },
    ...(inner.disposeConversation
      ? { disposeConversation: (id: string) => inner.disposeConversation!(id) }
      : {}),
    ...(inner.dispose ? { dispose: () => inner.dispose!() } : {}),
  };
}
