/**
 * One model call, for every backend: the one place a backend's `stream()` is called. Token backends go through
 * the parser adapter (`TokenChunkStream`), message backends are read as they are; both give the same chunks, and
 * every chunk passes the same gates here. This is where the leak invariant holds: only `final` and `commentary`
 * text without a recipient can become `final_delta` / `preamble_delta`; the reasoning monitor passes before the
 * first word of each; answer text passes the output gate; and the first of {answer text, tool call} wins, so
 * one call never both answers and asks for another call.
 */
import type { Backend, FinishReason, TokenUsage } from '../backend/types.js';
import {
  answerText,
  finalPrefill,
  isToolCall,
  messageText,
  STOP_TOKENS_FOR_ASSISTANT_ACTIONS,
} from '../harmony/api.js';
import type { Message, ReasoningEffort } from '../harmony/types.js';
import type { Agent } from './agent.js';
import { ReasoningEchoFilter, type RecipientCheck, recipientCheck, settleTurn } from './leak-guard.js';
import { MonitorGate } from './monitor-gate.js';
import { type GuardTrip, OutputGate } from './output-gate.js';
import type { LoopEvent, RunOptions } from './run-options.js';
import { type ChunkStream, MessageChunkStream, TokenChunkStream } from './token-stream.js';
import { allToolConfigs } from './transcript.js';

export interface ModelCallRequest {
  agent: Agent;
  backend: Backend;
  effort: ReasoningEffort;
  /** System and developer messages. */
  head: readonly Message[];
  /** The history as the model sees it (finished turns' reasoning dropped). */
  view: readonly Message[];
  turn: number;
  attempt: number;
  /** Ask for the answer: token backends get the prompt prefilled with `<|channel|>final<|message|>`. */
  answerPrefill: boolean;
  run: { conversationId: string; input: string; signal: AbortSignal; options: RunOptions };
}

/** What one model call produced. */
export interface ModelCallData {
  messages: Message[];
  finishReason: FinishReason;
  usage: TokenUsage;
  reasoning: string;
  /** Set when the monitor stopped the call. */
  stopped?: string;
  /** Set when an output guardrail tripped while the answer streamed. */
  blocked?: GuardTrip;
  /** The answer gate of this call (the loop runs its check over the whole answer). */
  outputGate: OutputGate;
  /** Whether answer text reached the user during this call. */
  answered: boolean;
}

type Halt = { stopped: string } | { blocked: GuardTrip };

/** Opens the stream of one model call: the only `stream()` call in the runtime. */
function open(r: ModelCallRequest, signal: AbortSignal, isTool: RecipientCheck): ChunkStream {
  const { agent, backend } = r;
  const s = agent.options.sampling ?? {};
  const sampling = {
    ...(s.maxTokens !== undefined ? { maxTokens: s.maxTokens } : {}),
    ...(s.temperature !== undefined ? { temperature: s.temperature } : {}),
    ...(s.topP !== undefined ? { topP: s.topP } : {}),
    ...(s.seed !== undefined ? { seed: s.seed } : {}),
    signal,
  };
  const info = { turn: r.turn, attempt: r.attempt, backend: backend.id, effort: r.effort };
  const prefill = backend.kind === 'tokens' && r.answerPrefill ? finalPrefill() : [];
  const prompt = backend.kind === 'tokens' ? agent.prompts.render(r.head, r.view).concat(prefill) : [];
  const messages = backend.kind === 'tokens' ? [] : [...r.head, ...r.view];
  r.run.options.onModelCall?.(backend.kind === 'tokens' ? { ...info, prompt } : { ...info, messages });
  return backend.kind === 'tokens'
    ? new TokenChunkStream(
        backend.stream({ prompt, stop: [...STOP_TOKENS_FOR_ASSISTANT_ACTIONS], ...sampling }),
        { promptTokens: prompt.length, prefill, isTool },
      )
    : new MessageChunkStream(
        backend.stream({ messages, tools: allToolConfigs(agent), effort: r.effort, ...sampling }),
      );
}

