import { messageText, textMessage } from '../harmony/api.js';
import type { Message, ReasoningEffort } from '../harmony/types.js';
import type { RunEvent } from './events.js';
import type { GuardStreaming } from './output-gate.js';

export interface ModelCallInfo {
  turn: number;
  attempt: number;
  backend: string;
  effort: ReasoningEffort;
  /** Token backends: the rendered prompt ids (decode them for the prompt text). */
  prompt?: number[];
  /** Message backends: the Harmony messages sent. */
  messages?: Message[];
}

export interface RunOptions {
  /** Continue a stored conversation; a new id is made when absent. */
  conversationId?: string;
  signal?: AbortSignal;
  /** Emit `reasoning_delta` events (for developers; never show them to end users). */
  includeReasoning?: boolean;
  /** Called before every model call with exactly what is sent (journals, debugging). */
  onModelCall?: (info: ModelCallInfo) => void;
  /** Overrides the agent's `guardStreaming` for this run. */
  guardStreaming?: GuardStreaming;
  /** Identifies this run in the store's usage records and in logs (default: a random id). */
  turnId?: string;
}

/** Events the loop and its steps yield (`done` is added by `runStream`). */
export type LoopEvent = Exclude<RunEvent, { type: 'done' }>;

/**
 * What starts a run: one user message, or Harmony messages to append as they are — user messages and/or the
 * tool messages answering a run that ended with `tool_calls` (the model is then called without a new user
 * message). Guardrails, routing and monitors see the last user message among them.
 */
export type RunInput = string | { messages: readonly Message[] };

/** The user text a run's checks see, the messages it appends, and whether it holds user text at all. */
export function readInput(input: RunInput): { text: string; messages: Message[]; hasUser: boolean } {
  if (typeof input === 'string')
    return { text: input, messages: [textMessage('user', input)], hasUser: true };
  const messages = input.messages.map((m) => structuredClone(m));
  const lastUser = messages.findLast((m) => m.role === 'user');
  return { text: lastUser ? messageText(lastUser) : '', messages, hasUser: lastUser !== undefined };
}
