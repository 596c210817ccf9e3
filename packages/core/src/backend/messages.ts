import { messageText } from '../harmony/messages.js';
import type { Message } from '../harmony/types.js';
import { defuseSpecialTokenText } from '../tools/untrusted.js';

// The message helpers live with the Harmony layer; re-exported for the backends that import them from here.
export {
  assistantCall,
  assistantText,
  developerInstructions,
  messageText,
  sanitizeContent,
} from '../harmony/messages.js';

/**
 * Groups a Harmony history into the units message-level APIs use: each run of assistant messages becomes one
 * assistant turn (reasoning + preamble + calls, or a final answer), with call ids the tool results point back to.
 */
export interface AssistantGroup {
  kind: 'assistant';
  reasoning: string;
  preamble: string;
  final: string;
  calls: { id: string; recipient: string; text: string }[];
}
export type HistoryItem =
  | { kind: 'user'; text: string }
  | AssistantGroup
  | { kind: 'tool'; callId: string; recipient: string; text: string };

// User and tool text reaches message-level servers with special-token text defused (one implementation, with the
// tool-result framing).
export { defuseSpecialTokenText };

export function groupHistory(messages: readonly Message[]): HistoryItem[] {
  const out: HistoryItem[] = [];
  let group: AssistantGroup | null = null;
  const pending: { id: string; recipient: string }[] = [];
  let n = 0;
  for (const m of messages) {
    if (m.role === 'assistant') {
      if (!group) {
        group = { kind: 'assistant', reasoning: '', preamble: '', final: '', calls: [] };
        out.push(group);
      }
      const text = messageText(m);
      if (m.recipient && m.recipient !== 'all' && m.recipient !== 'assistant') {
        const id = `call_${++n}`;
        group.calls.push({ id, recipient: m.recipient, text });
        pending.push({ id, recipient: m.recipient });
      } else if (m.channel === 'analysis') group.reasoning += (group.reasoning ? '\n' : '') + text;
      else if (m.channel === 'final') group.final += text;
      else group.preamble += text;
      continue;
    }
    group = null;
    if (m.role === 'user') out.push({ kind: 'user', text: defuseSpecialTokenText(messageText(m)) });
    else if (m.role === 'tool') {
      const name = m.name ?? '';
      const i = Math.max(
        0,
        pending.findIndex((p) => p.recipient === name),
      );
      const call = pending.splice(i, 1)[0];
      const text = defuseSpecialTokenText(messageText(m));
      out.push({ kind: 'tool', callId: call?.id ?? `call_${++n}`, recipient: name, text });
    }
  }
  return out;
}
