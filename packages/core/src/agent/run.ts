import { randomUUID } from 'node:crypto';
import type { Backend, RoutingDecision, TurnTrouble } from '../backend/types.js';
import { answerText, assistantText, isToolCall, textMessage } from '../harmony/api.js';
import type { Message, ReasoningEffort } from '../harmony/types.js';
import type { ConversationLease } from '../store/store.js';
import { type Agent, isChooser } from './agent.js';
import { classifyTurn, type TurnOutcome } from './classify.js';
import { RepeatGuard } from './dispatch.js';
import { MaxTurnsExceededError, OutputValidationError, RunAbortedError } from './errors.js';
import type { RunEvent, TurnAction } from './events.js';
import { callModel, type ModelCallData } from './model-call.js';
import { parseStructured, turnError } from './outcome.js';
import type { OutputGate } from './output-gate.js';
import { forgetRendered } from './prompt.js';
import type { RunResult, RunStatus, RunUsage } from './result.js';
import { type LoopEvent, type RunInput, type RunOptions, readInput } from './run-options.js';
import { runToolStep } from './tool-step.js';
import { endRunSpan, endSpan, routeAttributes, type Span, startChildSpan, startRunSpan } from './tracing.js';
import { promptHead, promptView } from './transcript.js';

export type { ModelCallInfo, RunInput, RunOptions } from './run-options.js';

const DEFAULT_STOPPED_REPLY = "Sorry, I can't help with that.";

/** Runs the agent on one user message and resolves to the result (the non-streaming form of `runStream`). */
export async function run<TOutput>(
  agent: Agent<TOutput>,
  input: RunInput,
  options: RunOptions = {},
): Promise<RunResult<TOutput>> {
  const it = runStream(agent, input, options);
  for (;;) {
    const step = await it.next();
    if (step.done) return step.value;
  }
}

/**
 * Runs the agent on one user message, yielding typed events; the last event is `done` with the result (also
 * the generator's return value). Failures yield an `error` event and then throw the typed error.
 */
export async function* runStream<TOutput>(
  agent: Agent<TOutput>,
  input: RunInput,
  options: RunOptions = {},
): AsyncGenerator<RunEvent<TOutput>, RunResult<TOutput>> {
  const state = new RunState(agent as Agent<unknown>, input, options);
  let lease: ConversationLease | undefined;
  let failure: unknown;
  try {
    // One turn at a time per conversation, across every process that shares the store.
    lease = await agent.store.acquire?.(state.conversationId, { signal: state.signal });
    // The output was validated by the agent's own schema, so it has the schema's type.
    const result = (yield* state.drive()) as RunResult<TOutput>;
    yield { type: 'done', result };
    return result;
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    failure = error;
    yield { type: 'error', error };
    throw error;
  } finally {
    try {
      await state.persist(true);
    } finally {
      await lease?.release();
      state.endTrace(failure);
    }
  }
}

class RunState {
  readonly conversationId: string;
  readonly turnId: string;
  /** The run's trace span (a no-op unless an OpenTelemetry tracer provider is registered). */
  readonly span: Span;
  private status: RunStatus | undefined;
  readonly signal: AbortSignal;
  private history: Message[] = [];
  private readonly newMessages: Message[] = [];
  private readonly usage: RunUsage = {
    promptTokens: 0,
    completionTokens: 0,
    cachedPromptTokens: 0,
    modelCalls: 0,
  };
  private readonly turns: RunResult['turns'] = [];
  private readonly routing: RoutingDecision[] = [];
  private reasoning = '';
  private backend!: Backend;
  private effort: ReasoningEffort;
  private decision: RoutingDecision | undefined;
  private closeReason: string | undefined;
  private persisted = 0;
  /** System and developer messages of the last model call (the result's transcript starts with them). */
  private lastHead: Message[] | undefined;
  private loaded = false;

  /** The user text guardrails, routing and monitors see. */
  private readonly input: string;
  /** What the run appends before the first model call. */
  private readonly inputMessages: Message[];
  /** Whether the input holds user text to check (tool answers alone are not user input). */
  private readonly hasUserInput: boolean;

