/**
 * Harmony pieces of a completion request: how the prompt for the next assistant message ends, the prefill that
 * asks for the answer, and which stop token ended a completion a server returned as text without it.
 */
import { encodeText } from './tokenizer.js';
import { Tok } from './tokens.js';

const ASSISTANT_START: readonly number[] = [Tok.start, ...encodeText('assistant')];
const FINAL_PREFILL: readonly number[] = [Tok.channel, ...encodeText('final'), Tok.message];

/** `<|start|>assistant`: the tail of a prompt for the next assistant message. */
export function assistantStart(): readonly number[] {
  return ASSISTANT_START;
}

/** `<|channel|>final<|message|>`: appended to a prompt so the model writes its answer, not more reasoning. */
export function finalPrefill(): readonly number[] {
  return FINAL_PREFILL;
}

/** Whether a message header (the text between `<|start|>` and `<|message|>`) addresses a recipient. */
export function headerHasRecipient(header: string): boolean {
  return /(^|\s|>)to=/.test(header);
}

/**
 * Servers that drop the matched stop string (Ollama) leave the caller to infer it: the last message of `text` ended
 * in `<|call|>` when its header addresses a recipient, else in `<|return|>`.
 */
export function inferStopToken(text: string): number {
  const start = text.lastIndexOf('<|start|>');
  const msg = text.slice(Math.max(start, 0));
  const header = msg.slice(0, Math.max(0, msg.indexOf('<|message|>')));
  return headerHasRecipient(header) ? Tok.call : Tok.return;
}
