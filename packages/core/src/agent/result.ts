import type { FinishReason, RoutingDecision } from '../backend/types.js';
import type { Message, ReasoningEffort } from '../harmony/types.js';
import type { TurnOutcome } from './classify.js';

export type RunStatus =
  /** A final answer was produced. */
  | 'completed'
  /** The reasoning monitor stopped the turn before any final text. */
  | 'stopped'
  /** An input or output guardrail refused. */
  | 'blocked'
  /** The per-conversation reply cap was reached; no model call was made. */
  | 'capped'
  /** The conversation was already closed; no model call was made. */
  | 'closed'
  /** The model called tools of an `external` namespace: answer `pendingCalls`, then run again to continue. */
  | 'tool_calls';

/** A call the caller of `run` answers (a namespace marked `external`). */
export interface PendingCall {
  /** e.g. `functions.get_weather`. */
  recipient: string;
  /** The raw argument text the model wrote (JSON for functions). */
  arguments: string;
  /** The channel the call came on; the answer goes back on it. */
  channel: string;
}

export interface RunUsage {
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens: number;
  modelCalls: number;
}

export interface TurnRecord {
  turn: number;
  attempt: number;
  backend: string;
  /** The reasoning effort this call was made with (the agent's, or the chooser's decision). */
  effort: ReasoningEffort;
  outcome: TurnOutcome;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
}

export interface RunResult<TOutput = unknown> {
  status: RunStatus;
  /** With `output` set: the final answer parsed and validated by the output schema. */
  output?: TOutput;
  /**
   * The answer to show the user: the whole final answer when `completed`; the guardrail's `reply` when `blocked`
   * (never the refused text); the stopped reply when `stopped`. On `completed` runs the `final_delta` events
   * after the last `answer_withdrawn` add up to it. On a blocked run they add up to the sentences that passed the output
   * guardrails before one tripped (`guardStreaming: 'sentence'`), nothing (`'answer'`), or the refused answer
   * (`'off'`); show `finalText` in their place.
   */
  finalText: string;
  conversationId: string;
  /** The full Harmony transcript of the last model call's view plus this run's output (system and developer first). */
  transcript: Message[];
  /** Messages this run added to the conversation (user, assistant, tool), including reasoning. */
  newMessages: Message[];
  /** All reasoning of this run, for developers; never shown to users by the runtime. */
  reasoning: string;
  usage: RunUsage;
  turns: TurnRecord[];
  /** What the backend chooser decided, per decision (first call and each escalation). */
  routing: RoutingDecision[];
  /** Why the run ended without a normal answer. */
  stop?: { by: 'monitor' | 'input_guardrail' | 'output_guardrail' | 'reply_cap' | 'closed'; reason: string };
  /** With status `tool_calls`: the calls to answer, in order. */
  pendingCalls?: PendingCall[];
  /** Set when this run closed the conversation (end_conversation or reply cap). */
  closed?: { reason: string };
}
