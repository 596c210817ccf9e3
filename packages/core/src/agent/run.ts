import { randomUUID } from 'node:crypto';
import { assistantText, messageText } from '../backend/messages.js';
import type {
  Backend,
  FinishReason,
  MessageBackend,
  RoutingDecision,
  TokenBackend,
  TokenUsage,
  TurnTrouble,
} from '../backend/types.js';
import { describeIssues } from '../functions/schema.js';
import { encodeText, STOP_TOKENS_FOR_ASSISTANT_ACTIONS, StreamParser, Tok } from '../harmony/api.js';
import type { Message, ReasoningEffort } from '../harmony/types.js';
import { type Agent, isChooser } from './agent.js';
import { classifyTurn, isToolCall, type TurnOutcome } from './classify.js';
import { executeCall, RepeatGuard, resolveRecipient } from './dispatch.js';
import {
  EmptyTurnError,
  MaxTurnsExceededError,
  OutputValidationError,
  ReasoningOnlyError,
  RunAbortedError,
  TruncatedTurnError,
  type TurnError,
} from './errors.js';
import type { RunEvent, TurnAction } from './events.js';
import { MonitorGate } from './monitor-gate.js';
import { type GuardStreaming, type GuardTrip, OutputGate } from './output-gate.js';
import { forgetRendered } from './prompt.js';
import type { RunResult, RunStatus, RunUsage, TurnRecord } from './result.js';
import { allToolConfigs, preamble, promptView, textMessage } from './transcript.js';

/** Why a model call ended early: the monitor stopped it, or an output guardrail blocked the answer. */
type Halt = { stopped: string } | { blocked: GuardTrip };

/** Per model call: the gates user-facing text passes, and which kinds of text were already let through. */
interface ShowState {
  gate: MonitorGate;
  out: OutputGate;
  abort: AbortController;
  opened: Set<'preamble' | 'final'>;
}

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
}

/** What one model call produced. */
interface TurnData {
  messages: Message[];
  finishReason: FinishReason;
  usage: TokenUsage;
  reasoning: string;
  /** Set when the monitor stopped the turn. */
  stopped?: string;
  /** Set when an output guardrail tripped while the answer streamed (sentence gating). */
  blocked?: GuardTrip;
}

/** Events the loop itself yields (`done` is added by `runStream`). */
type LoopEvent = Exclude<RunEvent, { type: 'done' }>;

const DEFAULT_STOPPED_REPLY = "Sorry, I can't help with that.";

/**
 * What starts a run: one user message, or Harmony messages to append as they are — user messages and/or the
 * tool messages answering a run that ended with `tool_calls` (the model is then called without a new user
 * message). Guardrails, routing and monitors see the last user message among them.
 */
export type RunInput = string | { messages: readonly Message[] };

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
  try {
    // The output was validated by the agent's own schema, so it has the schema's type.
    const result = (yield* state.drive()) as RunResult<TOutput>;
    yield { type: 'done', result };
    return result;
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    yield { type: 'error', error };
    throw error;
  } finally {
    await state.persist();
  }
}