  constructor(
    private readonly agent: Agent,
    input: RunInput,
    private readonly options: RunOptions,
  ) {
    ({ text: this.input, messages: this.inputMessages, hasUser: this.hasUserInput } = readInput(input));
    this.conversationId = options.conversationId ?? randomUUID();
    this.turnId = options.turnId ?? randomUUID();
    this.span = startRunSpan({ agent: agent.name, conversationId: this.conversationId, turnId: this.turnId });
    this.signal = options.signal ?? new AbortController().signal;
    this.effort = agent.effort;
  }

  private result(status: RunStatus, finalText: string, extra: Partial<RunResult> = {}): RunResult {
    this.status = status;
    return {
      status,
      finalText,
      conversationId: this.conversationId,
      transcript: [...(this.lastHead ?? promptHead(this.agent, this.effort)), ...this.history],
      newMessages: [...this.newMessages],
      reasoning: this.reasoning,
      usage: { ...this.usage },
      turns: [...this.turns],
      routing: [...this.routing],
      ...(this.closeReason !== undefined ? { closed: { reason: this.closeReason } } : {}),
      ...extra,
    };
  }

  private add(...ms: Message[]): void {
    this.history.push(...ms);
    this.newMessages.push(...ms);
  }

  endTrace(err: unknown): void {
    endRunSpan(this.span, this.status ?? 'error', this.usage, err);
  }

  /**
   * Saves what this run added so far, even when it failed: bad runs lose nothing. Called as the run goes (the
   * user message before the first model call, each tool round) so a crash mid-turn loses no stored message;
   * `final` also records the run's token usage and applies a close.
   */
  async persist(final = false): Promise<void> {
    if (!this.loaded) return;
    const fresh = this.newMessages.slice(this.persisted);
    this.persisted = this.newMessages.length;
    if (fresh.length) await this.agent.store.append(this.conversationId, fresh);
    if (!final) return;
    if (this.usage.modelCalls > 0 && this.agent.store.recordUsage) {
      await this.agent.store.recordUsage(this.conversationId, {
        turnId: this.turnId,
        backend: this.backend.id,
        effort: this.effort,
        ...this.usage,
      });
    }
    if (this.closeReason !== undefined) {
      await this.agent.store.close(this.conversationId, this.closeReason);
      // A closed conversation frees its per-conversation tool state (browser context, python container).
      for (const ns of this.agent.namespaces.values()) await ns.disposeConversation?.(this.conversationId);
    }
  }

  private async choose(trouble?: TurnTrouble): Promise<void> {
    const b = this.agent.backend;
    if (!isChooser(b)) {
      this.backend = b;
      return;
    }
    const picked = await b.choose({
      conversationId: this.conversationId,
      input: this.input,
      history: this.history,
      ...(trouble ? { trouble } : {}),
    });
    this.backend = picked.backend;
    this.decision = picked.decision;
    this.effort = picked.decision.effort;
    this.routing.push(picked.decision);
  }

