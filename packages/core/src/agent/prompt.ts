import {
  conversationHasFunctionTools,
  encodeText,
  renderConversation,
  renderMessage,
  Tok,
} from '../harmony/api.js';
import type { Message } from '../harmony/types.js';

/**
 * Incremental prompt rendering. Within a run the prompt only grows (messages are appended), so each history
 * message is rendered once and its tokens reused by every later model call; the system and developer messages
 * are rendered once per effort and date. The result is token-for-token what
 * `renderConversationForCompletion(conversation, 'assistant')` gives (asserted in the tests): the Harmony layer
 * renders a conversation as its messages in order, the only cross-message dependency being whether a developer
 * message declares functions, which lives in the preamble.
 */
const rendered = new WeakMap<Message, { tokens: number[]; hasFunctions: boolean }>();
const ASSISTANT = encodeText('assistant');

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
  private readonly heads = new Map<string, number[]>();

  /** The prompt for the next assistant message: preamble, history view, then `<|start|>assistant`. */
  render(preamble: readonly Message[], preambleKey: string, view: readonly Message[]): number[] {
    let head = this.heads.get(preambleKey);
    if (!head) {
      head = renderConversation({ messages: [...preamble] });
      this.heads.set(preambleKey, head);
    }
    const hasFunctions = conversationHasFunctionTools(preamble);
    const out = head.slice();
    for (const m of view) {
      const t = messageTokens(m, hasFunctions);
      for (let i = 0; i < t.length; i++) out.push(t[i]!);
    }
    out.push(Tok.start);
    for (const t of ASSISTANT) out.push(t);
    return out;
  }
}