class RunState {
  readonly conversationId: string;
  readonly signal: AbortSignal;
  private history: Message[] = [];
  private readonly newMessages: Message[] = [];
  private readonly usage: RunUsage = {
    promptTokens: 0,
    completionTokens: 0,
    cachedPromptTokens: 0,
    modelCalls: 0,
  };
  private readonly turns: TurnRecord[] = [];
  private readonly routing: RoutingDecision[] = [];
  private reasoning = '';
  private backend!: Backend;
  private effort: ReasoningEffort;
  private decision: RoutingDecision | undefined;
  private closeReason: string | undefined;
  private persisted = 0;
  /** System and developer messages of the last model call (the result's transcript starts with them). */
  private lastPreamble: Message[] | undefined;
  private loaded = false;
  /** The final text gate of the latest model call. */
  private outputGate: OutputGate | undefined;
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
    if (typeof input === 'string') {
      this.input = input;
      this.inputMessages = [textMessage('user', input)];
      this.hasUserInput = true;
    } else {
      this.inputMessages = input.messages.map((m) => structuredClone(m));
      const lastUser = this.inputMessages.findLast((m) => m.role === 'user');
      this.input = lastUser ? messageText(lastUser) : '';
      this.hasUserInput = lastUser !== undefined;
    }
    this.conversationId = options.conversationId ?? randomUUID();
    this.signal = options.signal ?? new AbortController().signal;
    this.effort = agent.effort;
  }

  private result(status: RunStatus, finalText: string, extra: Partial<RunResult> = {}): RunResult {
    return {
      status,
      finalText,
      conversationId: this.conversationId,
      transcript: [...(this.lastPreamble ?? preamble(this.agent, this.effort)), ...this.history],
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

  /** Saves what this run added, even when it failed: bad runs lose nothing. */
  async persist(): Promise<void> {
    if (!this.loaded) return;
    const fresh = this.newMessages.slice(this.persisted);
    this.persisted = this.newMessages.length;
    if (fresh.length) await this.agent.store.append(this.conversationId, fresh);
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

    for (const ns of agent.namespaces.values()) await ns.prepare?.(this.signal);
    this.add(...this.inputMessages);
    await this.choose();
    const guard = new RepeatGuard(agent.maxIdenticalCalls);
    let turn = 0;
    let attempt = 0;
    let retries = 0;
    let nudge = false;

    for (;;) {
      if (this.signal.aborted) throw new RunAbortedError();
      if (this.usage.modelCalls >= agent.maxTurns) throw new MaxTurnsExceededError(agent.maxTurns);
      this.usage.modelCalls++;
      yield {
        type: 'turn_started',
        turn,
        attempt,
        backend: this.backend.id,
        ...(this.decision ? { decision: this.decision } : {}),
      };
      let data: TurnData;
      try {
        data =
          this.backend.kind === 'tokens'
            ? yield* this.tokenTurn(this.backend, turn, attempt, nudge)
            : yield* this.messageTurn(this.backend, turn, attempt);
      } catch (err) {
        throw this.signal.aborted ? new RunAbortedError() : err;
      }
      this.usage.promptTokens += data.usage.promptTokens;
      this.usage.completionTokens += data.usage.completionTokens;
      this.usage.cachedPromptTokens += data.usage.cachedPromptTokens ?? 0;
      this.reasoning += data.reasoning;
      if (this.signal.aborted) throw new RunAbortedError();
      const outcome: TurnOutcome = classifyTurn(data.messages, data.finishReason);
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
      const outcomeEvent = (action: TurnAction): LoopEvent => ({
        type: 'turn_outcome',
        turn,
        outcome,
        action,
      });

      if (data.stopped !== undefined) {
        yield outcomeEvent('stop');
        const reply = agent.options.stoppedReply ?? DEFAULT_STOPPED_REPLY;
        // The refusal is what the user saw: it is the assistant's reply in the stored conversation.
        this.add(assistantText('final', reply));
        return this.result('stopped', reply, { stop: { by: 'monitor', reason: data.stopped } });
      }

      if (data.blocked !== undefined) {
        yield outcomeEvent('stop');
        const { guardrail, reason, reply } = data.blocked;
        yield { type: 'guardrail_tripped', stage: 'output', guardrail, reason };
        // Only the reply is kept: the refused answer must not reach the model's context later either.
        this.add(assistantText('final', reply));
        return this.result('blocked', reply, { stop: { by: 'output_guardrail', reason } });
      }

      if (outcome === 'final') {
        this.add(...data.messages);
        const structured = this.parseOutput(data.messages);
        if (structured && !structured.ok) {
          if (retries >= agent.maxRetries) {
            yield outcomeEvent('fail');
            throw new OutputValidationError(structured.problems, structured.text, retries + 1);
          }
          retries++;
          attempt++;
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
        return yield* this.finish(data.messages, structured?.value);
      }

      if (outcome === 'tool_call') {
        const lastCall = data.messages.findLastIndex(isToolCall);
        // Anything after the last call was written without the tool's answer: drop it.
        const kept = data.messages.slice(0, lastCall + 1);
        this.add(...kept);
        yield outcomeEvent('run_tools');
        const calls = kept.filter(isToolCall);
        const external = calls.filter((c) => this.isExternal(c));
        yield* this.runTools(
          calls.filter((c) => !external.includes(c)),
          turn,
          guard,
        );
        if (external.length) {
          return this.result('tool_calls', '', {
            pendingCalls: external.map((c) => ({
              recipient: c.recipient ?? '',
              arguments: messageText(c),
              channel: c.channel ?? 'commentary',
            })),
          });
        }
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

  /** Whether a call goes to a namespace the caller answers. */
  private isExternal(call: Message): boolean {
    try {
      return resolveRecipient(call.recipient ?? '', this.agent.namespaces).namespace.external === true;
    } catch {
      return false;
    }
  }

  /** Validates a structured final answer (fenced or bare JSON) with the agent's output schema. */
  private parseOutput(
    messages: Message[],
  ): { ok: true; value: unknown } | { ok: false; problems: string; text: string } | undefined {
    const schema = this.agent.options.output?.schema;
    if (!schema) return undefined;
    const finalMsg = messages.findLast((m) => m.channel === 'final' && m.role === 'assistant');
    const text = finalMsg ? messageText(finalMsg).trim() : '';
    const body = /^```(?:json)?\s*([\s\S]*?)\s*```$/.exec(text)?.[1] ?? text;
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (err) {
      return { ok: false, problems: `not JSON: ${(err as Error).message}`, text };
    }
    const parsed = schema.safeParse(json);
    return parsed.success
      ? { ok: true, value: parsed.data }
      : { ok: false, problems: describeIssues(parsed.error), text };
  }

  private async *finish(messages: Message[], output?: unknown): AsyncGenerator<LoopEvent, RunResult> {
    const finalMsg = messages.findLast((m) => m.channel === 'final' && m.role === 'assistant');
    const finalText = finalMsg ? messageText(finalMsg) : '';
    const verdict = await (this.outputGate ?? this.newOutputGate()).finish(finalText);
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

  private async *runTools(
    calls: Message[],
    turn: number,
    guard: RepeatGuard,
  ): AsyncGenerator<LoopEvent, void> {
    const started = calls.map((call, i) => ({ call, callId: `${turn}.${i}`, t0: performance.now() }));
    for (const s of started) {
      yield {
        type: 'tool_call_started',
        turn,
        callId: s.callId,
        recipient: s.call.recipient ?? '',
        channel: s.call.channel ?? 'commentary',
        arguments: messageText(s.call),
      };
    }
    // Parallel calls run concurrently; answers go back in call order.
    const ctx = { conversationId: this.conversationId, signal: this.signal };
    if (!calls.length) return;
    const settled = await Promise.allSettled(
      started.map(async (s) => {
        const o = await executeCall(s.call, this.agent.namespaces, guard, ctx);
        return { ...o, durationMs: performance.now() - s.t0 };
      }),
    );
    for (const r of settled) {
      if (r.status === 'rejected') throw this.signal.aborted ? new RunAbortedError() : r.reason;
    }
    for (const [i, r] of settled.entries()) {
      if (r.status !== 'fulfilled') continue;
      const s = started[i]!;
      const o = r.value;
      this.add(o.message);
      yield {
        type: 'tool_call_finished',
        turn,
        callId: s.callId,
        recipient: s.call.recipient ?? '',
        output: o.output.text,
        ...(o.error !== undefined ? { error: o.error } : {}),
        durationMs: o.durationMs,
      };
      if (o.endConversation !== undefined && this.closeReason === undefined) {
        this.closeReason = o.endConversation;
        yield { type: 'conversation_closed', reason: o.endConversation };
      }
    }
  }

  /** The run's signal, joined with the turn's own abort only when a monitor or an output gate may need it. */
  private turnSignal(abort: AbortController): AbortSignal {
    return this.agent.options.monitor || this.outputGate?.gating
      ? AbortSignal.any([this.signal, abort.signal])
      : this.signal;
  }

  /** A fresh final-text gate for one model call (each call's answer is checked on its own). */
  private newOutputGate(): OutputGate {
    this.outputGate = new OutputGate(
      this.agent.options.guardrails?.output ?? [],
      this.options.guardStreaming ?? this.agent.options.guardStreaming ?? 'sentence',
      { conversationId: this.conversationId, signal: this.signal, input: this.input },
    );
    return this.outputGate;
  }

  private monitorGate(abort: AbortController): MonitorGate {
    return new MonitorGate(
      this.agent.options.monitor,
      { conversationId: this.conversationId, input: this.input, signal: this.signal },
      () => abort.abort(),
    );
  }

  /**
   * Shows one piece of user-facing text. The reasoning monitor must pass before the first word of a preamble and
   * of the answer; answer text then goes through the output gate. Returns why the turn must end, if it must.
   */
  private async *show(
    kind: 'preamble' | 'final',
    delta: string,
    turn: number,
    reasoning: string,
    st: ShowState,
  ): AsyncGenerator<LoopEvent, Halt | undefined> {
    if (!st.opened.has(kind)) {
      const flag = await st.gate.verdict(reasoning);
      if (flag !== undefined) {
        st.abort.abort();
        yield { type: 'monitor_flagged', turn, monitor: st.gate.name, reason: flag };
        return { stopped: flag };
      }
      st.opened.add(kind);
    }
    if (kind === 'preamble') {
      yield { type: 'preamble_delta', turn, delta };
      return undefined;
    }
    const released = await st.out.push(delta);
    if (released) yield { type: 'final_delta', turn, delta: released };
    if (st.out.tripped) {
      st.abort.abort();
      return { blocked: st.out.tripped };
    }
    return undefined;
  }

  private async *tokenTurn(
    backend: TokenBackend,
    turn: number,
    attempt: number,
    nudge: boolean,
  ): AsyncGenerator<LoopEvent, TurnData> {
    this.lastPreamble = preamble(this.agent, this.effort);
    // Same tokens as renderConversationForCompletion(preamble + view, 'assistant'), rendered incrementally.
    let prompt = this.agent.prompts.render(this.lastPreamble, promptView(this.history));
    const parser = new StreamParser({ role: 'assistant' });
    if (nudge) {
      const prefill = [Tok.channel, ...encodeText('final'), Tok.message];
      prompt = prompt.concat(prefill);
      for (const t of prefill) parser.push(t);
    }
    this.options.onModelCall?.({ turn, attempt, backend: backend.id, effort: this.effort, prompt });
    const abort = new AbortController();
    const gate = this.monitorGate(abort);
    const out = this.newOutputGate();
    const signal = this.turnSignal(abort);
    const s = this.agent.options.sampling ?? {};
    let channel: string | null = nudge ? 'final' : null;
    let recipient: string | null = null;
    let reasoning = '';
    const shown: ShowState = { gate, out, abort, opened: new Set() };
    let finishReason: FinishReason = 'stop';
    let usage: TokenUsage = { promptTokens: prompt.length, completionTokens: 0 };
    const halted = (halt: Halt): TurnData => ({
      messages: parser.messages,
      finishReason: 'abort',
      usage,
      reasoning,
      ...halt,
    });

    const stream = backend.stream({
      prompt,
      stop: [...STOP_TOKENS_FOR_ASSISTANT_ACTIONS],
      ...(s.maxTokens !== undefined ? { maxTokens: s.maxTokens } : {}),
      ...(s.temperature !== undefined ? { temperature: s.temperature } : {}),
      ...(s.topP !== undefined ? { topP: s.topP } : {}),
      ...(s.seed !== undefined ? { seed: s.seed } : {}),
      signal,
    });
    for await (const chunk of stream) {
      if (chunk.type === 'finish') {
        finishReason = chunk.finishReason;
        usage = chunk.usage;
        continue;
      }
      for (const tok of chunk.tokens) {
        for (const ev of parser.push(tok)) {
          if (ev.type === 'header') {
            channel = ev.channel;
            recipient = ev.recipient;
          } else if (ev.type === 'repair') {
            yield { type: 'harmony_repair', turn, kind: ev.kind, detail: ev.detail };
          } else if (ev.type === 'message_done') {
            if (ev.message.channel === 'analysis') gate.observe(reasoning);
          } else if (ev.type === 'content_delta' && !recipient) {
            if (channel === 'final' || channel === 'commentary') {
              const kind = channel === 'final' ? 'final' : 'preamble';
              const halt = yield* this.show(kind, ev.delta, turn, reasoning, shown);
              if (halt) return halted(halt);
            } else {
              // analysis, or a message without a channel (headerless refusals): reasoning, never user-facing.
              reasoning += ev.delta;
              if (this.options.includeReasoning) yield { type: 'reasoning_delta', turn, delta: ev.delta };
            }
          }
        }
      }
      if (gate.flagged !== undefined) break;
    }
    for (const ev of parser.end()) {
      if (ev.type === 'repair') yield { type: 'harmony_repair', turn, kind: ev.kind, detail: ev.detail };
    }
    const flag = await gate.verdict(reasoning);
    if (flag !== undefined) {
      yield { type: 'monitor_flagged', turn, monitor: gate.name, reason: flag };
      return halted({ stopped: flag });
    }
    if (this.signal.aborted) finishReason = 'abort';
    return { messages: parser.messages, finishReason, usage, reasoning };
  }

  private async *messageTurn(
    backend: MessageBackend,
    turn: number,
    attempt: number,
  ): AsyncGenerator<LoopEvent, TurnData> {
    this.lastPreamble = preamble(this.agent, this.effort);
    const messages = [...this.lastPreamble, ...promptView(this.history)];
    this.options.onModelCall?.({ turn, attempt, backend: backend.id, effort: this.effort, messages });
    const abort = new AbortController();
    const gate = this.monitorGate(abort);
    const out = this.newOutputGate();
    const s = this.agent.options.sampling ?? {};
    let reasoning = '';
    const shown: ShowState = { gate, out, abort, opened: new Set() };
    const stream = backend.stream({
      messages,
      tools: allToolConfigs(this.agent),
      effort: this.effort,
      ...(s.maxTokens !== undefined ? { maxTokens: s.maxTokens } : {}),
      ...(s.temperature !== undefined ? { temperature: s.temperature } : {}),
      ...(s.topP !== undefined ? { topP: s.topP } : {}),
      ...(s.seed !== undefined ? { seed: s.seed } : {}),
      signal: this.turnSignal(abort),
    });
    const halted = (halt: Halt): TurnData => ({
      messages: [],
      finishReason: 'abort',
      usage: { promptTokens: 0, completionTokens: 0 },
      reasoning,
      ...halt,
    });
    for await (const chunk of stream) {
      if (chunk.type === 'done') {
        const r = chunk.result;
        // Reasoning that was not streamed (re-split from leaked markup, or a non-streaming server).
        if (!reasoning) {
          reasoning = r.messages
            .filter((m) => m.channel === 'analysis' && !m.recipient)
            .map(messageText)
            .join('\n');
        }
        const flag = await gate.verdict(reasoning);
        if (flag !== undefined) {
          yield { type: 'monitor_flagged', turn, monitor: gate.name, reason: flag };
          return halted({ stopped: flag });
        }
        if (!shown.opened.has('final')) {
          // Nothing was streamed as answer text: emit the final answer once, after the gate.
          const text = r.messages
            .filter((m) => m.channel === 'final' && !m.recipient)
            .map(messageText)
            .join('');
          const halt = text ? yield* this.show('final', text, turn, reasoning, shown) : undefined;
          if (halt) return halted(halt);
        }
        return {
          messages: r.messages,
          finishReason: this.signal.aborted ? 'abort' : r.finishReason,
          usage: r.usage,
          reasoning,
        };
      }
      if (chunk.channel === 'analysis') {
        reasoning += chunk.delta;
        gate.observe(reasoning);
        if (this.options.includeReasoning) yield { type: 'reasoning_delta', turn, delta: chunk.delta };
      } else {
        const kind = chunk.channel === 'commentary' ? 'preamble' : 'final';
        const halt = yield* this.show(kind, chunk.delta, turn, reasoning, shown);
        if (halt) return halted(halt);
      }
      if (gate.flagged !== undefined) {
        abort.abort();
        yield { type: 'monitor_flagged', turn, monitor: gate.name, reason: gate.flagged };
        return halted({ stopped: gate.flagged });
      }
    }
    return {
      messages: [],
      finishReason: 'error',
      usage: { promptTokens: 0, completionTokens: 0 },
      reasoning,
    };
  }
}

function turnError(outcome: TurnOutcome, attempts: number): TurnError {
  if (outcome === 'truncated') {
    return new TruncatedTurnError(
      `The model's answer was cut off by the token limit ${attempts} times in a row. Raise sampling.maxTokens or lower the reasoning effort.`,
      outcome,
      attempts,
    );
  }
  if (outcome === 'reasoning_only') {
    return new ReasoningOnlyError(
      `The model reasoned but never wrote an answer (${attempts} attempts, including a nudge to answer).`,
      outcome,
      attempts,
    );
  }
  return new EmptyTurnError(
    `The model returned nothing readable ${attempts} times in a row (no text, no tool call). Check the server's Harmony handling with 'harmonia doctor'.`,
    outcome,
    attempts,
  );
}