  async *drive(): AsyncGenerator<LoopEvent, RunResult> {
    const early = yield* this.open();
    if (early) return early;
    const { agent } = this;
    for (const ns of agent.namespaces.values()) await ns.prepare?.(this.signal);
    this.add(...this.inputMessages);
    await this.persist();
    await this.choose();
    const guard = new RepeatGuard(agent.maxIdenticalCalls);
    let turn = 0;
    let attempt = 0;
    let retries = 0;
    let nudge = false;

    for (;;) {
      const data = yield* this.modelCall(turn, attempt, nudge);
      const outcome: TurnOutcome = classifyTurn(data.messages, data.finishReason);
      this.record(turn, attempt, outcome, data);
      const outcomeEvent = (action: TurnAction): LoopEvent => ({
        type: 'turn_outcome',
        turn,
        outcome,
        action,
      });

      if (data.stopped !== undefined || data.blocked !== undefined) {
        yield outcomeEvent('stop');
        return yield* this.halt(data);
      }

      if (outcome === 'final') {
        this.add(...data.messages);
        const structured = parseStructured(this.agent.options.output?.schema, data.messages);
        if (structured && !structured.ok) {
          if (retries >= agent.maxRetries) {
            yield outcomeEvent('fail');
            throw new OutputValidationError(structured.problems, structured.text, retries + 1);
          }
          retries++;
          attempt++;
          if (data.answered) yield { type: 'answer_withdrawn', turn, reason: 'invalid_output' };
          this.add(
            textMessage(
              'user',
              `Your answer does not match the response format (${structured.problems}). Reply again with only the JSON object.`,
            ),
          );
          yield outcomeEvent('reask');
          continue;
        }
        yield outcomeEvent('done');
        return yield* this.finish(data.messages, data.outputGate, structured?.value);
      }

      if (outcome === 'tool_call') {
        // Anything after the last call was written without the tool's answer: drop it.
        const kept = data.messages.slice(0, data.messages.findLastIndex(isToolCall) + 1);
        this.add(...kept);
        yield outcomeEvent('run_tools');
        const step = yield* runToolStep(kept.filter(isToolCall), turn, {
          namespaces: agent.namespaces,
          guard,
          conversationId: this.conversationId,
          signal: this.signal,
          closed: this.closeReason !== undefined,
          limits: agent.callLimits,
          span: this.span,
        });
        this.add(...step.messages);
        this.closeReason ??= step.closeReason;
        await this.persist();
        if (step.pendingCalls.length)
          return this.result('tool_calls', '', { pendingCalls: step.pendingCalls });
        turn++;
        attempt = 0;
        nudge = false;
        continue;
      }

      // reasoning_only, truncated, empty: retry within budget, then a typed error.
      if (retries >= agent.maxRetries) {
        yield outcomeEvent('fail');
        throw turnError(outcome, retries + 1);
      }
      retries++;
      attempt++;
      if (data.answered) {
        yield { type: 'answer_withdrawn', turn, reason: outcome === 'truncated' ? 'truncated' : 'empty' };
      }
      if (outcome === 'reasoning_only' && this.backend.kind === 'tokens' && !nudge) {
        // Keep the reasoning and ask for the answer: the next prompt ends in `<|channel|>final<|message|>`.
        this.add(...data.messages.filter((m) => m.role === 'assistant' && m.channel === 'analysis'));
        nudge = true;
        yield outcomeEvent('nudge');
      } else {
        nudge = false;
        yield outcomeEvent('retry');
        await this.choose(outcome as TurnTrouble);
      }
    }
  }

  /** Loads the conversation and runs the checks made before any model call; returns a result when one ends the run. */
  private async *open(): AsyncGenerator<LoopEvent, RunResult | undefined> {
    const { agent } = this;
    const rec = await agent.store.load(this.conversationId);
    this.history = rec?.messages ?? [];
    this.loaded = true;
    if (rec?.closed) {
      return this.result('closed', '', { stop: { by: 'closed', reason: rec.closed.reason } });
    }
    const cap = agent.options.replyCap;
    if (cap !== undefined) {
      const replies = this.history.filter((m) => m.role === 'assistant' && m.channel === 'final').length;
      if (replies >= cap) {
        this.closeReason = `reply cap reached (${replies} of ${cap} replies)`;
        yield { type: 'conversation_closed', reason: this.closeReason };
        return this.result('capped', '', { stop: { by: 'reply_cap', reason: this.closeReason } });
      }
    }
    for (const g of this.hasUserInput ? (agent.options.guardrails?.input ?? []) : []) {
      const v = await g.check(this.input, { conversationId: this.conversationId, signal: this.signal });
      if (!v.ok) {
        yield { type: 'guardrail_tripped', stage: 'input', guardrail: g.name, reason: v.reason };
        return this.result('blocked', v.reply ?? '', { stop: { by: 'input_guardrail', reason: v.reason } });
      }
    }
    return undefined;
  }

