import {
  assistantStart,
  conversationHasFunctionTools,
  renderConversation,
  renderMessage,
} from '../harmony/api.js';
import type { Message } from '../harmony/types.js';

/**
 * Incremental prompt rendering. Within a run the prompt only grows (messages are appended), so each history
 * message is rendered once and its tokens reused by every later model call; the system and developer messages
 * are rendered once per distinct content (effort, date, instructions, tools). The result is token-for-token what
 * `renderConversationForCompletion(conversation, 'assistant')` gives (asserted in the tests): the Harmony layer
 * renders a conversation as its messages in order, the only cross-message dependency being whether a developer
 * message declares functions, which lives in the preamble.
 */
const rendered = new WeakMap<Message, { tokens: number[]; hasFunctions: boolean }>();

function messageTokens(m: Message, hasFunctions: boolean): number[] {
  const hit = rendered.get(m);
  if (hit && hit.hasFunctions === hasFunctions) return hit.tokens;
  const tokens = renderMessage(m, { conversationHasFunctionTools: hasFunctions });
  rendered.set(m, { tokens, hasFunctions });
  return tokens;
}

/** Forget a message's cached tokens after changing it in place (e.g. an output guardrail's replacement). */
export function forgetRendered(m: Message): void {
  rendered.delete(m);
}

export class PromptRenderer {
  /** Rendered system + developer messages by their JSON (effort, date, instructions and tool configs). */
  private readonly heads = new Map<string, number[]>();

  /** The prompt for the next assistant message: head (system, developer), history view, `<|start|>assistant`. */
  render(head: readonly Message[], view: readonly Message[]): number[] {
    // Keyed by content, not identity: a namespace whose config() changes is re-rendered, never stale.
    const key = JSON.stringify(head);
    let tokens = this.heads.get(key);
    if (!tokens) {
      if (this.heads.size >= 16) this.heads.clear();
      tokens = renderConversation({ messages: [...head] });
      this.heads.set(key, tokens);
    }
    const hasFunctions = conversationHasFunctionTools(head);
    const out = tokens.slice();
    for (const m of view) {
      const t = messageTokens(m, hasFunctions);
      for (let i = 0; i < t.length; i++) out.push(t[i]!);
    }
    for (const t of assistantStart()) out.push(t);
    return out;
  }
}
