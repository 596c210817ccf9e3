/**
 * CONTRACT STUB — the public surface of the Harmony layer. The Harmony work replaces each body with the real
 * implementation (in its own modules, re-exported from here); the names and signatures below are what the rest of
 * Harmonia codes against. Remove this header once every body is real.
 */
import type { Conversation, Message, Role, SystemContent, ToolNamespaceConfig } from './types.js';

/** Special token ids of o200k_harmony. */
export const Tok = {
  startoftext: 199998,
  endoftext: 199999,
  return: 200002,
  constrain: 200003,
  channel: 200005,
  start: 200006,
  end: 200007,
  message: 200008,
  call: 200012,
} as const;

/** Tokens that end a message for the parser: `<|return|>`, `<|call|>`, `<|end|>`. */
export const STOP_TOKENS: readonly number[] = [Tok.return, Tok.call, Tok.end];
/** Tokens to sample with: `<|return|>`, `<|call|>` (the model writes `<|end|>` between its own messages). */
export const STOP_TOKENS_FOR_ASSISTANT_ACTIONS: readonly number[] = [Tok.return, Tok.call];

const todo = (what: string): never => {
  throw new Error(`harmony: ${what} is not implemented yet`);
};

// ---- tokenizer ----
/** Encodes text as ordinary text: `<|start|>` written by a user becomes plain tokens, never a special id. */
export function encodeText(_text: string): number[] {
  return todo('encodeText');
}
/** Encodes text; with `allowSpecial` the literal special-token strings become their ids. */
export function encode(_text: string, _opts?: { allowSpecial?: boolean }): number[] {
  return todo('encode');
}
/** Decodes ids to text (special and reserved ids as their `<|...|>` strings; invalid UTF-8 as U+FFFD). */
export function decode(_ids: readonly number[]): string {
  return todo('decode');
}

// ---- renderer ----
export interface RenderOptions {
  /** Drop analysis messages that precede the last final message (the official `auto_drop_analysis`). */
  autoDropAnalysis?: boolean;
}
export function renderMessage(_message: Message): number[] {
  return todo('renderMessage');
}
export function renderConversation(_conversation: Conversation, _opts?: RenderOptions): number[] {
  return todo('renderConversation');
}
/** The prompt for the next model call: the conversation, then `<|start|>` + next role. */
export function renderConversationForCompletion(
  _conversation: Conversation,
  _nextRole: Role,
  _opts?: RenderOptions,
): number[] {
  return todo('renderConversationForCompletion');
}
/** For training: the last assistant final message ends with `<|return|>`. */
export function renderConversationForTraining(_conversation: Conversation, _opts?: RenderOptions): number[] {
  return todo('renderConversationForTraining');
}

// ---- system content and built-in tool namespaces ----
/** `SystemContent::new()` defaults (identity, medium effort, 2024-06 cutoff, required channels), overridable. */
export function systemContent(_overrides?: Partial<Omit<SystemContent, 'type'>>): SystemContent {
  return todo('systemContent');
}
/** The official `browser` namespace text. */
export function browserNamespace(): ToolNamespaceConfig {
  return todo('browserNamespace');
}
/** The official stateful `python` namespace text. */
export function pythonNamespace(): ToolNamespaceConfig {
  return todo('pythonNamespace');
}

// ---- streaming parser ----
export type ParserEvent =
  | { type: 'message_start' }
  | {
      type: 'header';
      role: Role;
      name: string | null;
      channel: string | null;
      recipient: string | null;
      content_type: string | null;
    }
  | { type: 'content_delta'; delta: string }
  | { type: 'message_done'; message: Message }
  /** Lenient mode only: what was malformed and how it was repaired. */
  | { type: 'repair'; kind: string; detail: string };

export interface ParserOptions {
  /** The role of the first message when the prompt ended with `<|start|>ROLE` (usually `assistant`). */
  role?: Role | null;
  /** `true`: the official parser's behaviour and errors. `false` (default): never throws, repairs and reports. */
  strict?: boolean;
}

export class StreamParser {
  readonly messages: Message[] = [];
  constructor(_opts?: ParserOptions) {}
  /** Feeds one token; returns the events it produced. */
  push(_token: number): ParserEvent[] {
    return todo('StreamParser.push');
  }
  /** End of stream: finishes a message in progress. */
  end(): ParserEvent[] {
    return todo('StreamParser.end');
  }
}

export function parseMessagesFromCompletionTokens(
  _tokens: readonly number[],
  _opts?: ParserOptions,
): Message[] {
  return todo('parseMessagesFromCompletionTokens');
}
