/**
 * Small helpers over Harmony messages: reading their text and building the assistant, user and call messages the
 * runtime and the message-level backends exchange.
 */
import { parseMessagesFromCompletionTokens } from './parser.js';
import { parseFlattened } from './recover.js';
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

/** A leading `<think>…</think>` block (or one left open to the end). */
const THINK = /^\s*<think>([\s\S]*?)(?:<\/think>|$)/;

/** Stop and formatting tokens a server left in otherwise plain text (`Hello<|end|>`). */
const STRAY_TOKENS = /<\|(?:start\|>(?:assistant)?|end|return|call|endoftext|startoftext|constrain)\|>/g;

/**
 * Assistant text from a server that applies Harmony itself, as messages. Plain text is one message on `plain`
 * (`final`, or `commentary` when the response also calls tools). Some servers leak raw Harmony markup (LM Studio,
 * early vLLM) or strip the special tokens and leave the channel names (`analysisThe user asks…assistantfinal4`):
 * such text is re-split into its messages instead of being shown to a user.
 */
export function sanitizeContent(content: string, plain: 'final' | 'commentary' = 'final'): Message[] {
  // Reasoning a server wrapped in think tags (a generic reasoning template) is reasoning, never answer text.
  const think = THINK.exec(content);
  if (think) {
    const rest = content.slice(think[0].length);
    const head = assistantText('analysis', think[1] as string);
    return rest.trim() ? [head, ...sanitizeContent(rest, plain)] : [head];
  }
  const flat = parseFlattened(content);
  if (flat) return flat;
  if (!content.includes('<|channel|>') && !content.includes('<|message|>')) {
    return [assistantText(plain, content.replace(STRAY_TOKENS, ''))];
  }
  const parsed = parseMessagesFromCompletionTokens(encode(content, { allowSpecial: true }), {
    role: 'assistant',
    strict: false,
  });
  return parsed.length ? parsed : [assistantText(plain, content.replace(STRAY_TOKENS, ''))];
}
