import type { RoutingDecision } from '../backend/types.js';
import type { TurnOutcome } from './classify.js';
import type { RunResult } from './result.js';

/** What the runtime does after classifying a turn. */
export type TurnAction = 'done' | 'run_tools' | 'nudge' | 'retry' | 'reask' | 'fail' | 'stop';

/**
 * Events of `runStream`. User-facing text is `final_delta` and `preamble_delta`; `reasoning_delta` is only
 * emitted when the caller asks for reasoning (`includeReasoning: true`), for developers.
 */
export type RunEvent<TOutput = unknown> =
  | { type: 'turn_started'; turn: number; attempt: number; backend: string; decision?: RoutingDecision }
  | { type: 'reasoning_delta'; turn: number; delta: string }
  | { type: 'preamble_delta'; turn: number; delta: string }
  | { type: 'final_delta'; turn: number; delta: string }
  | {
      type: 'tool_call_started';
      turn: number;
      callId: string;
      recipient: string;
      channel: string;
      /** The call's arguments. For an `internal` call they are reasoning: show them only to developers. */
      arguments: string;
      /** A call made on the analysis channel (reasoning) or to no known tool: not a step to show users. */
      internal: boolean;
    }
  | {
      type: 'tool_call_finished';
      turn: number;
      callId: string;
      recipient: string;
      output: string;
      /** Set when the call was rejected or failed; `output` is what the model was told. */
      error?: string;
      durationMs: number;
      /** As on `tool_call_started`: the call is not a step to show users (nor its error). */
      internal: boolean;
    }
  | { type: 'turn_outcome'; turn: number; outcome: TurnOutcome; action: TurnAction }
  /**
   * Answer text already streamed (`final_delta`) is withdrawn: the model is asked again (the answer was cut off,
   * blank, or did not match the output schema). Clear it from the display; the next answer replaces it.
   */
  | { type: 'answer_withdrawn'; turn: number; reason: 'truncated' | 'empty' | 'invalid_output' }
  | { type: 'monitor_flagged'; turn: number; monitor: string; reason: string }
  /** The model's output was malformed Harmony and the lenient parser repaired it (for developers and logs). */
  | { type: 'harmony_repair'; turn: number; kind: string; detail: string }
  | { type: 'guardrail_tripped'; stage: 'input' | 'output'; guardrail: string; reason: string }
  | { type: 'conversation_closed'; reason: string }
  | { type: 'error'; error: Error }
  | { type: 'done'; result: RunResult<TOutput> };
