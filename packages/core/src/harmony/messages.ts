/**
 * Small helpers over Harmony messages: reading their text and building the assistant, user and call messages the
 * runtime and the message-level backends exchange.
 */
import { parseMessagesFromCompletionTokens } from './parser.js';
import { encode } from './tokenizer.js';
import type { Message } from './types.js';

/** The text of a message's text parts (system/developer content objects contribute nothing). */
export function messageText(m: Message): string {
  let out = '';
  for (const c of m.content) if (c.type === 'text') out += c.text;
  return out;
}

/** The developer instructions of the first developer message that has some. */
export function developerInstructions(messages: readonly Message[]): string | null {
  for (const m of messages) {
    for (const c of m.content) if (c.type === 'developer_content' && c.instructions) return c.instructions;
  }
  return null;
}

/** An assistant message on `channel` (no recipient): reasoning, preamble or answer. */
export const assistantText = (channel: string, text: string): Message => ({
  role: 'assistant',
  channel,
  content: [{ type: 'text', text }],
});

/** An assistant tool call with JSON arguments. */
export const assistantCall = (recipient: string, text: string, channel = 'commentary'): Message => ({
  role: 'assistant',
  recipient,
  channel,
  content_type: '<|constrain|>json',
  content: [{ type: 'text', text }],
});

/** A user (or other plain-text) message. */
export function textMessage(role: 'user', text: string): Message {
  return { role, content: [{ type: 'text', text }] };
}

/** An assistant message that addresses a tool (`assistant` and `all` are not tools). */
export const isToolCall = (m: Message): boolean =>
  m.role === 'assistant' && !!m.recipient && m.recipient !== 'assistant' && m.recipient !== 'all';

/** The text of the answer: the assistant's last `final` message without a recipient, `''` when none. */
export function answerText(messages: readonly Message[]): string {
  const m = messages.findLast((x) => x.role === 'assistant' && x.channel === 'final' && !x.recipient);
  return m ? messageText(m) : '';
}

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
