import type { TurnOutcome } from './classify.js';

/** Base class of everything a run can fail with. */
export class AgentRunError extends Error {
  override name = 'AgentRunError';
}

/** A model turn ended badly (empty, truncated, reasoning only) and every retry did too. */
export class TurnError extends AgentRunError {
  override name = 'TurnError';
  constructor(
    message: string,
    readonly outcome: TurnOutcome,
    readonly attempts: number,
  ) {
    super(message);
  }
}

export class EmptyTurnError extends TurnError {
  override name = 'EmptyTurnError';
}
export class TruncatedTurnError extends TurnError {
  override name = 'TruncatedTurnError';
}
export class ReasoningOnlyError extends TurnError {
  override name = 'ReasoningOnlyError';
}

/** The run reached its limit of model calls (`maxModelCalls`) without a final answer. */
export class MaxTurnsExceededError extends AgentRunError {
  override name = 'MaxTurnsExceededError';
  /** The limit that was reached (same as `maxTurns`). */
  readonly maxModelCalls: number;
  /**
   * @param option the option name the limit was set with (`maxModelCalls`, or its older alias `maxTurns`)
   */
  constructor(
    readonly maxTurns: number,
    option: 'maxModelCalls' | 'maxTurns' = 'maxModelCalls',
  ) {
    super(
      `The agent made ${maxTurns} model calls without a final answer (${option}=${maxTurns}). Raise ${option} or check the tools' answers.`,
    );
    this.maxModelCalls = maxTurns;
  }
}

/** The model kept repeating the same tool call after being told to stop. */
export class ToolLoopError extends AgentRunError {
  override name = 'ToolLoopError';
  constructor(
    readonly recipient: string,
    readonly count: number,
  ) {
    super(
      `The model called ${recipient} with identical arguments ${count} times and ignored the refusal; the run was stopped.`,
    );
  }
}

/** The agent's configuration is inconsistent (duplicate namespace, no backend). */
export class AgentConfigError extends AgentRunError {
  override name = 'AgentConfigError';
}

/** The final answer never matched the agent's output schema, even after re-asking. */
export class OutputValidationError extends AgentRunError {
  override name = 'OutputValidationError';
  constructor(
    readonly problems: string,
    readonly lastAnswer: string,
    attempts: number,
  ) {
    super(`The final answer did not match the output schema after ${attempts} attempts: ${problems}`);
  }
}

/** The caller aborted the run (its `signal`). What the run added so far is still stored. */
export class RunAbortedError extends AgentRunError {
  override name = 'RunAbortedError';
  constructor() {
    super('The run was aborted by its caller.');
  }
}