/** Runs one model call through the gates, yielding the user-facing events; returns what it produced. */
export async function* callModel(r: ModelCallRequest): AsyncGenerator<LoopEvent, ModelCallData> {
  const { agent, turn } = r;
  const { conversationId, input, signal: runSignal, options } = r.run;
  const abort = new AbortController();
  const out = new OutputGate(
    agent.options.guardrails?.output ?? [],
    options.guardStreaming ?? agent.options.guardStreaming ?? 'sentence',
    { conversationId, signal: runSignal, input },
  );
  const gate = new MonitorGate(agent.options.monitor, { conversationId, input, signal: runSignal }, () =>
    abort.abort(),
  );
  // The turn's own abort is joined only when a monitor or an output gate may need it.
  const signal = agent.options.monitor || out.gating ? AbortSignal.any([runSignal, abort.signal]) : runSignal;
  const isTool = recipientCheck(agent.namespaces);
  const stream = open(r, signal, isTool);

  const opened = new Set<'preamble' | 'final'>();
  let reasoning = '';
  let called = false;
  let echo: ReasoningEchoFilter | undefined;
  const halted = async (
    halt: Halt,
    done?: { messages: Message[]; usage: TokenUsage },
  ): Promise<ModelCallData> => {
    const { messages, usage } = done ?? (await stream.settle());
    return {
      messages,
      usage,
      finishReason: 'abort',
      reasoning,
      outputGate: out,
      answered: opened.has('final'),
      ...halt,
    };
  };

  /** Shows one piece of user-facing text; returns why the call must end, if it must. */
  async function* show(
    kind: 'preamble' | 'final',
    /** `undefined`: the answer ended (text held back as a possible echo of the reasoning is let go). */
    delta: string | undefined,
  ): AsyncGenerator<LoopEvent, Halt | undefined> {
    if (!opened.has(kind)) {
      // The monitor must pass over all reasoning so far before the first word of a preamble and of the answer.
      const flag = await gate.verdict(reasoning);
      if (flag !== undefined) {
        abort.abort();
        yield { type: 'monitor_flagged', turn, monitor: gate.name, reason: flag };
        return { stopped: flag };
      }
      opened.add(kind);
    }
    if (kind === 'preamble') {
      if (delta) yield { type: 'preamble_delta', turn, delta };
      return undefined;
    }
    // Reasoning precedes the answer, so all of it is known by its first word.
    echo ??= new ReasoningEchoFilter(reasoning);
    const text = delta === undefined ? echo.end() : echo.push(delta);
    if (!text) return undefined;
    const released = await out.push(text);
    if (released) yield { type: 'final_delta', turn, delta: released };
    if (out.tripped) {
      abort.abort();
      return { blocked: out.tripped };
    }
    return undefined;
  }

  for await (const chunk of stream) {
    if (chunk.type === 'repair') {
      yield { type: 'harmony_repair', turn, kind: chunk.kind, detail: chunk.detail };
    } else if (chunk.type === 'call') {
      called = true;
      gate.observe(reasoning);
    } else if (chunk.type === 'delta') {
      if (chunk.channel === 'analysis') {
        reasoning += chunk.delta;
        if (options.includeReasoning) yield { type: 'reasoning_delta', turn, delta: chunk.delta };
      } else if (
        (chunk.channel === 'final' && called) ||
        (opened.has('final') && chunk.channel !== 'final')
      ) {
        // Written after a tool call, without its answer: never shown (the loop drops it too). A preamble after the
        // answer belongs to a call that is dropped: the answer stays the last thing shown.
      } else {
        // A reasoning segment ended: the monitor starts on it while the model goes on.
        gate.observe(reasoning);
        const halt = yield* show(chunk.channel === 'final' ? 'final' : 'preamble', chunk.delta);
        if (halt) return await halted(halt);
      }
    } else {
      const res = chunk.result;
      // Reasoning that was not streamed (re-split from leaked markup, or a non-streaming server).
      if (!reasoning) {
        reasoning = res.messages
          .filter((m) => m.channel === 'analysis' && !m.recipient)
          .map(messageText)
          .join('\n');
      }
      const flag = await gate.verdict(reasoning);
      if (flag !== undefined) {
        yield { type: 'monitor_flagged', turn, monitor: gate.name, reason: flag };
        return await halted({ stopped: flag }, res);
      }
      if (echo) {
        const halt = yield* show('final', undefined);
        if (halt) return await halted(halt, res);
      }
      const settled = settleTurn(res.messages, opened.has('final'), isTool, reasoning);
      for (const p of settled.repairs) yield { type: 'harmony_repair', turn, kind: p.kind, detail: p.detail };
      const { messages } = settled;
      if (!opened.has('final') && !messages.some(isToolCall)) {
        // Nothing was streamed as answer text: show the answer once, after the gates.
        const text = answerText(messages);
        const halt = text ? yield* show('final', text) : undefined;
        if (halt) return await halted(halt, res);
        const rest = echo ? yield* show('final', undefined) : undefined;
        if (rest) return await halted(rest, res);
      }
      return {
        messages,
        finishReason: runSignal.aborted ? 'abort' : res.finishReason,
        usage: res.usage,
        reasoning,
        outputGate: out,
        answered: opened.has('final'),
      };
    }
    if (gate.flagged !== undefined) {
      abort.abort();
      yield { type: 'monitor_flagged', turn, monitor: gate.name, reason: gate.flagged };
      return await halted({ stopped: gate.flagged });
    }
  }
  // A chunk stream always ends with `done`.
  throw new Error('model stream ended without a result');
}
