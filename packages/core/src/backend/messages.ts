import { encode, parseMessagesFromCompletionTokens } from '../harmony/api.js';
import type { Message } from '../harmony/types.js';

/** The text of a message's text parts (system/developer content objects contribute nothing). */
export function messageText(m: Message): string {
  let out = '';
  for (const c of m.content) if (c.type === 'text') out += c.text;
  return out;
}

export function developerInstructions(messages: readonly Message[]): string | null {
  for (const m of messages) {
    for (const c of m.content) if (c.type === 'developer_content' && c.instructions) return c.instructions;
  }
  return null;
}

export const assistantText = (channel: string, text: string): Message => ({
  role: 'assistant',
  channel,
  content: [{ type: 'text', text }],
});

export const assistantCall = (recipient: string, text: string, channel = 'commentary'): Message => ({
  role: 'assistant',
  recipient,
  channel,
  content_type: '<|constrain|>json',
  content: [{ type: 'text', text }],
});

/**
 * Some servers leak raw Harmony markup into `content` (LM Studio, early vLLM). If the text carries
 * `<|channel|>`/`<|message|>`, re-split it with the Harmony parser instead of showing it to a user.
 */
export function sanitizeContent(content: string): Message[] {
  if (!content.includes('<|channel|>') && !content.includes('<|message|>')) {
    return [assistantText('final', content)];
  }
  const parsed = parseMessagesFromCompletionTokens(encode(content, { allowSpecial: true }), {
    role: 'assistant',
    strict: false,
  });
  return parsed.length ? parsed : [assistantText('final', content)];
}

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
    if (m.role === 'user') out.push({ kind: 'user', text: messageText(m) });
    else if (m.role === 'tool') {
      const name = m.name ?? '';
      const i = Math.max(
        0,
        pending.findIndex((p) => p.recipient === name),
      );
      const call = pending.splice(i, 1)[0];
      out.push({ kind: 'tool', callId: call?.id ?? `call_${++n}`, recipient: name, text: messageText(m) });
    }
  }
  return out;
}
