import type { FinishReason } from '../backend/types.js';
import { isToolCall } from '../harmony/api.js';
import type { Message } from '../harmony/types.js';

export { isToolCall };

/** What one model call produced. The last three are error states handled explicitly, never "success". */
export type TurnOutcome = 'final' | 'tool_call' | 'reasoning_only' | 'truncated' | 'empty';

const hasText = (m: Message): boolean => m.content.some((c) => c.type === 'text' && c.text.trim() !== '');

/**
 * Classifies a model call. A cut-off answer is `truncated` even when it holds a complete call or final
 * message before the cut (the server stopped on length, not on `<|call|>`/`<|return|>`); a call anywhere
 * means `tool_call`; a final message with text means `final`; reasoning or preambles alone mean
 * `reasoning_only`; nothing readable means `empty`.
 */
export function classifyTurn(messages: readonly Message[], finishReason: FinishReason): TurnOutcome {
  if (finishReason === 'length') return 'truncated';
  if (messages.some(isToolCall)) return 'tool_call';
  if (messages.some((m) => m.role === 'assistant' && m.channel === 'final' && hasText(m))) return 'final';
  if (messages.some(hasText)) return 'reasoning_only';
  return 'empty';
}