  /** One model call within the run's limits; its usage and reasoning are added to the run's. */
  private async *modelCall(
    turn: number,
    attempt: number,
    nudge: boolean,
  ): AsyncGenerator<LoopEvent, ModelCallData> {
    const { agent } = this;
    if (this.signal.aborted) throw new RunAbortedError();
    if (this.usage.modelCalls >= agent.maxModelCalls) {
      throw new MaxTurnsExceededError(agent.maxModelCalls, agent.maxModelCallsOption);
    }
    this.usage.modelCalls++;
    yield {
      type: 'turn_started',
      turn,
      attempt,
      backend: this.backend.id,
      ...(this.decision ? { decision: this.decision } : {}),
    };
    this.lastHead = promptHead(agent, this.effort);
    let data: ModelCallData;
    const span = startChildSpan(this.span, 'harmonia.model_call', {
      'harmonia.backend': this.backend.id,
      'harmonia.effort': this.effort,
      'harmonia.turn': turn,
      'harmonia.attempt': attempt,
      ...routeAttributes(this.decision),
    });
    try {
      data = yield* callModel({
        agent,
        backend: this.backend,
        effort: this.effort,
        head: this.lastHead,
        view: promptView(this.history),
        turn,
        attempt,
        answerPrefill: nudge,
        run: {
          conversationId: this.conversationId,
          input: this.input,
          signal: this.signal,
          options: this.options,
        },
      });
    } catch (err) {
      const e = this.signal.aborted ? new RunAbortedError() : err;
      endSpan(span, e);
      throw e;
    }
    span.setAttributes({
      'gen_ai.usage.input_tokens': data.usage.promptTokens,
      'gen_ai.usage.output_tokens': data.usage.completionTokens,
      'harmonia.finish_reason': data.finishReason,
    });
    endSpan(span);
    this.usage.promptTokens += data.usage.promptTokens;
    this.usage.completionTokens += data.usage.completionTokens;
    this.usage.cachedPromptTokens += data.usage.cachedPromptTokens ?? 0;
    this.reasoning += data.reasoning;
    if (this.signal.aborted) throw new RunAbortedError();
    return data;
  }

  private record(turn: number, attempt: number, outcome: TurnOutcome, data: ModelCallData): void {
    this.turns.push({
      turn,
      attempt,
      backend: this.backend.id,
      effort: this.effort,
      outcome,
      finishReason: data.finishReason,
      promptTokens: data.usage.promptTokens,
      completionTokens: data.usage.completionTokens,
    });
  }

  /** The monitor stopped the call, or an output guardrail blocked the streaming answer. */
  private async *halt(data: ModelCallData): AsyncGenerator<LoopEvent, RunResult> {
    if (data.stopped !== undefined) {
      const reply = this.agent.options.stoppedReply ?? DEFAULT_STOPPED_REPLY;
      // The refusal is what the user saw: it is the assistant's reply in the stored conversation.
      this.add(assistantText('final', reply));
      return this.result('stopped', reply, { stop: { by: 'monitor', reason: data.stopped } });
    }
    const { guardrail, reason, reply } = data.blocked!;
    yield { type: 'guardrail_tripped', stage: 'output', guardrail, reason };
    // Only the reply is kept: the refused answer must not reach the model's context later either.
    this.add(assistantText('final', reply));
    return this.result('blocked', reply, { stop: { by: 'output_guardrail', reason } });
  }

  /** The answer passes the output guardrails as a whole; the rest of a gated answer is released. */
  private async *finish(
    messages: Message[],
    gate: OutputGate,
    output?: unknown,
  ): AsyncGenerator<LoopEvent, RunResult> {
    const finalMsg = messages.findLast(
      (m) => m.role === 'assistant' && m.channel === 'final' && !m.recipient,
    );
    const finalText = answerText(messages);
    const verdict = await gate.finish(finalText);
    if ('trip' in verdict) {
      const { guardrail, reason, reply } = verdict.trip;
      yield { type: 'guardrail_tripped', stage: 'output', guardrail, reason };
      // The refused answer must not reach the model's context later either.
      if (finalMsg) {
        finalMsg.content = [{ type: 'text', text: reply }];
        forgetRendered(finalMsg);
      }
      return this.result('blocked', reply, { stop: { by: 'output_guardrail', reason } });
    }
    // Gated text not released yet (the last sentence, or all of it in `answer` mode) passed with the whole.
    if (verdict.rest) yield { type: 'final_delta', turn: this.turns.at(-1)?.turn ?? 0, delta: verdict.rest };
    return this.result('completed', finalText, output !== undefined ? { output } : {});
  }
}
